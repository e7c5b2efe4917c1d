/**
 * Reopening a closed incident (responder): pure. A resolved or dismissed incident may come back
 * within the configured window (`incidents.reopenWindow`, default 24 h) when it is the latest of its
 * service: the problem is back, so a new incident opens at once (paged, no re-verification), saying
 * which one it reopens, at the old one's severity. An open incident, one closed too long ago, or one a
 * newer incident followed is refused with what to do instead.
 */
import type { IncidentState } from './incident.js';
import { closedStates } from './incident.js';
import { formatDuration } from './duration.js';

export const defaultReopenWindowMs = 24 * 60 * 60 * 1000;

export interface ReopenInput {
  id: string;
  state: IncidentState;
  closedAt?: string;
  now: number;
  windowMs: number;
  /** The service's latest incident, when it is not this one. */
  newer?: { id: string; state: IncidentState };
}

export type ReopenDecision = { ok: true } | { ok: false; message: string };

export function reopenDecision(i: ReopenInput): ReopenDecision {
  if (!closedStates.includes(i.state) || !i.closedAt)
    return { ok: false, message: `incident ${i.id} is still open (${i.state}); there is nothing to reopen` };
  if (i.newer)
    return {
      ok: false,
      message: closedStates.includes(i.newer.state)
        ? `a newer incident of this service followed it (${i.newer.id}); reopen that one or declare a new one`
        : `this service has an open incident (${i.newer.id}); add to that one instead`,
    };
  const closed = Date.parse(i.closedAt);
  if (i.now - closed > i.windowMs)
    return {
      ok: false,
      message: `incident ${i.id} closed ${formatDuration(i.now - closed)} ago, longer than the reopen window of ${formatDuration(i.windowMs)}; declare a new incident`,
    };
  return { ok: true };
}
