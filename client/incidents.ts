/**
 * Opening, joining and recovering incidents from outside a workflow: the API, the monitors'
 * activities and the inbound-event receivers all go through here, so there is one way to do it.
 */
import { createHash } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Config } from '../domain/config-schema.js';
import type { Detection, IncidentState, Recovery } from '../domain/incident.js';
import { affectedServices, buildIncidentInput, dependencyClosure, serviceById } from '../domain/model.js';
import {
  incidentServiceKey,
  incidentSeverityKey,
  incidentStateKey,
  incidentWorkflowId,
  recoveredUpdate,
  reportUpdate,
  type ReportResult,
} from '../workflows/definitions.js';

export interface IncidentClientOptions {
  client: Client;
  config: Config;
  taskQueue: string;
  publicBaseUrl?: string;
}

/**
 * Opens the service's incident, or joins the open one (update-with-start, conflict policy
 * USE_EXISTING). The detection's event id is the update id, so a retried delivery is recorded once.
 */
export async function reportIncident(
  o: IncidentClientOptions,
  serviceId: string,
  detection: Detection,
): Promise<ReportResult> {
  const service = serviceById(o.config, serviceId);
  if (!service) throw new Error(`unknown service "${serviceId}"`);
  const input = buildIncidentInput(o.config, service.id, detection, { publicBaseUrl: o.publicBaseUrl });
  const attemptOp = () =>
    new WithStartWorkflowOperation('incidentWorkflow', {
      workflowId: incidentWorkflowId(service.id),
      taskQueue: o.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: [
        { key: incidentServiceKey, value: service.id },
        { key: incidentSeverityKey, value: input.severity },
        { key: incidentStateKey, value: 'verifying' },
      ],
    });
  return retryAborted(() =>
    o.client.workflow.executeUpdateWithStart(reportUpdate, {
      args: [input.detection],
      updateId: updateIdFor(detection.eventId),
      // A start operation is used once: each attempt gets its own.
      startWorkflowOperation: attemptOp(),
    }),
  );
}

/**
 * Where a failure of `serviceId` belongs: the open incident of something it depends on (its root
 * cause); else the open incident of something that depends on it (the customer-first order: a report
 * opened the integration's incident, then the host it runs on fails); else its own. One outage is one
 * incident either way: a dependent's check that fails because the data-sync host is down joins the
 * host's incident, and the host's failure joins the integration's incident that is already paging.
 */
export async function rootIncidentService(o: IncidentClientOptions, serviceId: string): Promise<string> {
  const dependents = affectedServices(o.config, serviceId)
    .filter((a) => !a.root)
    .map((a) => a.id);
  for (const dep of [...dependencyClosure(o.config, serviceId).slice(1), ...dependents]) {
    try {
      const d = await o.client.workflow.getHandle(incidentWorkflowId(dep)).describe();
      if (d.status.name === 'RUNNING') {
        const state = d.typedSearchAttributes.get(incidentStateKey);
        if (state !== 'dismissed' && state !== 'resolved') return dep;
      }
    } catch (e) {
      if (!(e instanceof WorkflowNotFoundError)) throw e;
    }
  }
  return serviceId;
}

/**
 * Tells the open incident of `serviceId` that something which reported it recovered. Returns the
 * view, or undefined when no incident is open (nothing to tell).
 */
export async function reportRecovery(
  o: IncidentClientOptions,
  serviceId: string,
  recovery: Recovery,
): Promise<{ state: IncidentState; seq?: number } | undefined> {
  const handle = o.client.workflow.getHandle(incidentWorkflowId(serviceId));
  try {
    const r = await handle.executeUpdate(recoveredUpdate, {
      args: [recovery],
      updateId: updateIdFor(recovery.eventId),
    });
    return { state: r.state, ...('seq' in r ? { seq: r.seq } : {}) };
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return undefined;
    // Closed incidents reject the update: the recovery has nothing left to do.
    if ((e as { cause?: { type?: string } }).cause?.type === 'IncidentClosed') return undefined;
    throw e;
  }
}

/**
 * True when Temporal aborted an update before the workflow accepted it: the run continued-as-new
 * under it, or its workflow task failed or timed out under load (`WorkflowNotReady`, "update was
 * aborted"). Nothing was applied, so the same update may be sent again.
 */
export function isAbortedUpdate(e: unknown): boolean {
  for (let x: unknown = e, depth = 0; x && depth < 5; x = (x as { cause?: unknown }).cause, depth++) {
    const m = `${(x as { message?: string }).message ?? ''} ${(x as { details?: string }).details ?? ''}`;
    if (/unexpected workflow task failure|update was aborted|WorkflowNotReady|continued as new/i.test(m))
      return true;
  }
  return false;
}

/** Runs an update, again (up to 6 times, 0.2–2 s apart) while Temporal aborts it before acceptance. */
export async function retryAborted<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= 5 || !isAbortedUpdate(e)) throw e;
      await new Promise((r) => setTimeout(r, Math.min(2_000, 200 * 2 ** attempt)));
    }
  }
}

/** Update ids have a length limit; event ids from outside (dedup keys) may be long. */
function updateIdFor(eventId: string): string {
  return eventId.length <= 200 ? eventId : createHash('sha256').update(eventId).digest('hex');
}
