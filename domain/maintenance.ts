/**
 * Maintenance windows, as pure code: a window is one fixed period (`from`/`until`), a weekly slot
 * (`weekly: {days, at}` + `duration`) or an iCalendar RRULE (`rrule` + `at` + `duration`), in a time
 * zone (default Europe/Oslo). Recurring windows are wall-clock times: 02:00 stays 02:00 across DST
 * changes (the zone's offset at each occurrence decides its UTC instant). The RRULE is expanded by the
 * rrule library in "floating" time (local wall clock written as UTC), then placed in the zone here.
 */
import rrulePkg from 'rrule';
import { zone } from './calendar.js';
import type { Duration } from './config-schema.js';
import { durationMs } from './duration.js';

const { RRule } = rrulePkg;
const DAY = 86_400_000;
export const weekdays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof weekdays)[number];

export interface MaintenanceEntry {
  id?: string;
  checks: string[];
  services: string[];
  from?: string;
  until?: string;
  weekly?: { days: Weekday[]; at: string };
  rrule?: string;
  /** Local start time of an RRULE occurrence, HH:MM (default its BYHOUR/BYMINUTE, else 00:00). */
  at?: string;
  duration?: Duration;
  timeZone?: string;
  reason: string;
}

export interface Occurrence {
  /** Stable per window and occurrence: `<window id>/<start ISO>`. */
  key: string;
  windowId: string;
  start: number;
  end: number;
  reason: string;
  checks: string[];
  services: string[];
}

export const defaultMaintenanceZone = 'Europe/Oslo';

/** The window's id: its own, else one made from its position (stable while the file keeps its order). */
export const windowId = (m: MaintenanceEntry, index: number) => m.id ?? `maintenance-${index + 1}`;

const parseAt = (at: string) => {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(at);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
};

const int = (lo: number, hi: number) => (v: string) =>
  v
    .split(',')
    .every((x) => /^[+-]?\d{1,3}$/.test(x) && Math.abs(Number(x)) >= lo && Math.abs(Number(x)) <= hi);
/** The RRULE parts this accepts, each with its value's grammar (the rrule library itself is lenient). */
const rruleParts: Record<string, (v: string) => boolean> = {
  FREQ: (v) => ['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'].includes(v),
  INTERVAL: (v) => /^\d{1,3}$/.test(v) && Number(v) >= 1,
  COUNT: (v) => /^\d{1,4}$/.test(v) && Number(v) >= 1,
  UNTIL: (v) => /^\d{8}(T\d{6}Z?)?$/.test(v),
  BYDAY: (v) => v.split(',').every((x) => /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/.test(x)),
  BYMONTHDAY: int(1, 31),
  BYMONTH: int(1, 12),
  BYHOUR: (v) => v.split(',').every((x) => /^\d{1,2}$/.test(x) && Number(x) <= 23),
  BYMINUTE: (v) => v.split(',').every((x) => /^\d{1,2}$/.test(x) && Number(x) <= 59),
  BYSETPOS: int(1, 366),
  BYWEEKNO: int(1, 53),
  BYYEARDAY: int(1, 366),
  WKST: (v) => /^(MO|TU|WE|TH|FR|SA|SU)$/.test(v),
};

/** Why an RRULE is refused, or undefined (checked part by part before the library sees it). */
export function rruleProblem(rule: string): string | undefined {
  const parts = rule.replace(/^RRULE:/i, '').split(';');
  const seen = new Set<string>();
  for (const part of parts) {
    const [key, value, ...rest] = part.split('=');
    if (!key || value === undefined || rest.length) return `"${part}" is not NAME=VALUE`;
    const k = key.toUpperCase();
    const check = rruleParts[k];
    if (!check) return `${k} is not supported (use ${Object.keys(rruleParts).join(', ')})`;
    if (seen.has(k)) return `${k} is given twice`;
    seen.add(k);
    if (!check(value.toUpperCase())) return `${k}=${value} is not a valid value`;
  }
  if (!seen.has('FREQ')) return 'FREQ is required (DAILY, WEEKLY, MONTHLY or YEARLY)';
  if (seen.has('COUNT') && seen.has('UNTIL')) return 'COUNT and UNTIL exclude each other';
  return undefined;
}

