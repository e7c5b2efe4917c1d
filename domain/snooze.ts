/**
 * Snoozing an acknowledged incident: until when, and whether it may be done. Pure; the incident
 * workflow's snooze update asks `snoozeDecision` in its validator and again in its handler (with
 * the workflow's clock), and the lifecycle (domain/incident-lifecycle.ts) runs the snooze: the
 * acknowledgement's timeout is replaced by the snooze's end, when the incident goes back to
 * triggered and the acknowledger and the current level are paged again, unless it was resolved or
 * acknowledged again first.
 *
 * `until` is a UTC time (ISO-8601 with a zone: `2026-12-03T14:00:00Z`) or a duration from now
 * (`30m`, `2h`, `90s`). It must be in the future and at most 24 hours ahead (400); only an
 * acknowledged incident can be snoozed (409: a triggered one is acknowledged first).
 */
import { durationMs } from './duration.js';
import type { IncidentState } from './incident.js';

export const maxSnoozeMs = 24 * 60 * 60_000;

export type SnoozeDecision =
  | { outcome: 'invalid'; message: string }
  | { outcome: 'conflict'; message: string }
  | { outcome: 'snooze'; until: number };

const isoWithZone = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/;
const duration = /^[0-9]+(\.[0-9]+)?(s|m|h|d)$/;

/** The snooze's end (UTC ms), or undefined when `until` is neither a zoned time nor a duration. */
export function parseSnoozeUntil(until: string, now: number): number | undefined {
  const s = until.trim();
  if (duration.test(s)) return now + durationMs(s);
  if (!isoWithZone.test(s)) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/** `2026-12-03 14:00:05 UTC`: to the second, as a short snooze needs. */
export function formatSnoozeTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function snoozeDecision(i: { until: unknown; now: number; state: IncidentState }): SnoozeDecision {
  if (typeof i.until !== 'string' || i.until.trim() === '')
    return { outcome: 'invalid', message: 'until: say until when (a UTC time, or a duration like 30m)' };
  const until = parseSnoozeUntil(i.until, i.now);
  if (until === undefined)
    return {
      outcome: 'invalid',
      message: `until: "${i.until.slice(0, 40)}" is neither a time with a zone (2026-12-03T14:00:00Z) nor a duration (30m)`,
    };
  if (until <= i.now) return { outcome: 'invalid', message: 'until: that time has passed' };
  if (until - i.now > maxSnoozeMs) return { outcome: 'invalid', message: 'until: at most 24 hours ahead' };
  if (i.state !== 'acknowledged')
    return {
      outcome: 'conflict',
      message: `state: only an acknowledged incident can be snoozed; this one is ${i.state}`,
    };
  return { outcome: 'snooze', until };
}
