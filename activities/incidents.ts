/**
 * Activities through which monitors open, join and recover incidents. They use the same client code
 * as the API (client/incidents.ts); the event id makes a retried activity count once.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Detection } from '../domain/incident.js';
import {
  reportIncident,
  reportRecovery,
  rootIncidentService,
  type IncidentClientOptions,
} from '../client/incidents.js';

export interface OpenForCheckInput {
  serviceId: string;
  checkId: string;
  eventId: string;
  reason: string;
  /** The first failing probe of the streak that made the check fail (UTC ISO-8601). */
  firstFailureAt?: string;
}

export interface OpenForCheckResult {
  incidentId: string;
  /** The service whose incident it is: the check's own, or the root cause it depends on. */
  incidentService: string;
  opened: boolean;
}

export function createIncidentActivities(deps: IncidentClientOptions | undefined) {
  const need = () => {
    if (!deps)
      throw ApplicationFailure.nonRetryable('the worker was started without a Temporal client for incidents');
    return deps;
  };
  return {
    /** Opens the incident for a failing check, or joins the open incident of what its service depends on. */
    async openIncidentForCheck(i: OpenForCheckInput): Promise<OpenForCheckResult> {
      const o = need();
      const root = await rootIncidentService(o, i.serviceId);
      const detection: Detection = {
        eventId: i.eventId,
        source: 'probe',
        actor: `monitor:${i.checkId}`,
        reason: i.reason,
        // The monitor already saw the failure `failThreshold` times in a row: that is the verification.
        skipVerify: true,
        key: `check:${i.checkId}`,
        fromService: i.serviceId,
        ...(i.firstFailureAt ? { firstFailureAt: i.firstFailureAt } : {}),
      };
      const r = await reportIncident(o, root, detection);
      return { incidentId: r.id, incidentService: root, opened: r.opened };
    },

    /** Tells the incident that a check which reported it has recovered (proven by the monitor). */
    async recoverIncidentForCheck(i: {
      incidentService: string;
      checkId: string;
      eventId: string;
      detail: string;
    }) {
      const o = need();
      const view = await reportRecovery(o, i.incidentService, {
        eventId: i.eventId,
        key: `check:${i.checkId}`,
        actor: `monitor:${i.checkId}`,
        detail: i.detail,
      });
      return { state: view?.state };
    },
  };
}
