/**
 * On-call schedules: rotations, layers with time restrictions, overrides, and who is on call when.
 * Pure: no I/O, no Node built-ins, no clock (instants come in as arguments), so a workflow can evaluate
 * a schedule deterministically. Local times go through `zone()` from `calendar.ts` (Intl), so any IANA
 * zone works without a time-zone library.
 *
 * Local times, DST and the rules this module keeps:
 * - A local date and `HH:MM` name the first instant at which the wall clock in the zone reads that time
 *   or later. Normally that is the one instant with that wall time. On a fall-back day, when the time
 *   occurs twice, it is the FIRST occurrence (Europe/Oslo 2026-10-25 02:30 is 00:30Z, in CEST). On a
 *   spring-forward day, when the time does not exist, it is the instant the clock jumps, i.e. the end
 *   of the gap (Europe/Oslo 2026-03-29 02:30 is 03:00 CEST = 01:00Z; Australia/Lord_Howe 2026-10-04
 *   02:15 is 02:30 +11). This keeps local times in order: a handoff at 02:30 never comes after an
 *   event at 03:15 the same day.
 * - A rotation with a shift length in days or weeks hands off at its local handoff time on the local
 *   dates start, start + length, start + 2·length, …: a shift that spans a DST change is an hour (or
 *   30 minutes, on Lord Howe) shorter or longer in real time. A shift length in hours counts real
 *   elapsed hours from the first handoff, so a 12-hour rotation drifts against the wall clock by the
 *   DST difference.
 * - Restriction windows are local too: `{ days: ['mon', …], start: '08:00', end: '16:00' }`. An end at
 *   or before the start runs into the next day (`16:00`–`08:00`); `24:00` is the next midnight. `days`
 *   are the days a window starts on; without `days`, every day.
 * - Layers are listed lowest first: where several layers have someone on call, the LAST one in the
 *   list wins (PagerDuty's "higher layer"). Where a layer has nobody (outside its restrictions, before
 *   its start, no participants) the layers below show through.
 * - Overrides win exactly inside `[from, until)`. With `replaces`, only while that person would be on
 *   call; without it, over whoever is on call, and in gaps too. Where overrides overlap, the last one
 *   in the list wins.
 */

import { isLocalDate, parseClock, zone, type LocalDate, type Zone } from './calendar.js';

export type Weekday = 'sun' | 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat';
/** Index = `Date#getUTCDay()` (0 = Sunday), as `weekdayOf` in calendar.ts. */
export const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export type ShiftUnit = 'hours' | 'days' | 'weeks';

export interface Rotation {
  /** Contact ids, in rotation order: shift k goes to `participants[k % n]`. */
  participants: readonly string[];
  /** A positive whole number of `shiftUnit`s. */
  shiftLength: number;
  shiftUnit: ShiftUnit;
  /** Local `HH:MM` at which shifts change. */
  handoff: string;
  /** IANA zone for the handoff time, the start date and the restrictions. */
  timeZone: string;
  /** Local date of the first handoff (shift 0 starts at the handoff time that day). */
  start: LocalDate;
}

export interface Restriction {
  /** Days the window starts on; every day when left out. */
  days?: readonly Weekday[];
  /** Local `HH:MM`. */
  start: string;
  /** Local `HH:MM`, or `24:00`; at or before `start`: the next day. */
  end: string;
}

export interface Layer {
  name?: string;
  rotation: Rotation;
  /** When the layer has someone on call; always when left out or empty. */
  restrictions?: readonly Restriction[];
}

export interface Schedule {
  id?: string;
  name?: string;
  /** Lowest first: the last layer with someone on call wins. */
  layers: readonly Layer[];
}

export interface Override {
  id?: string;
  /** UTC ISO 8601 with an explicit offset (`2026-03-02T07:00:00Z`); inclusive. */
  from: string;
  /** Exclusive. */
  until: string;
  /** Only replace this contact; anyone (and nobody) when left out. */
  replaces?: string;
  by: string;
}

export type Source = 'override' | 'layer';

