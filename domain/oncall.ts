/**
 * The configuration's on-call schedules read as a model: which schedules a policy's targets name,
 * who a schedule has on call at an instant (with the overrides from the record store), who is on
 * call now and next per schedule and per policy level, and the gaps a config load warns about.
 * Pure: instants and overrides come in as arguments (domain/schedule.ts does the evaluation).
 */
import type { Config, ScheduleConfig } from './config-schema.js';
import type { Recipient } from './incident.js';
import { reachOf } from './notification-plan.js';
import {
  describePeriod,
  gaps,
  nextHandoff,
  onCallAt,
  shifts,
  type Override,
  type Period,
  type Schedule,
  type Shift,
} from './schedule.js';

export const schedulePrefix = 'schedule:';

/** The schedule ids among a level's targets (`schedule:<id>`), each once, in order. */
export function scheduleTargets(targets: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of targets)
    if (t.startsWith(schedulePrefix) && !out.includes(t.slice(schedulePrefix.length)))
      out.push(t.slice(schedulePrefix.length));
  return out;
}

export function scheduleById(config: Pick<Config, 'schedules'>, id: string): ScheduleConfig | undefined {
  return config.schedules.find((s) => s.id === id);
}

/** The schedule as domain/schedule.ts evaluates it (the config's shape is the same). */
export const asSchedule = (s: ScheduleConfig): Schedule => s;

/** The zone a schedule is shown in: its lowest layer's. */
export const scheduleZone = (s: ScheduleConfig): string => s.layers[0]!.rotation.timeZone;

const contact = (config: Pick<Config, 'contacts'>, id: string): Recipient | undefined => {
  const c = config.contacts.find((x) => x.id === id);
  if (!c) return undefined;
  const reach = reachOf(c);
  return { id: c.id, name: c.name, email: c.email, ...(reach ? { reach } : {}) };
};

/** Who a schedule has on call at one instant, and until when. */
export interface OnCallNow {
  scheduleId: string;
  /** Undefined: nobody (a gap, or an unknown schedule). */
  recipient?: Recipient;
  source?: 'layer' | 'override';
  /** The end of this person's shift (or of the gap), ISO-8601; undefined beyond a year. */
  until?: string;
}

/** Who each named schedule has on call at `atMs`, with its overrides. */
export function whoIsOnCall(
  config: Pick<Config, 'contacts' | 'schedules'>,
  scheduleIds: readonly string[],
  overrides: (scheduleId: string) => readonly Override[],
  atMs: number,
): OnCallNow[] {
  return scheduleIds.map((scheduleId) => {
    const s = scheduleById(config, scheduleId);
    if (!s) return { scheduleId };
    const list = overrides(scheduleId);
    const on = onCallAt(asSchedule(s), list, atMs);
    if (!on) {
      const h = nextHandoff(asSchedule(s), list, atMs);
      return { scheduleId, ...(h ? { until: new Date(h.at).toISOString() } : {}) };
    }
    const recipient = contact(config, on.contactId);
    return {
      scheduleId,
      ...(recipient ? { recipient } : {}),
      source: on.source,
      until: new Date(on.shiftEnd).toISOString(),
    };
  });
}

/** A computed shift as the API and the console show it. */
export interface ShiftView {
  contactId: string;
  name: string;
  start: string;
  end: string;
  source: Shift['source'];
  /** The layer's name (or `layer N`), or null for an override that fills a gap. */
  layer: string | null;
}

export function shiftViews(
  config: Pick<Config, 'contacts'>,
  s: ScheduleConfig,
  overrides: readonly Override[],
  fromMs: number,
  toMs: number,
): ShiftView[] {
  return shifts(asSchedule(s), overrides, fromMs, toMs).map((sh) => ({
    contactId: sh.contactId,
    name: contact(config, sh.contactId)?.name ?? sh.contactId,
    start: new Date(sh.start).toISOString(),
    end: new Date(sh.end).toISOString(),
    source: sh.source,
    layer: sh.layer === null ? null : (s.layers[sh.layer]?.name ?? `layer ${sh.layer + 1}`),
  }));
}

/** Now and next of one schedule. */
export interface ScheduleOnCall {
  id: string;
  name: string;
  timeZone: string;
  now?: { contactId: string; name: string; source: Shift['source']; until: string };
  next?: { contactId: string; name: string; from: string };
  /** The current gap, when nobody is on call now: until when. */
  gapUntil?: string;
}

