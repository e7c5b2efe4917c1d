/**
 * The postmortem section's checks that one field's schema cannot express: working hours that end
 * after they start, and a meeting that fits inside them. (Holiday dates are checked by the schema's
 * `format: 'date'`, which rejects 2026-02-30 as well as `26-5-1`.)
 */
import type { Config } from '../domain/config-schema.js';
import { parseClock } from '../domain/calendar.js';
import { durationMs } from '../domain/duration.js';
import type { ConfigIssue } from './load.js';

export function postmortemIssues(c: Pick<Config, 'postmortem'>): ConfigIssue[] {
  const pm = c.postmortem;
  if (!pm) return [];
  const issues: ConfigIssue[] = [];
  const minutes = (s: string): number | undefined => {
    try {
      return parseClock(s);
    } catch {
      return undefined; // the schema reports a malformed time
    }
  };
  const start = minutes(pm.workingHours.start);
  const end = minutes(pm.workingHours.end);
  if (start !== undefined && end !== undefined) {
    if (end <= start) {
      issues.push({
        path: 'postmortem.workingHours.end',
        message: `working hours must end after they start (${pm.workingHours.start})`,
      });
    } else {
      try {
        const meeting = durationMs(pm.meetingDuration);
        if (meeting > (end - start) * 60_000)
          issues.push({
            path: 'postmortem.meetingDuration',
            message: `a ${pm.meetingDuration} meeting does not fit in working hours ${pm.workingHours.start}–${pm.workingHours.end}`,
          });
      } catch {
        // the schema reports a malformed duration
      }
    }
  }
  for (const key of ['reminderInterval', 'changeWindow'] as const) {
    try {
      if (durationMs(pm[key]) <= 0)
        issues.push({ path: `postmortem.${key}`, message: 'must be longer than 0' });
    } catch {
      // the schema reports a malformed duration
    }
  }
  const seen = new Map<string, number>();
  pm.holidays.forEach((d, i) => {
    if (seen.has(d))
      issues.push({
        path: `postmortem.holidays[${i}]`,
        message: `duplicate holiday ${d} (also holidays[${seen.get(d)}])`,
      });
    else seen.set(d, i);
  });
  return issues;
}
