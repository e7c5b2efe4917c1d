/**
 * Merging one incident into another by hand (staff see that two incidents are one outage): the
 * merged one closes as "merged into <target>" with no postmortem and no resolved notice of its own;
 * the target records it, lists its service among the affected ones, tells its people when the
 * outage is resolved, and takes its severity when that is higher. Pure: the API and the workflow
 * both ask here.
 */
import type { IncidentState } from './incident.js';
import { closedStates } from './incident.js';

export interface MergeSide {
  id: string;
  state: IncidentState;
  serviceId: string;
}

export type MergeDecision =
  { ok: true } | { ok: false; status: 400 | 404 | 409; code: string; message: string };

/** Whether `source` may be merged into `target` (undefined: no such incident). */
export function mergeDecision(a: {
  source: MergeSide;
  target: MergeSide | undefined;
  into: string;
  reason?: string;
  maxReasonLength: number;
}): MergeDecision {
  if (typeof a.into !== 'string' || a.into.trim() === '')
    return invalid('into: name the incident to merge this one into');
  if (a.reason !== undefined && (typeof a.reason !== 'string' || a.reason.length > a.maxReasonLength))
    return invalid(`reason: at most ${a.maxReasonLength} characters`);
  if (a.into === a.source.id) return invalid('into: an incident cannot be merged into itself');
  if (closedStates.includes(a.source.state))
    return conflict(
      `incident ${a.source.id} is already ${a.source.state}: only an open incident can be merged`,
    );
  if (!a.target)
    return { ok: false, status: 404, code: 'not_found', message: `into: no incident "${a.into}"` };
  if (a.target.serviceId === a.source.serviceId)
    return invalid(
      'into: that is an incident of the same service; reports of a service already join its open incident',
    );
  if (closedStates.includes(a.target.state))
    return conflict(
      `into: incident ${a.target.id} is already ${a.target.state}; merge into an open incident, or reopen it first`,
    );
  return { ok: true };
}

/** The merged incident's last timeline line (and its resolution detail). */
export function mergedIntoText(actor: string, into: string, reason?: string): string {
  return `${actor} merged this incident into ${into}${reason?.trim() ? `: ${reason.trim()}` : ''}; it has no postmortem of its own`;
}

/** What the target records about the incident it took in. */
export function absorbedText(a: {
  actor: string;
  from: { id: string; serviceName: string; reason: string; openedAt: string };
  reason?: string;
}): string {
  return (
    `${a.actor} merged ${a.from.id} (${a.from.serviceName}, opened ${a.from.openedAt}: ${a.from.reason}) into this incident` +
    (a.reason?.trim() ? `: ${a.reason.trim()}` : '')
  );
}

function invalid(message: string): MergeDecision {
  return { ok: false, status: 400, code: 'invalid_request', message };
}
function conflict(message: string): MergeDecision {
  return { ok: false, status: 409, code: 'cannot_merge', message };
}