export function scheduleOnCall(
  config: Pick<Config, 'contacts'>,
  s: ScheduleConfig,
  overrides: readonly Override[],
  nowMs: number,
): ScheduleOnCall {
  const sched = asSchedule(s);
  const name = (id: string) => contact(config, id)?.name ?? id;
  const out: ScheduleOnCall = { id: s.id, name: s.name, timeZone: scheduleZone(s) };
  const on = onCallAt(sched, overrides, nowMs);
  if (on)
    out.now = {
      contactId: on.contactId,
      name: name(on.contactId),
      source: on.source,
      until: new Date(on.shiftEnd).toISOString(),
    };
  // The next person: the first handoff to someone (skipping gaps in between).
  let t = nowMs;
  for (let i = 0; i < 50; i++) {
    const h = nextHandoff(sched, overrides, t);
    if (!h) break;
    if (!on && i === 0) out.gapUntil = new Date(h.at).toISOString();
    if (h.to !== undefined) {
      out.next = { contactId: h.to, name: name(h.to), from: new Date(h.at).toISOString() };
      break;
    }
    t = h.at;
  }
  return out;
}

/** Who each level of a policy reaches now and at the next handoff of its schedules. */
export interface PolicyLevelOnCall {
  level: number;
  targets: string[];
  now: { contactId: string; name: string; via: string }[];
  /** Who the level reaches after the next change of any of its schedules (absent: no schedule). */
  next?: { at: string; people: { contactId: string; name: string; via: string }[] };
}

export function policyOnCall(
  config: Pick<Config, 'contacts' | 'teams' | 'schedules' | 'policies'>,
  policyId: string,
  overrides: (scheduleId: string) => readonly Override[],
  nowMs: number,
): PolicyLevelOnCall[] {
  const policy = config.policies.find((p) => p.id === policyId);
  if (!policy) return [];
  const people = (targets: readonly string[], at: number) => {
    const out: { contactId: string; name: string; via: string }[] = [];
    const push = (id: string, via: string) => {
      const c = contact(config, id);
      if (c && !out.some((x) => x.contactId === id)) out.push({ contactId: id, name: c.name, via });
    };
    for (const t of targets) {
      if (t.startsWith('team:'))
        for (const m of config.teams.find((x) => x.id === t.slice(5))?.members ?? []) push(m, t);
      else if (t.startsWith(schedulePrefix)) {
        const [on] = whoIsOnCall(config, [t.slice(schedulePrefix.length)], overrides, at);
        if (on?.recipient) push(on.recipient.id, t);
      } else push(t, t);
    }
    return out;
  };
  return policy.levels.map((l, i) => {
    const ids = scheduleTargets(l.notify);
    let nextAt = Infinity;
    for (const id of ids) {
      const s = scheduleById(config, id);
      const h = s ? nextHandoff(asSchedule(s), overrides(id), nowMs) : undefined;
      if (h) nextAt = Math.min(nextAt, h.at);
    }
    return {
      level: i + 1,
      targets: [...l.notify],
      now: people(l.notify, nowMs),
      ...(Number.isFinite(nextAt)
        ? { next: { at: new Date(nextAt).toISOString(), people: people(l.notify, nextAt) } }
        : {}),
    };
  });
}

export interface ScheduleWarning {
  path: string;
  message: string;
}

const hours = (p: Period) => {
  const h = (p.end - p.start) / 3_600_000;
  return Number.isInteger(h) ? `${h} h` : `${h.toFixed(1)} h`;
};

/**
 * Periods in the next `days` days with nobody on call, per schedule, named in the schedule's zone
 * (`schedules[0]: nobody on call Tue 2026-03-03 02:00 – Tue 2026-03-03 08:00 Europe/Oslo (6 h)`).
 * A schedule with many gaps gets its first three and a count.
 */
export function scheduleGapWarnings(
  config: Pick<Config, 'schedules'>,
  nowMs: number,
  days = 28,
): ScheduleWarning[] {
  const out: ScheduleWarning[] = [];
  config.schedules.forEach((s, i) => {
    let found: Period[];
    try {
      found = gaps(asSchedule(s), nowMs, nowMs + days * 86_400_000);
    } catch {
      return; // an invalid schedule is a config error, reported elsewhere
    }
    if (found.length === 0) return;
    const zoneName = scheduleZone(s);
    const named = found
      .slice(0, 3)
      .map((p) => `${describePeriod(p, zoneName)} (${hours(p)})`)
      .join('; ');
    out.push({
      path: `schedules[${i}]`,
      message:
        `nobody on call in schedule "${s.id}" ${named}` +
        (found.length > 3 ? `; and ${found.length - 3} more gap(s) in the next ${days} days` : ''),
    });
  });
  return out;
}
