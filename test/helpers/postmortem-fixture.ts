/**
 * The seed incident moved to a chosen resolution time and service, ready to hand to the postmortem
 * workflow directly (the way the incident starts it as a child), plus the start call itself.
 */
import { randomUUID } from 'node:crypto';
import type { IncidentView } from '../../domain/incident.js';
import { incidentWorkflowId } from '../../workflows/definitions.js';
import { postmortemWorkflowId } from '../../workflows/postmortem-definitions.js';
import type { PostmortemInput, postmortemWorkflow } from '../../workflows/postmortem.js';
import type { Harness } from './harness.js';
import { buildIncidentView } from './incident-fixture.js';

/** The seed incident with every time shifted so that it resolved at `resolvedAt`. */
export function shiftedIncident(o: {
  serviceId: string;
  resolvedAt: string;
  timeZone?: string;
}): IncidentView {
  const base = buildIncidentView();
  const delta = Date.parse(o.resolvedAt) - Date.parse(base.resolvedAt!);
  const shift = (iso: string) => new Date(Date.parse(iso) + delta).toISOString();
  const maybe = (iso: string | undefined) => (iso === undefined ? undefined : shift(iso));
  return {
    ...base,
    id: `${o.serviceId}.${randomUUID()}`,
    workflowId: incidentWorkflowId(o.serviceId),
    service: { ...base.service, id: o.serviceId, timezone: o.timeZone ?? 'Europe/Oslo' },
    openedAt: shift(base.openedAt),
    verifiedAt: maybe(base.verifiedAt),
    acknowledgedAt: maybe(base.acknowledgedAt),
    resolveRequestedAt: maybe(base.resolveRequestedAt),
    resolvedAt: maybe(base.resolvedAt),
    closedAt: maybe(base.closedAt),
    paged: base.paged.map((p) => ({ ...p, at: shift(p.at) })),
    status: base.status.map((s) => ({ ...s, at: shift(s.at) })),
    timeline: base.timeline.map((e) => ({ ...e, at: shift(e.at) })),
  };
}

/** Starts the postmortem of `input.view` on the harness's worker, as the incident would. */
export function startPostmortem(h: Harness, input: PostmortemInput) {
  return h.client.workflow.start<typeof postmortemWorkflow>('postmortemWorkflow', {
    taskQueue: h.taskQueue,
    workflowId: postmortemWorkflowId(input.view?.id ?? input.incidentId ?? ''),
    args: [input],
  });
}

/** Today's date in a time zone, `YYYY-MM-DD`. */
export function todayIn(timeZone: string, plusDays = 0): string {
  const d = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date());
  return new Date(Date.parse(`${d}T00:00:00Z`) + plusDays * 86_400_000).toISOString().slice(0, 10);
}