/** What is wrong with a window's shape, by field (empty: fine). Config validation names the path. */
export function maintenanceErrors(m: MaintenanceEntry): { field: string; message: string }[] {
  const errors: { field: string; message: string }[] = [];
  const kinds = [m.from !== undefined || m.until !== undefined, !!m.weekly, !!m.rrule].filter(Boolean).length;
  if (kinds !== 1) errors.push({ field: '', message: 'give exactly one of from/until, weekly, or rrule' });
  if (m.from !== undefined || m.until !== undefined) {
    if (m.from === undefined) errors.push({ field: 'from', message: 'required with "until"' });
    if (m.until === undefined) errors.push({ field: 'until', message: 'required with "from"' });
    if (m.from !== undefined && m.until !== undefined && Date.parse(m.until) <= Date.parse(m.from))
      errors.push({ field: 'until', message: 'must be after "from"' });
  }
  if (m.weekly || m.rrule) {
    if (m.duration === undefined)
      errors.push({ field: 'duration', message: 'required with weekly or rrule' });
    else if (durationMs(m.duration) <= 0 || durationMs(m.duration) > 7 * DAY)
      errors.push({ field: 'duration', message: 'from a minute to 7 days' });
  }
  if (m.weekly) {
    if (m.weekly.days.length === 0) errors.push({ field: 'weekly.days', message: 'name at least one day' });
    if (parseAt(m.weekly.at) === undefined) errors.push({ field: 'weekly.at', message: 'a time, HH:MM' });
  }
  if (m.at !== undefined && parseAt(m.at) === undefined)
    errors.push({ field: 'at', message: 'a time, HH:MM' });
  if (m.rrule) {
    const problem = rruleProblem(m.rrule);
    if (problem) errors.push({ field: 'rrule', message: `not an RRULE (RFC 5545): ${problem}` });
  }
  if (m.timeZone !== undefined) {
    try {
      zone(m.timeZone);
    } catch {
      errors.push({ field: 'timeZone', message: `unknown time zone "${m.timeZone}"` });
    }
  }
  return errors;
}

/** Every occurrence of window `m` overlapping [fromMs, toMs), oldest first (at most 500). */
export function occurrences(m: MaintenanceEntry, index: number, fromMs: number, toMs: number): Occurrence[] {
  const id = windowId(m, index);
  const base = { windowId: id, reason: m.reason, checks: m.checks, services: m.services };
  const make = (start: number, end: number): Occurrence => ({
    key: `${id}/${new Date(start).toISOString()}`,
    start,
    end,
    ...base,
  });
  if (m.from !== undefined && m.until !== undefined) {
    const [s, e] = [Date.parse(m.from), Date.parse(m.until)];
    return s < toMs && e > fromMs ? [make(s, e)] : [];
  }
  if (!m.duration) return [];
  const length = durationMs(m.duration);
  const z = zone(m.timeZone ?? defaultMaintenanceZone);
  const out: Occurrence[] = [];
  // Local dates to look at: from a window's length before `fromMs` (one may still be running).
  const firstDate = z.local(fromMs - length - DAY).date;
  const lastDate = z.local(toMs + DAY).date;
  if (m.weekly) {
    const at = parseAt(m.weekly.at) ?? 0;
    for (let d = Date.parse(`${firstDate}T00:00:00Z`); d <= Date.parse(`${lastDate}T00:00:00Z`); d += DAY) {
      const date = new Date(d).toISOString().slice(0, 10);
      if (!m.weekly.days.includes(weekdays[new Date(d).getUTCDay()]!)) continue;
      const start = z.utc(date, at);
      if (start < toMs && start + length > fromMs) out.push(make(start, start + length));
      if (out.length >= 500) break;
    }
    return out;
  }
  if (m.rrule) {
    const options = RRule.parseString(m.rrule.replace(/^RRULE:/i, ''));
    // The start time: `at`, else the rule's BYHOUR/BYMINUTE over a midnight DTSTART.
    const at = m.at !== undefined ? (parseAt(m.at) ?? 0) : 0;
    // Floating time: the rule runs on wall-clock values written as UTC.
    const dtstart = new Date(Date.UTC(2000, 0, 1, Math.floor(at / 60), at % 60));
    const rule = new RRule({ ...options, dtstart, tzid: null });
    const floating = rule.between(
      new Date(Date.parse(`${firstDate}T00:00:00Z`)),
      new Date(Date.parse(`${lastDate}T23:59:59Z`)),
      true,
    );
    for (const f of floating) {
      const date = f.toISOString().slice(0, 10);
      const start = z.utc(date, f.getUTCHours() * 60 + f.getUTCMinutes());
      if (start < toMs && start + length > fromMs) out.push(make(start, start + length));
      if (out.length >= 500) break;
    }
  }
  return out;
}

/** Every window's occurrences overlapping [fromMs, toMs), by start. */
export function allOccurrences(
  entries: readonly MaintenanceEntry[],
  fromMs: number,
  toMs: number,
): Occurrence[] {
  return entries.flatMap((m, i) => occurrences(m, i, fromMs, toMs)).sort((a, b) => a.start - b.start);
}

/** How far ahead recurring windows are laid out as fixed periods for the monitors (re-done daily). */
export const maintenanceHorizonMs = 35 * DAY;

/** Whether an occurrence covers a check (by id, or by its service). */
export const covers = (o: Pick<Occurrence, 'checks' | 'services'>, check: { id: string; service: string }) =>
  o.checks.includes(check.id) || o.services.includes(check.service);

/** The components (services with a status page `component`) an occurrence covers, by service id. */
export function coveredComponents(
  config: {
    services: readonly { id: string; component?: string }[];
    checks: readonly { id: string; service: string }[];
  },
  o: Pick<Occurrence, 'checks' | 'services'>,
): string[] {
  const ids = new Set([
    ...o.services,
    ...config.checks.filter((c) => o.checks.includes(c.id)).map((c) => c.service),
  ]);
  return config.services.filter((s) => s.component && ids.has(s.id)).map((s) => s.id);
}