export interface OnCall {
  contactId: string;
  /**
   * Index in `schedule.layers` of the layer the person is on call from; for an override, the layer
   * whose person it replaces (null when it fills a gap).
   */
  layer: number | null;
  source: Source;
  /**
   * The final shift this instant is in, as `shifts()` computes it: adjacent pieces with the same
   * person, source and layer joined. Bounded to the horizon (default a year either side).
   */
  shiftStart: number;
  shiftEnd: number;
}

export interface Shift {
  contactId: string;
  layer: number | null;
  source: Source;
  /** UTC ms, inclusive. */
  start: number;
  /** UTC ms, exclusive. */
  end: number;
}

export interface Period {
  start: number;
  end: number;
}

export interface Handoff {
  /** The instant the person on call changes. */
  at: number;
  /** Who was on call just before (undefined: nobody). */
  from?: string;
  /** Who is on call from then (undefined: nobody). */
  to?: string;
}

export interface EvalOptions {
  /** How far `onCallAt` and `nextHandoff` look either side of the instant. Default 366 days. */
  horizonMs?: number;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const DEFAULT_HORIZON = 366 * DAY;

// ---------------------------------------------------------------------------------------------
// Local time → UTC

const zones = new Map<string, Zone>();
/** One `Zone` per name (building an Intl.DateTimeFormat is the expensive part). Throws RangeError. */
function zoneOf(timeZone: string): Zone {
  let z = zones.get(timeZone);
  if (!z) {
    z = zone(timeZone);
    zones.set(timeZone, z);
  }
  return z;
}

const localCache = new Map<string, number>();

/** Days since 1970-01-01 of a local date. */
const dayNumber = (date: LocalDate) => Math.round(Date.parse(`${date}T00:00:00Z`) / DAY);
/** 0 = Sunday: 1970-01-01 was a Thursday. */
const weekdayOfDay = (day: number) => (((day + 4) % 7) + 7) % 7;

/**
 * The first instant at which the wall clock in `z` reads `date` `minutes` or later: the instant of that
 * local time, its first occurrence when it occurs twice, and the end of the gap when it does not
 * occur. `minutes` may be 1440 (the next midnight).
 */
export function localInstant(z: Zone, date: LocalDate, minutes: number): number {
  return localAt(z, dayNumber(date), minutes);
}

function localAt(z: Zone, day: number, minutes: number): number {
  const key = `${z.timeZone}|${day}|${minutes}`;
  const hit = localCache.get(key);
  if (hit !== undefined) return hit;
  const value = computeLocalInstant(z, day * DAY + minutes * MINUTE);
  // Pure values, so a cache is safe in workflow code; bounded so a long-lived worker does not grow.
  if (localCache.size >= 100_000) localCache.clear();
  localCache.set(key, value);
  return value;
}

/** `wall`: the local date and time written as if it were UTC. */
function computeLocalInstant(z: Zone, wall: number): number {
  const before = z.offset(wall - DAY);
  const after = z.offset(wall + DAY);
  let best = Infinity;
  for (const o of new Set([before, after, z.offset(wall)])) {
    const t = wall - o;
    if (t + z.offset(t) === wall && t < best) best = t;
  }
  if (best !== Infinity) return best;
  // In a gap: the first instant whose wall time is at or after `wall`, i.e. the transition.
  let lo = wall - Math.max(before, after); // wall time < wall
  let hi = wall - Math.min(before, after); // wall time > wall
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (mid + z.offset(mid) >= wall) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** `HH:MM` or `24:00` → minutes. */
function parseEnd(hhmm: string): number {
  return hhmm === '24:00' ? 1440 : parseClock(hhmm);
}

// ---------------------------------------------------------------------------------------------
// Compiled layers

interface CompiledWindow {
  days: ReadonlySet<number>;
  start: number;
  /** Minutes after the start day's midnight; may exceed 1440. */
  end: number;
}

interface CompiledLayer {
  participants: readonly string[];
  z: Zone;
  /** Day number of the start date. */
  startDay: number;
  handoff: number;
  unit: ShiftUnit;
  length: number;
  /** Days per shift (days and weeks). */
  stepDays: number;
  /** The first handoff. */
  h0: number;
  windows: readonly CompiledWindow[] | undefined;
  /** Restriction windows by the day number they start on. */
  windowsByDay: Map<number, readonly Period[]>;
}

/** By object: schedules are plain data that nobody mutates after loading. */
const compiled = new WeakMap<object, CompiledLayer>();

function compileLayer(layer: Layer): CompiledLayer {
  const cached = compiled.get(layer);
  if (cached) return cached;
  const r = layer.rotation;
  const z = zoneOf(r.timeZone);
  const handoff = parseClock(r.handoff);
  if (!(Number.isInteger(r.shiftLength) && r.shiftLength > 0)) {
    throw new Error(`shift length must be a positive whole number, not ${r.shiftLength}`);
  }
  if (!isLocalDate(r.start)) throw new Error(`invalid start date "${r.start}"`);
  const windows = layer.restrictions?.length
    ? layer.restrictions.map((w) => {
        const start = parseClock(w.start);
        let end = parseEnd(w.end);
        if (end <= start) end += 1440;
        const days = new Set((w.days ?? WEEKDAYS).map((d) => WEEKDAYS.indexOf(d)));
        return { days, start, end };
      })
    : undefined;
  const c: CompiledLayer = {
    participants: r.participants,
    z,
    startDay: dayNumber(r.start),
    handoff,
    unit: r.shiftUnit,
    length: r.shiftLength,
    stepDays: r.shiftLength * (r.shiftUnit === 'weeks' ? 7 : 1),
    h0: localInstant(z, r.start, handoff),
    windows,
    windowsByDay: new Map(),
  };
  compiled.set(layer, c);
  return c;
}

/** The instant shift k starts. */
function handoffAt(c: CompiledLayer, k: number): number {
  if (c.unit === 'hours') return c.h0 + k * c.length * HOUR;
  return localAt(c.z, c.startDay + k * c.stepDays, c.handoff);
}

/** The shift an instant is in; -1 before the first handoff. */
function shiftIndex(c: CompiledLayer, t: number): number {
  if (t < c.h0) return -1;
  const approx = Math.floor((t - c.h0) / (c.unit === 'hours' ? c.length * HOUR : c.stepDays * DAY));
  let k = Math.max(0, approx);
  while (k > 0 && handoffAt(c, k) > t) k--;
  while (handoffAt(c, k + 1) <= t) k++;
  return k;
}

function windowsOn(c: CompiledLayer, day: number): readonly Period[] {
  let list = c.windowsByDay.get(day);
  if (!list) {
    const out: Period[] = [];
    const wd = weekdayOfDay(day);
    for (const w of c.windows ?? []) {
      if (!w.days.has(wd)) continue;
      const start = localAt(c.z, day, w.start);
      const end = localAt(c.z, day + Math.floor(w.end / 1440), w.end % 1440);
      if (end > start) out.push({ start, end });
    }
    if (c.windowsByDay.size >= 4096) c.windowsByDay.clear();
    c.windowsByDay.set(day, (list = out));
  }
  return list;
}

/**
 * Restriction windows that start on days `t`'s UTC date + `from` … + `to`. The local date is within a
 * day of the UTC date, so callers widen their ranges by one day rather than ask Intl for it.
 */
function* windowsAround(c: CompiledLayer, t: number, from: number, to: number): Generator<Period> {
  const day = Math.floor(t / DAY);
  for (let d = day + from; d <= day + to; d++) yield* windowsOn(c, d);
}

function inWindows(c: CompiledLayer, t: number): boolean {
  if (!c.windows) return true;
  // A window is at most a day long, so it starts on the local date of `t` or the day before; one day
  // more each way for the UTC/local difference and for zones whose clocks fall back over midnight.
  for (const w of windowsAround(c, t, -3, 2)) if (w.start <= t && t < w.end) return true;
  return false;
}

/** Who this layer has on call at `t`, ignoring other layers and overrides. */
function layerContact(c: CompiledLayer, t: number): string | undefined {
  if (c.participants.length === 0) return undefined;
  const k = shiftIndex(c, t);
  if (k < 0 || !inWindows(c, t)) return undefined;
  return c.participants[k % c.participants.length];
}

/** The first instant after `t` at which this layer may change. */
function layerNext(c: CompiledLayer, t: number): number {
  if (c.participants.length === 0) return Infinity;
  const k = shiftIndex(c, t);
  let next = k < 0 ? c.h0 : handoffAt(c, k + 1);
  if (c.windows) {
    // Every listed weekday has a window within the next week.
    for (const w of windowsAround(c, t, -3, 9)) {
      if (w.start > t && w.start < next) next = w.start;
      if (w.end > t && w.end < next) next = w.end;
    }
  }
  return next;
}

/** The last instant at or before `t` at which this layer may have changed. */
function layerPrev(c: CompiledLayer, t: number): number {
  if (c.participants.length === 0) return -Infinity;
  const k = shiftIndex(c, t);
  let prev = k < 0 ? -Infinity : handoffAt(c, k);
  if (c.windows) {
    for (const w of windowsAround(c, t, -10, 2)) {
      if (w.start <= t && w.start > prev) prev = w.start;
      if (w.end <= t && w.end > prev) prev = w.end;
    }
  }
  return prev;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

interface CompiledOverride {
  from: number;
  until: number;
  replaces: string | undefined;
  by: string;
}

interface Compiled {
  layers: CompiledLayer[];
  overrides: CompiledOverride[];
}

function compile(schedule: Schedule, overrides: readonly Override[]): Compiled {
  return {
    layers: schedule.layers.map(compileLayer),
    overrides: overrides
      .map((o) => ({ from: Date.parse(o.from), until: Date.parse(o.until), replaces: o.replaces, by: o.by }))
      .filter((o) => Number.isFinite(o.from) && Number.isFinite(o.until) && o.until > o.from),
  };
}

type State = Omit<OnCall, 'shiftStart' | 'shiftEnd'>;

function stateAt(s: Compiled, t: number): State | undefined {
  let base: State | undefined;
  for (let i = s.layers.length - 1; i >= 0; i--) {
    const contactId = layerContact(s.layers[i]!, t);
    if (contactId !== undefined) {
      base = { contactId, layer: i, source: 'layer' };
      break;
    }
  }
  for (let j = s.overrides.length - 1; j >= 0; j--) {
    const o = s.overrides[j]!;
    if (o.from <= t && t < o.until && (o.replaces === undefined || o.replaces === base?.contactId)) {
      return { contactId: o.by, layer: base?.layer ?? null, source: 'override' };
    }
  }
  return base;
}

const same = (a: State | undefined, b: State | undefined) =>
  a !== undefined &&
  b !== undefined &&
  a.contactId === b.contactId &&
  a.layer === b.layer &&
  a.source === b.source;

/** The first instant after `t` at which anything may change; Infinity if nothing ever does. */
function nextBoundary(s: Compiled, t: number): number {
  let next = Infinity;
  for (const c of s.layers) next = Math.min(next, layerNext(c, t));
  for (const o of s.overrides) {
    if (o.from > t) next = Math.min(next, o.from);
    if (o.until > t) next = Math.min(next, o.until);
  }
  return next;
}

/** The last instant at or before `t` at which anything may have changed. */
function prevBoundary(s: Compiled, t: number): number {
  let prev = -Infinity;
  for (const c of s.layers) prev = Math.max(prev, layerPrev(c, t));
  for (const o of s.overrides) {
    if (o.from <= t) prev = Math.max(prev, o.from);
    if (o.until <= t) prev = Math.max(prev, o.until);
  }
  return prev;
}

/** Who is on call at an instant, and the final shift they are in; undefined: nobody. */
export function onCallAt(
  schedule: Schedule,
  overrides: readonly Override[],
  instantMs: number,
  options: EvalOptions = {},
): OnCall | undefined {
  const s = compile(schedule, overrides);
  const state = stateAt(s, instantMs);
  if (!state) return undefined;
  const horizon = options.horizonMs ?? DEFAULT_HORIZON;
  const lo = instantMs - horizon;
  const hi = instantMs + horizon;
  let start = prevBoundary(s, instantMs);
  while (start > lo && same(stateAt(s, start - 1), state)) start = prevBoundary(s, start - 1);
  let end = nextBoundary(s, instantMs);
  while (end < hi && same(stateAt(s, end), state)) end = nextBoundary(s, end);
  return { ...state, shiftStart: Math.max(start, lo), shiftEnd: Math.min(end, hi) };
}

/**
 * The final shifts in `[fromMs, toMs)`, in order, clipped to the window: merged across layers and
 * overrides, adjacent pieces with the same person, source and layer joined. Periods with nobody on
 * call are left out (see `gaps`). Contiguous where someone is on call, never overlapping.
 */
export function shifts(
  schedule: Schedule,
  overrides: readonly Override[],
  fromMs: number,
  toMs: number,
): Shift[] {
  const s = compile(schedule, overrides);
  const out: Shift[] = [];
  for (let t = fromMs; t < toMs;) {
    const state = stateAt(s, t);
    const next = Math.min(nextBoundary(s, t), toMs);
    if (state) {
      const last = out[out.length - 1];
      if (last && last.end === t && same(last, state)) last.end = next;
      else out.push({ ...state, start: t, end: next });
    }
    t = next;
  }
  return out;
}

/** Periods in `[fromMs, toMs)` with nobody on call, joined and in order. */
export function gaps(
  schedule: Schedule,
  fromMs: number,
  toMs: number,
  overrides: readonly Override[] = [],
): Period[] {
  const out: Period[] = [];
  let t = fromMs;
  for (const sh of shifts(schedule, overrides, fromMs, toMs)) {
    if (sh.start > t) out.push({ start: t, end: sh.start });
    t = sh.end;
  }
  if (t < toMs) out.push({ start: t, end: toMs });
  return out;
}

/**
 * The next instant after `instantMs` at which the person on call changes (to someone else, or to or
 * from nobody); a change of layer or source with the same person is not a handoff. Undefined if
 * there is none within the horizon.
 */
export function nextHandoff(
  schedule: Schedule,
  overrides: readonly Override[],
  instantMs: number,
  options: EvalOptions = {},
): Handoff | undefined {
  const s = compile(schedule, overrides);
  const hi = instantMs + (options.horizonMs ?? DEFAULT_HORIZON);
  const from = stateAt(s, instantMs)?.contactId;
  for (let t = nextBoundary(s, instantMs); t <= hi; t = nextBoundary(s, t)) {
    const to = stateAt(s, t)?.contactId;
    if (to !== from) {
      return { at: t, ...(from !== undefined && { from }), ...(to !== undefined && { to }) };
    }
  }
  return undefined;
}

/** Who one layer has on call at an instant, on its own (no other layers, no overrides). */
export function layerOnCallAt(layer: Layer, instantMs: number): string | undefined {
  return layerContact(compileLayer(layer), instantMs);
}

/** The instants in `[fromMs, toMs)` at which a rotation hands off (shift starts), restrictions aside. */
export function rotationHandoffs(rotation: Rotation, fromMs: number, toMs: number): number[] {
  const c = compileLayer({ rotation });
  const out: number[] = [];
  let k = Math.max(0, shiftIndex(c, fromMs));
  for (let t = handoffAt(c, k); t < toMs; t = handoffAt(c, ++k)) if (t >= fromMs) out.push(t);
  return out;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `Mon 2026-03-02 16:00` in the zone. */
export function formatLocal(instantMs: number, timeZone: string): string {
  const l = zoneOf(timeZone).local(instantMs);
  const day = WEEKDAYS[l.weekday]!;
  return `${day[0]!.toUpperCase()}${day.slice(1)} ${l.date} ${pad(Math.floor(l.minutes / 60))}:${pad(l.minutes % 60)}`;
}

/** A period for people, e.g. a gap in a config warning: `Tue 2026-03-03 02:00 – Tue 2026-03-03 08:00 Europe/Oslo`. */
export function describePeriod(p: Period, timeZone: string): string {
  return `${formatLocal(p.start, timeZone)} – ${formatLocal(p.end, timeZone)} ${timeZone}`;
}

// ---------------------------------------------------------------------------------------------
// Validation

export interface ScheduleIssue {
  path: string;
  message: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const join = (base: string, sub: string) =>
  base ? (sub.startsWith('[') ? `${base}${sub}` : `${base}.${sub}`) : sub;

const CLOCK = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;
/** ISO 8601 date-time with an explicit offset: without one, Date.parse would use the host's zone. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

const clockText = (minutes: number) => `${pad(Math.floor(minutes / 60) % 24)}:${pad(minutes % 60)}`;

/**
 * Problems with a schedule from a config file, each with its path under `basePath`: unknown
 * participants, shift lengths that are not positive whole numbers, bad handoff times, unknown zones,
 * bad start dates, zero-length or overlapping restriction windows. `raw.overrides`, if present, is
 * checked with `validateOverride`.
 */
export function validateSchedule(
  raw: unknown,
  knownContacts: Iterable<string>,
  basePath = '',
): ScheduleIssue[] {
  const known = new Set(knownContacts);
  const issues: ScheduleIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path: join(basePath, path), message });
  if (!isRecord(raw)) {
    add('', 'must be a mapping with layers');
    return issues;
  }
  if (!Array.isArray(raw.layers) || raw.layers.length === 0) {
    add('layers', 'must be a non-empty list');
  } else {
    raw.layers.forEach((layer, i) => validateLayer(layer, `layers[${i}]`, known, add));
  }
  if (raw.overrides !== undefined) {
    if (!Array.isArray(raw.overrides)) add('overrides', 'must be a list');
    else
      raw.overrides.forEach((o, i) =>
        issues.push(...validateOverride(o, known, join(basePath, `overrides[${i}]`))),
      );
  }
  return issues;
}

function validateLayer(
  layer: unknown,
  path: string,
  known: ReadonlySet<string>,
  add: (path: string, message: string) => void,
): void {
  if (!isRecord(layer)) return add(path, 'must be a mapping with a rotation');
  const r = layer.rotation;
  const rp = `${path}.rotation`;
  if (!isRecord(r)) return add(rp, 'must be a mapping');
  if (!Array.isArray(r.participants) || r.participants.length === 0) {
    add(`${rp}.participants`, 'must be a non-empty list of contact ids');
  } else {
    r.participants.forEach((p, j) => {
      if (typeof p !== 'string') add(`${rp}.participants[${j}]`, 'must be a contact id');
      else if (!known.has(p)) add(`${rp}.participants[${j}]`, `unknown contact "${p}"`);
    });
  }
  if (typeof r.shiftLength !== 'number' || !Number.isInteger(r.shiftLength) || r.shiftLength <= 0) {
    add(`${rp}.shiftLength`, `must be a positive whole number, not ${JSON.stringify(r.shiftLength)}`);
  }
  if (r.shiftUnit !== 'hours' && r.shiftUnit !== 'days' && r.shiftUnit !== 'weeks') {
    add(`${rp}.shiftUnit`, 'must be hours, days or weeks');
  }
  if (typeof r.handoff !== 'string' || !CLOCK.test(r.handoff)) {
    add(`${rp}.handoff`, `must be a local time HH:MM, not ${JSON.stringify(r.handoff)}`);
  }
  if (typeof r.timeZone !== 'string') {
    add(`${rp}.timeZone`, 'must be an IANA time zone such as Europe/Oslo');
  } else {
    try {
      zoneOf(r.timeZone);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      add(`${rp}.timeZone`, `unknown time zone "${r.timeZone}"`);
    }
  }
  if (typeof r.start !== 'string' || !isLocalDate(r.start)) {
    add(`${rp}.start`, `must be a date YYYY-MM-DD, not ${JSON.stringify(r.start)}`);
  }
  if (layer.restrictions === undefined) return;
  if (!Array.isArray(layer.restrictions)) return add(`${path}.restrictions`, 'must be a list');
  /** Valid windows as minutes of the week (Sunday 00:00 = 0), for the overlap check. */
  const spans: { i: number; start: number; end: number }[] = [];
  layer.restrictions.forEach((w, i) => {
    const wp = `${path}.restrictions[${i}]`;
    if (!isRecord(w)) return add(wp, 'must be a mapping with start and end');
    let ok = true;
    if (typeof w.start !== 'string' || !CLOCK.test(w.start)) {
      add(`${wp}.start`, `must be a local time HH:MM, not ${JSON.stringify(w.start)}`);
      ok = false;
    }
    if (typeof w.end !== 'string' || !(CLOCK.test(w.end) || w.end === '24:00')) {
      add(`${wp}.end`, `must be a local time HH:MM or 24:00, not ${JSON.stringify(w.end)}`);
      ok = false;
    }
    let days: number[] = [0, 1, 2, 3, 4, 5, 6];
    if (w.days !== undefined) {
      if (!Array.isArray(w.days) || w.days.length === 0) {
        add(`${wp}.days`, 'must be a non-empty list of mon, tue, wed, thu, fri, sat, sun');
        ok = false;
      } else {
        days = [];
        w.days.forEach((d, j) => {
          const n = WEEKDAYS.indexOf(d as Weekday);
          if (n < 0) {
            add(
              `${wp}.days[${j}]`,
              `must be one of mon, tue, wed, thu, fri, sat, sun, not ${JSON.stringify(d)}`,
            );
            ok = false;
          } else if (days.includes(n)) {
            add(`${wp}.days[${j}]`, `"${String(d)}" is listed twice`);
            ok = false;
          } else days.push(n);
        });
      }
    }
    if (!ok) return;
    const start = parseClock(w.start as string);
    let end = parseEnd(w.end as string);
    if (end === start) {
      return add(wp, `window ${w.start as string}–${w.end as string} is empty`);
    }
    if (end < start) end += 1440;
    for (const d of days) spans.push({ i, start: d * 1440 + start, end: d * 1440 + end });
  });
  const WEEK = 7 * 1440;
  const reported = new Set<string>();
  for (let a = 0; a < spans.length; a++) {
    for (let b = a + 1; b < spans.length; b++) {
      const x = spans[a]!;
      const y = spans[b]!;
      if (x.i === y.i) continue;
      const overlaps = [-WEEK, 0, WEEK].some((s) => x.start < y.end + s && y.start + s < x.end);
      const key = `${x.i}/${y.i}`;
      if (overlaps && !reported.has(key)) {
        reported.add(key);
        const day = WEEKDAYS[Math.floor(y.start / 1440) % 7]!;
        add(
          `${path}.restrictions[${y.i}]`,
          `overlaps restrictions[${x.i}] (${day} ${clockText(y.start % 1440)}–${clockText(y.end % 1440)})`,
        );
      }
    }
  }
}

/**
 * Problems with an override: times that are not ISO 8601 instants with an offset, `until` at or
 * before `from`, unknown `by` or `replaces`; with `nowMs`, an override that has already ended.
 */
export function validateOverride(
  raw: unknown,
  knownContacts: Iterable<string>,
  basePath = '',
  nowMs?: number,
): ScheduleIssue[] {
  const known = new Set(knownContacts);
  const issues: ScheduleIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path: join(basePath, path), message });
  if (!isRecord(raw)) {
    add('', 'must be a mapping with from, until and by');
    return issues;
  }
  const instant = (key: 'from' | 'until'): number | undefined => {
    const v = raw[key];
    if (typeof v !== 'string' || !ISO_INSTANT.test(v) || Number.isNaN(Date.parse(v))) {
      add(key, `must be an ISO 8601 time with an offset (2026-03-02T07:00:00Z), not ${JSON.stringify(v)}`);
      return undefined;
    }
    return Date.parse(v);
  };
  const from = instant('from');
  const until = instant('until');
  if (from !== undefined && until !== undefined && until <= from) add('until', 'must be after from');
  else if (until !== undefined && nowMs !== undefined && until <= nowMs) add('until', 'is in the past');
  if (typeof raw.by !== 'string') add('by', 'must be a contact id');
  else if (!known.has(raw.by)) add('by', `unknown contact "${raw.by}"`);
  if (raw.replaces !== undefined) {
    if (typeof raw.replaces !== 'string') add('replaces', 'must be a contact id');
    else if (!known.has(raw.replaces)) add('replaces', `unknown contact "${raw.replaces}"`);
  }
  return issues;
}
