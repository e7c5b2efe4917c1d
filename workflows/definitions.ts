/**
 * Names shared by the workflows and their callers (API, tests): updates, queries, search attributes.
 * Importing this from Node code is safe: it only defines names.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Detection, IncidentState, IncidentView, Recovery, StatusState } from '../domain/incident.js';

export const incidentServiceKey = defineSearchAttributeKey('IncidentService', SearchAttributeType.KEYWORD);
export const incidentSeverityKey = defineSearchAttributeKey('IncidentSeverity', SearchAttributeType.KEYWORD);
export const incidentStateKey = defineSearchAttributeKey('IncidentState', SearchAttributeType.KEYWORD);
export const searchAttributeNames = ['IncidentService', 'IncidentSeverity', 'IncidentState'] as const;

/** Failure types the workflow rejects updates with; the API maps them to HTTP statuses. */
export const rejection = {
  closed: 'IncidentClosed',
  invalid: 'InvalidRequest',
} as const;

export interface ReportResult {
  id: string;
  /** false when the report joined an incident that was already open. */
  opened: boolean;
  state: IncidentState;
}

export interface StaffAction {
  actor: string;
}

export const viewQuery = defineQuery<IncidentView>('view');
export const reportUpdate = defineUpdate<ReportResult, [Detection]>('report');
/** Something that reported the problem recovered (a monitor's check, an external alert resolved). */
export const recoveredUpdate = defineUpdate<IncidentView, [Recovery]>('recovered');
export const acknowledgeUpdate = defineUpdate<IncidentView, [StaffAction]>('acknowledge');
export const resolveUpdate = defineUpdate<IncidentView, [StaffAction & { note?: string }]>('resolve');
export const noteUpdate = defineUpdate<IncidentView, [StaffAction & { text: string }]>('note');
export const publishStatusUpdate = defineUpdate<
  IncidentView,
  [StaffAction & { state: StatusState; message?: string }]
>('publishStatus');

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
