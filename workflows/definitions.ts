/**
 * Names shared by the workflows and their callers (API, tests): updates, queries, search attributes.
 * Importing this from Node code is safe: it only defines names.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type {
  AffectedService,
  Detection,
  IncidentState,
  IncidentView,
  Recipient,
  Recovery,
  StatusState,
  UpdateResult,
} from '../domain/incident.js';
import type { Severity } from '../domain/config-schema.js';

export const incidentServiceKey = defineSearchAttributeKey('IncidentService', SearchAttributeType.KEYWORD);
export const incidentSeverityKey = defineSearchAttributeKey('IncidentSeverity', SearchAttributeType.KEYWORD);
export const incidentStateKey = defineSearchAttributeKey('IncidentState', SearchAttributeType.KEYWORD);
export const searchAttributeNames = ['IncidentService', 'IncidentSeverity', 'IncidentState'] as const;

/** Failure types the workflow rejects updates with; the API maps them to HTTP statuses. */
export const rejection = {
  closed: 'IncidentClosed',
  invalid: 'InvalidRequest',
  /** The request would change nothing (the same severity again): the API answers 409. */
  conflict: 'Conflict',
} as const;

export interface ReportResult {
  id: string;
  /** false when the report joined an incident that was already open. */
  opened: boolean;
  state: IncidentState;
  /** The sequence of the timeline event the report recorded (0 when it was only counted). */
  seq?: number;
}

export interface StaffAction {
  actor: string;
  /** The incident the caller means; a newer incident of the same service refuses the action. */
  incidentId?: string;
}

/** Longest note the workflow accepts (characters). */
export const maxNoteLength = 10_000;

/**
 * What staff updates answer. Histories recorded before the record store answer the whole view;
 * current runs answer `{ id, state, seq }` (every update result is kept in history).
 */
export type StaffUpdateResult = UpdateResult | IncidentView;

export const viewQuery = defineQuery<IncidentView>('view');
export const reportUpdate = defineUpdate<ReportResult, [Detection]>('report');
/** Something that reported the problem recovered (a monitor's check, an external alert resolved). */
export const recoveredUpdate = defineUpdate<StaffUpdateResult, [Recovery]>('recovered');
export const acknowledgeUpdate = defineUpdate<StaffUpdateResult, [StaffAction]>('acknowledge');
export const resolveUpdate = defineUpdate<StaffUpdateResult, [StaffAction & { note?: string }]>('resolve');
/** Close it now without probe proof (admin), with a reason: the timeline says so. */
export const forceResolveUpdate = defineUpdate<StaffUpdateResult, [StaffAction & { reason: string }]>(
  'forceResolve',
);
/**
 * Change the severity (responder or higher); the API passes the new severity's rule from config, so
 * auto-publish and the communication deadline are re-evaluated (domain/severity.ts).
 */
export const changeSeverityUpdate = defineUpdate<
  StaffUpdateResult,
  [
    StaffAction & {
      severity: Severity;
      reason?: string;
      rule: { autoPublish: boolean; postmortemDueDays: number; communicationDeadlineMs?: number };
    },
  ]
>('changeSeverity');
/**
 * Add a responder (responder or higher): the API passes the contact as config has it (with their
 * methods and notification rules); they are paged at once and stay among the incident's recipients.
 */
export const addResponderUpdate = defineUpdate<
  StaffUpdateResult,
  [StaffAction & { contactId: string; contact?: Recipient; note?: string }]
>('addResponder');
/**
 * Snooze an acknowledged incident (responder or higher) until a UTC time or for a duration (`30m`),
 * at most 24 h: then it is triggered and paged again, unless resolved first (domain/snooze.ts).
 */
export const snoozeUpdate = defineUpdate<StaffUpdateResult, [StaffAction & { until: string }]>('snooze');
/**
 * Merge this incident into another (responder or higher): it closes as merged, with no postmortem
 * or resolved notice of its own. The API first has the target take it in (`absorbUpdate`).
 */
export const mergeIntoUpdate = defineUpdate<
  StaffUpdateResult,
  [StaffAction & { into: string; reason?: string }]
>('mergeInto');
/**
 * Take in an incident merged into this one: recorded with its actor, its services join the affected
 * ones, its people are told when this one is resolved, and a higher severity raises this one's.
 */
export const absorbUpdate = defineUpdate<
  StaffUpdateResult,
  [
    StaffAction & {
      from: {
        id: string;
        serviceId: string;
        serviceName: string;
        severity: Severity;
        openedAt: string;
        reason: string;
        affected: AffectedService[];
        recipients: Recipient[];
      };
      reason?: string;
      /** The rule of the merged incident's severity, used when it raises this one's. */
      rule: { autoPublish: boolean; postmortemDueDays: number; communicationDeadlineMs?: number };
    },
  ]
>('absorb');
export const noteUpdate = defineUpdate<StaffUpdateResult, [StaffAction & { text: string }]>('note');
export const publishStatusUpdate = defineUpdate<
  StaffUpdateResult,
  [StaffAction & { state: StatusState; message?: string }]
>('publishStatus');

/**
 * A channel's service reported what became of a page (Twilio's status callback, an SMS gateway's
 * delivery webhook), through the signed receipt URL the page carried: recorded as a delivery attempt.
 */
export interface DeliveryReceipt {
  /** The incident the receipt URL names; a newer incident of the service (same workflow id) ignores it. */
  incidentId?: string;
  recipientId: string;
  channel: string;
  status: 'delivered' | 'failed';
  /** The service's message id, when it gave one (a receipt repeated for it is recorded once). */
  messageId?: string;
  /** The service's own words for a failure (`30003 Unreachable destination handset`). */
  detail?: string;
}
export const deliveryReceiptSignal = defineSignal<[DeliveryReceipt]>('deliveryReceipt');

export const taskQueueDefault = 'incidents';

/** The workflow id of a service's incident: one open incident per service, by construction. */
export function incidentWorkflowId(serviceId: string): string {
  return `incident-${serviceId}`;
}

/** The public incident id: the service and the run, so every incident of a service is addressable. */
export function incidentId(serviceId: string, runId: string): string {
  return `${serviceId}.${runId}`;
}

export function parseIncidentId(id: string): { workflowId: string; runId?: string } | undefined {
  const m =
    /^([a-z0-9][a-z0-9-]*)(?:\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}))?$/.exec(id);
  if (!m) return undefined;
  return { workflowId: incidentWorkflowId(m[1]!), runId: m[2] };
}
