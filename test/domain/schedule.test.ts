import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addDays, zone } from '../../domain/calendar.js';
import {
  describePeriod,
  gaps,
  layerOnCallAt,
  localInstant,
  nextHandoff,
  onCallAt,
  rotationHandoffs,
  shifts,
  validateOverride,
  validateSchedule,
  WEEKDAYS,
  type Layer,
  type Override,
  type Restriction,
  type Rotation,
  type Schedule,
  type Shift,
  type ShiftUnit,
  type Weekday,
} from '../../domain/schedule.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString().replace(':00.000Z', 'Z');

const rotation = (r: Partial<Rotation>): Rotation => ({
  participants: ['kari', 'ola'],
  shiftLength: 1,
  shiftUnit: 'weeks',
  handoff: '08:00',
  timeZone: 'Europe/Oslo',
  start: '2026-03-02',
  ...r,
});
const one = (r: Partial<Rotation>, restrictions?: Restriction[]): Schedule => ({
  layers: [{ rotation: rotation(r), ...(restrictions && { restrictions }) }],
});
/** Shifts as `[who, startUTC, endUTC]` for readable expectations. */
const table = (list: Shift[]) => list.map((s) => [s.contactId, iso(s.start), iso(s.end)]);
const weekdays: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri'];

describe('rotations across DST (table)', () => {
  it('Europe/Oslo weekly, Monday 08:00, across spring-forward: 08:00 local before and after', () => {
    const s = one({ participants: ['kari', 'ola', 'per'], start: '2026-03-16' });
    expect(table(shifts(s, [], at('2026-03-16T00:00Z'), at('2026-04-13T00:00Z')))).toEqual([
      ['kari', '2026-03-16T07:00Z', '2026-03-23T07:00Z'],
      // 2026-03-29: 02:00 → 03:00. This shift is 167 hours long; the handoff stays at 08:00 local.
      ['ola', '2026-03-23T07:00Z', '2026-03-30T06:00Z'],
      ['per', '2026-03-30T06:00Z', '2026-04-06T06:00Z'],
      ['kari', '2026-04-06T06:00Z', '2026-04-13T00:00Z'],
    ]);
    expect(onCallAt(s, [], at('2026-03-29T01:30Z'))).toEqual({
      contactId: 'ola',
      layer: 0,
      source: 'layer',
      shiftStart: at('2026-03-23T07:00Z'),
      shiftEnd: at('2026-03-30T06:00Z'),
    });
    expect(onCallAt(s, [], at('2026-03-30T05:59:59.999Z'))?.contactId).toBe('ola');
    expect(onCallAt(s, [], at('2026-03-30T06:00Z'))?.contactId).toBe('per');
  });

  it('Europe/Oslo weekly, Monday 08:00, across fall-back: the shift is 169 hours', () => {
    const s = one({ start: '2026-10-12' });
    expect(table(shifts(s, [], at('2026-10-12T06:00Z'), at('2026-11-02T07:00Z')))).toEqual([
      ['kari', '2026-10-12T06:00Z', '2026-10-19T06:00Z'],
      ['ola', '2026-10-19T06:00Z', '2026-10-26T07:00Z'],
      ['kari', '2026-10-26T07:00Z', '2026-11-02T07:00Z'],
    ]);
    expect(nextHandoff(s, [], at('2026-10-25T12:00Z'))).toEqual({
      at: at('2026-10-26T07:00Z'),
      from: 'ola',
      to: 'kari',
    });
  });

  it('a daily 02:30 handoff on the spring-forward day, when 02:30 does not exist, happens at 03:00', () => {
    // Oslo 2026-03-29: the clock jumps from 02:00 CET to 03:00 CEST. The handoff is at the first
    // instant the clock reads 02:30 or later: 03:00 CEST = 01:00Z. The next day it is 02:30 again.
    const s = one({ shiftUnit: 'days', handoff: '02:30', start: '2026-03-27' });
    expect(table(shifts(s, [], at('2026-03-27T01:30Z'), at('2026-03-31T00:30Z')))).toEqual([
      ['kari', '2026-03-27T01:30Z', '2026-03-28T01:30Z'],
      ['ola', '2026-03-28T01:30Z', '2026-03-29T01:00Z'],
      ['kari', '2026-03-29T01:00Z', '2026-03-30T00:30Z'],
      ['ola', '2026-03-30T00:30Z', '2026-03-31T00:30Z'],
    ]);
    expect(localInstant(zone('Europe/Oslo'), '2026-03-29', 150)).toBe(at('2026-03-29T01:00Z'));
  });

  it('a daily 02:30 handoff on the fall-back day, when 02:30 occurs twice, happens at the first one', () => {
    // Oslo 2026-10-25: 03:00 CEST → 02:00 CET. 02:30 is 00:30Z (CEST) and again 01:30Z (CET).
    const s = one({ shiftUnit: 'days', handoff: '02:30', start: '2026-10-24' });
    expect(table(shifts(s, [], at('2026-10-24T00:30Z'), at('2026-10-27T01:30Z')))).toEqual([
      ['kari', '2026-10-24T00:30Z', '2026-10-25T00:30Z'],
      ['ola', '2026-10-25T00:30Z', '2026-10-26T01:30Z'], // 25 hours
      ['kari', '2026-10-26T01:30Z', '2026-10-27T01:30Z'],
    ]);
    // The second 02:30 is not a handoff.
    expect(nextHandoff(s, [], at('2026-10-25T00:30Z'))?.at).toBe(at('2026-10-26T01:30Z'));
  });

  it('America/New_York: a 02:00 handoff moves to 03:00 EDT on 2026-03-08; 12-hour shifts count real hours', () => {
    const daily = one({
      shiftUnit: 'days',
      handoff: '02:00',
      timeZone: 'America/New_York',
      start: '2026-03-07',
    });
    expect(
      rotationHandoffs(daily.layers[0]!.rotation, at('2026-03-07T00:00Z'), at('2026-03-10T00:00Z')),
    ).toEqual([
      at('2026-03-07T07:00Z'), // 02:00 EST
      at('2026-03-08T07:00Z'), // 03:00 EDT: 02:00 does not exist
      at('2026-03-09T06:00Z'), // 02:00 EDT
    ]);
    // Fall-back on 2026-11-01 (02:00 EDT → 01:00 EST): 12 real hours after 20:00 EDT is 07:00 EST.
    const twelve = one({
      shiftUnit: 'hours',
      shiftLength: 12,
      handoff: '20:00',
      timeZone: 'America/New_York',
      start: '2026-10-31',
    });
    expect(table(shifts(twelve, [], at('2026-11-01T00:00Z'), at('2026-11-02T00:00Z')))).toEqual([
      ['kari', '2026-11-01T00:00Z', '2026-11-01T12:00Z'],
      ['ola', '2026-11-01T12:00Z', '2026-11-02T00:00Z'],
    ]);
    expect(
      describePeriod({ start: at('2026-11-01T00:00Z'), end: at('2026-11-01T12:00Z') }, 'America/New_York'),
    ).toBe('Sat 2026-10-31 20:00 – Sun 2026-11-01 07:00 America/New_York');
  });

  it('Australia/Lord_Howe: 30-minute DST, a 02:15 handoff in the gap and a 01:45 handoff in the repeat', () => {
    // 2026-10-04 02:00 +10:30 → 02:30 +11: 02:15 does not exist, the handoff is at 02:30 +11.
    const spring = one({
      shiftUnit: 'days',
      handoff: '02:15',
      timeZone: 'Australia/Lord_Howe',
      start: '2026-10-03',
    });
    expect(
      rotationHandoffs(spring.layers[0]!.rotation, at('2026-10-01T00:00Z'), at('2026-10-05T00:00Z')),
    ).toEqual([
      at('2026-10-02T15:45Z'), // 02:15 +10:30
      at('2026-10-03T15:30Z'), // 02:30 +11
      at('2026-10-04T15:15Z'), // 02:15 +11
    ]);
    // 2026-04-05 02:00 +11 → 01:30 +10:30: 01:45 occurs at 14:45Z and 15:15Z; the first one counts.
    const autumn = one({
      shiftUnit: 'days',
      handoff: '01:45',
      timeZone: 'Australia/Lord_Howe',
      start: '2026-04-04',
    });
    expect(table(shifts(autumn, [], at('2026-04-03T14:45Z'), at('2026-04-06T15:15Z')))).toEqual([
      ['kari', '2026-04-03T14:45Z', '2026-04-04T14:45Z'],
      ['ola', '2026-04-04T14:45Z', '2026-04-05T15:15Z'], // 24½ hours
      ['kari', '2026-04-05T15:15Z', '2026-04-06T15:15Z'],
    ]);
  });

  it('nobody is on call from a layer before its first handoff', () => {
    const s = one({ start: '2026-03-02' });
    expect(onCallAt(s, [], at('2026-03-02T06:59:59.999Z'))).toBeUndefined();
    expect(onCallAt(s, [], at('2026-03-02T07:00Z'))?.contactId).toBe('kari');
    expect(nextHandoff(s, [], at('2026-03-01T00:00Z'))).toEqual({ at: at('2026-03-02T07:00Z'), to: 'kari' });
  });

  it('one participant: one shift for as far as the horizon reaches, and no handoff', () => {
    const s = one({ participants: ['kari'], shiftUnit: 'days' });
    const t = at('2026-06-01T12:00Z');
    const oc = onCallAt(s, [], t, { horizonMs: 30 * DAY });
    expect(oc).toMatchObject({ contactId: 'kari', shiftStart: t - 30 * DAY, shiftEnd: t + 30 * DAY });
    expect(nextHandoff(s, [], t, { horizonMs: 30 * DAY })).toBeUndefined();
    expect(shifts(s, [], t, t + 10 * DAY)).toHaveLength(1);
  });
});

describe('layers and restrictions (table)', () => {
  // Mon 2026-03-02 … Sun 2026-03-08, Oslo in CET (UTC+1).
  const allDay: Layer = {
    name: '24/7',
    rotation: rotation({ participants: ['ola', 'per'], shiftUnit: 'days' }),
  };
  const business: Layer = {
    name: 'business hours',
    rotation: rotation({ participants: ['kari', 'ingrid'] }),
    restrictions: [{ days: weekdays, start: '08:00', end: '16:00' }],
  };
  const schedule: Schedule = { layers: [allDay, business] };

  it('business hours Mon–Fri 08:00–16:00 win over the 24/7 layer; the 24/7 layer shows through otherwise', () => {
    expect(table(shifts(schedule, [], at('2026-03-02T07:00Z'), at('2026-03-04T07:00Z')))).toEqual([
      ['kari', '2026-03-02T07:00Z', '2026-03-02T15:00Z'],
      ['ola', '2026-03-02T15:00Z', '2026-03-03T07:00Z'],
      ['kari', '2026-03-03T07:00Z', '2026-03-03T15:00Z'],
      ['per', '2026-03-03T15:00Z', '2026-03-04T07:00Z'],
    ]);
    expect(onCallAt(schedule, [], at('2026-03-02T09:00Z'))).toMatchObject({ contactId: 'kari', layer: 1 });
    expect(onCallAt(schedule, [], at('2026-03-02T16:00Z'))).toMatchObject({ contactId: 'ola', layer: 0 });
    // Saturday 10:00: no business hours; the 24/7 layer's sixth daily shift.
    expect(onCallAt(schedule, [], at('2026-03-07T09:00Z'))).toMatchObject({ contactId: 'per', layer: 0 });
    expect(nextHandoff(schedule, [], at('2026-03-02T09:00Z'))).toEqual({
      at: at('2026-03-02T15:00Z'),
      from: 'kari',
      to: 'ola',
    });
  });

  it('a window that spans midnight (16:00–08:00) and the gaps it leaves, with exact periods', () => {
    const afterHours: Schedule = {
      layers: [
        { ...business, restrictions: [{ days: weekdays, start: '08:00', end: '16:00' }] },
        {
          name: 'after hours',
          rotation: rotation({ participants: ['ola'] }),
          restrictions: [{ days: weekdays, start: '16:00', end: '02:00' }],
        },
      ],
    };
    const found = gaps(afterHours, at('2026-03-02T07:00Z'), at('2026-03-09T07:00Z'));
    expect(found.map((g) => [iso(g.start), iso(g.end)])).toEqual([
      ['2026-03-03T01:00Z', '2026-03-03T07:00Z'],
      ['2026-03-04T01:00Z', '2026-03-04T07:00Z'],
      ['2026-03-05T01:00Z', '2026-03-05T07:00Z'],
      ['2026-03-06T01:00Z', '2026-03-06T07:00Z'],
      ['2026-03-07T01:00Z', '2026-03-09T07:00Z'], // Saturday 02:00 to Monday 08:00
    ]);
    expect(describePeriod(found[0]!, 'Europe/Oslo')).toBe(
      'Tue 2026-03-03 02:00 – Tue 2026-03-03 08:00 Europe/Oslo',
    );
    expect(onCallAt(afterHours, [], at('2026-03-03T02:00Z'))).toBeUndefined();
    expect(onCallAt(afterHours, [], at('2026-03-03T00:59Z'))).toMatchObject({ contactId: 'ola', layer: 1 });
    // A full day is 00:00–24:00; a 24/7 layer below fills every gap.
    expect(
      gaps({ layers: [allDay, ...afterHours.layers] }, at('2026-03-02T07:00Z'), at('2026-03-09T07:00Z')),
    ).toEqual([]);
    const weekend: Layer = {
      rotation: rotation({ participants: ['per'] }),
      restrictions: [{ days: ['sat', 'sun'], start: '00:00', end: '24:00' }],
    };
    expect(
      gaps({ layers: [weekend] }, at('2026-03-06T23:00Z'), at('2026-03-08T23:00Z')).concat(
        gaps({ layers: [weekend] }, at('2026-03-06T22:59Z'), at('2026-03-08T23:01Z')),
      ),
    ).toEqual([
      { start: at('2026-03-06T22:59Z'), end: at('2026-03-06T23:00Z') },
      { start: at('2026-03-08T23:00Z'), end: at('2026-03-08T23:01Z') },
    ]);
  });
});

describe('overrides (table)', () => {
  const s = one({ participants: ['kari', 'ola'] }); // weekly from Mon 2026-03-02 08:00 Oslo
  const olaWeek: Override = {
    from: '2026-03-09T07:00:00Z',
    until: '2026-03-16T07:00:00Z',
    replaces: 'ola',
    by: 'per',
  };

  it('swaps one shift, exactly inside [from, until)', () => {
    expect(table(shifts(s, [olaWeek], at('2026-03-02T07:00Z'), at('2026-03-23T07:00Z')))).toEqual([
      ['kari', '2026-03-02T07:00Z', '2026-03-09T07:00Z'],
      ['per', '2026-03-09T07:00Z', '2026-03-16T07:00Z'],
      ['kari', '2026-03-16T07:00Z', '2026-03-23T07:00Z'],
    ]);
    expect(onCallAt(s, [olaWeek], at('2026-03-09T06:59:59.999Z'))?.contactId).toBe('kari');
    expect(onCallAt(s, [olaWeek], at('2026-03-09T07:00Z'))).toEqual({
      contactId: 'per',
      layer: 0,
      source: 'override',
      shiftStart: at('2026-03-09T07:00Z'),
      shiftEnd: at('2026-03-16T07:00Z'),
    });
    expect(onCallAt(s, [olaWeek], at('2026-03-16T06:59:59.999Z'))?.contactId).toBe('per');
    expect(onCallAt(s, [olaWeek], at('2026-03-16T07:00Z'))?.contactId).toBe('kari');
  });

  it('replaces only the named person; without replaces, anyone and gaps too; the last override wins', () => {
    const kariOnly: Override = { ...olaWeek, replaces: 'kari' };
    expect(onCallAt(s, [kariOnly], at('2026-03-10T12:00Z'))?.contactId).toBe('ola');
    const anyone: Override = { from: '2026-03-01T00:00:00Z', until: '2026-03-02T12:00:00Z', by: 'per' };
    expect(onCallAt(s, [anyone], at('2026-03-01T12:00Z'))).toMatchObject({ contactId: 'per', layer: null });
    expect(onCallAt(s, [anyone], at('2026-03-02T08:00Z'))).toMatchObject({ contactId: 'per', layer: 0 });
    expect(table(shifts(s, [anyone], at('2026-03-01T00:00Z'), at('2026-03-03T00:00Z')))).toEqual([
      ['per', '2026-03-01T00:00Z', '2026-03-02T07:00Z'],
      ['per', '2026-03-02T07:00Z', '2026-03-02T12:00Z'], // now standing in for layer 0
      ['kari', '2026-03-02T12:00Z', '2026-03-03T00:00Z'],
    ]);
    expect(nextHandoff(s, [anyone], at('2026-03-01T12:00Z'))).toEqual({
      at: at('2026-03-02T12:00Z'),
      from: 'per',
      to: 'kari',
    });
    const later: Override = { from: '2026-03-02T10:00:00Z', until: '2026-03-02T11:00:00Z', by: 'ingrid' };
    expect(onCallAt(s, [anyone, later], at('2026-03-02T10:30Z'))?.contactId).toBe('ingrid');
    expect(onCallAt(s, [anyone, later], at('2026-03-02T11:00Z'))?.contactId).toBe('per');
  });
});

describe('validateSchedule / validateOverride', () => {
  const known = ['kari', 'ola', 'per'];
  const good = {
    layers: [
      { rotation: rotation({}) },
      { rotation: rotation({}), restrictions: [{ days: weekdays, start: '08:00', end: '16:00' }] },
    ],
  };
  const withLayer = (layer: unknown) => ({ layers: [layer] });
  const rotated = (r: Record<string, unknown>, restrictions?: unknown) =>
    withLayer({ rotation: { ...rotation({}), ...r }, ...(restrictions !== undefined && { restrictions }) });

  it('accepts a good schedule', () => {
    expect(validateSchedule(good, known)).toEqual([]);
    expect(
      validateSchedule(
        rotated({}, [
          { start: '16:00', end: '08:00' },
          { start: '08:00', end: '16:00', days: ['mon'] },
        ]),
        known,
      ),
    ).toEqual([]);
    expect(
      validateSchedule(rotated({}, [{ days: ['sat', 'sun'], start: '00:00', end: '24:00' }]), known),
    ).toEqual([]);
  });

  it.each<[string, unknown, { path: string; message: RegExp }[]]>([
    [
      'unknown participant',
      rotated({ participants: ['kari', 'nobody'] }),
      [{ path: 'schedules.s1.layers[0].rotation.participants[1]', message: /unknown contact "nobody"/ }],
    ],
    [
      'no participants',
      rotated({ participants: [] }),
      [{ path: 'schedules.s1.layers[0].rotation.participants', message: /non-empty/ }],
    ],
    [
      'zero shift length',
      rotated({ shiftLength: 0 }),
      [{ path: 'schedules.s1.layers[0].rotation.shiftLength', message: /positive/ }],
    ],
    [
      'negative shift length',
      rotated({ shiftLength: -1 }),
      [{ path: 'schedules.s1.layers[0].rotation.shiftLength', message: /positive/ }],
    ],
    [
      'bad unit',
      rotated({ shiftUnit: 'months' }),
      [{ path: 'schedules.s1.layers[0].rotation.shiftUnit', message: /hours, days or weeks/ }],
    ],
    [
      'unknown zone',
      rotated({ timeZone: 'Europe/Atlantis' }),
      [{ path: 'schedules.s1.layers[0].rotation.timeZone', message: /unknown time zone "Europe\/Atlantis"/ }],
    ],
    [
      'bad handoff time',
      rotated({ handoff: '25:00' }),
      [{ path: 'schedules.s1.layers[0].rotation.handoff', message: /HH:MM/ }],
    ],
    [
      'bad handoff format',
      rotated({ handoff: '8:00' }),
      [{ path: 'schedules.s1.layers[0].rotation.handoff', message: /HH:MM/ }],
    ],
    [
      'bad start date',
      rotated({ start: '2026-02-30' }),
      [{ path: 'schedules.s1.layers[0].rotation.start', message: /YYYY-MM-DD/ }],
    ],
    [
      'zero-length window',
      rotated({}, [{ start: '08:00', end: '08:00' }]),
      [{ path: 'schedules.s1.layers[0].restrictions[0]', message: /08:00–08:00 is empty/ }],
    ],
    [
      'overlapping windows',
      rotated({}, [
        { days: weekdays, start: '08:00', end: '16:00' },
        { days: ['fri'], start: '15:00', end: '18:00' },
      ]),
      [
        {
          path: 'schedules.s1.layers[0].restrictions[1]',
          message: /overlaps restrictions\[0\] \(fri 15:00–18:00\)/,
        },
      ],
    ],
    [
      'overlap across midnight and the week end',
      rotated({}, [
        { days: ['sun'], start: '22:00', end: '02:00' },
        { days: ['mon'], start: '01:00', end: '03:00' },
      ]),
      [{ path: 'schedules.s1.layers[0].restrictions[1]', message: /overlaps restrictions\[0\]/ }],
    ],
    [
      'bad weekday',
      rotated({}, [{ days: ['monday'], start: '08:00', end: '16:00' }]),
      [{ path: 'schedules.s1.layers[0].restrictions[0].days[0]', message: /one of mon/ }],
    ],
    [
      'bad window end',
      rotated({}, [{ start: '08:00', end: '24:30' }]),
      [{ path: 'schedules.s1.layers[0].restrictions[0].end', message: /HH:MM or 24:00/ }],
    ],
    ['no layers', { layers: [] }, [{ path: 'schedules.s1.layers', message: /non-empty/ }]],
    [
      'override with until ≤ from',
      { ...good, overrides: [{ from: '2026-03-02T07:00:00Z', until: '2026-03-02T07:00:00Z', by: 'per' }] },
      [{ path: 'schedules.s1.overrides[0].until', message: /after from/ }],
    ],
  ])('%s', (_name, raw, expected) => {
    const issues = validateSchedule(raw, known, 'schedules.s1');
    expect(issues).toHaveLength(expected.length);
    expected.forEach((e, i) => {
      expect(issues[i]!.path).toBe(e.path);
      expect(issues[i]!.message).toMatch(e.message);
    });
  });

  it('overrides: times with an offset, known people, not in the past', () => {
    const ok = {
      from: '2026-03-02T08:00:00+01:00',
      until: '2026-03-03T07:00:00Z',
      replaces: 'ola',
      by: 'per',
    };
    expect(validateOverride(ok, known)).toEqual([]);
    expect(validateOverride({ ...ok, until: '2026-03-01T00:00:00Z' }, known)).toEqual([
      { path: 'until', message: 'must be after from' },
    ]);
    expect(validateOverride({ ...ok, from: '2026-03-02T08:00' }, known).map((i) => i.path)).toEqual(['from']);
    expect(validateOverride({ ...ok, by: 'nobody', replaces: 'ghost' }, known)).toEqual([
      { path: 'by', message: 'unknown contact "nobody"' },
      { path: 'replaces', message: 'unknown contact "ghost"' },
    ]);
    expect(validateOverride(ok, known, 'body', at('2026-03-04T00:00Z'))).toEqual([
      { path: 'body.until', message: 'is in the past' },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const ZONES = [
  'Europe/Oslo',
  'America/New_York',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'Pacific/Chatham',
  'America/Sao_Paulo',
  'Europe/London',
  'UTC',
];
const POOL = ['a', 'b', 'c', 'd', 'e'];
const BASE_DATE = '2024-01-01';

const clockArb = (hours: fc.Arbitrary<number>) =>
  fc
    .tuple(hours, fc.constantFrom(0, 15, 30, 45, 59))
    .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
/** Early-morning hours often, to land in DST gaps and repeats. */
const hourArb = fc.oneof(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 4 }));
const unitLength: fc.Arbitrary<[ShiftUnit, number]> = fc.oneof(
  fc.tuple(fc.constant<ShiftUnit>('hours'), fc.integer({ min: 1, max: 48 })),
  fc.tuple(fc.constant<ShiftUnit>('days'), fc.integer({ min: 1, max: 10 })),
  fc.tuple(fc.constant<ShiftUnit>('weeks'), fc.integer({ min: 1, max: 3 })),
);
const rotationArb = (minParticipants = 1): fc.Arbitrary<Rotation> =>
  fc
    .record({
      participants: fc.uniqueArray(fc.constantFrom(...POOL), { minLength: minParticipants, maxLength: 5 }),
      unit: unitLength,
      handoff: clockArb(hourArb),
      timeZone: fc.constantFrom(...ZONES),
      // 2024-01 … 2028-12: every DST change in between is reachable.
      start: fc.integer({ min: 0, max: 1800 }).map((n) => addDays(BASE_DATE, n)),
    })
    .map(({ unit, ...r }) => ({ ...r, shiftUnit: unit[0], shiftLength: unit[1] }));
const restrictionArb: fc.Arbitrary<Restriction> = fc
  .record({
    days: fc.option(fc.uniqueArray(fc.constantFrom(...WEEKDAYS), { minLength: 1, maxLength: 7 }), {
      nil: undefined,
    }),
    start: clockArb(hourArb),
    end: fc.oneof(clockArb(hourArb), fc.constant('24:00')),
  })
  .map(({ days, ...w }) => ({ ...w, ...(days && { days }) }));
const layerArb = (minParticipants = 1): fc.Arbitrary<Layer> =>
  fc
    .record({
      rotation: rotationArb(minParticipants),
      restrictions: fc.option(fc.array(restrictionArb, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    })
    .map(({ restrictions, ...l }) => ({ ...l, ...(restrictions && { restrictions }) }));
const validLayer = (l: Layer) => validateSchedule({ layers: [l] }, POOL).length === 0;
const scheduleArb: fc.Arbitrary<Schedule> = fc
  .array(layerArb().filter(validLayer), { minLength: 1, maxLength: 3 })
  .map((layers) => ({ layers }));

/** The first handoff of a rotation, without enumerating all of time. */
const h0Of = (r: Rotation) =>
  rotationHandoffs(
    r,
    Date.parse(`${r.start}T00:00:00Z`) - DAY,
    Date.parse(`${r.start}T00:00:00Z`) + 2 * DAY,
  )[0]!;

const dayDiff = (a: string, b: string) =>
  Math.round((Date.parse(`${a}T00:00:00Z`) - Date.parse(`${b}T00:00:00Z`)) / DAY);
const clockMinutes = (hhmm: string) =>
  hhmm === '24:00' ? 1440 : Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

/** Whether the zone's offset is the same from 5 hours before to 5 hours after: wall time is unambiguous. */
const calm = (tz: string, t: number) => {
  const z = zone(tz);
  const o = z.offset(t);
  return [-5, -2.5, 2.5, 5].every((h) => z.offset(t + h * HOUR) === o);
};

/** An independent reading of restrictions in wall-clock terms. */
function insideByWallClock(l: Layer, t: number): boolean {
  if (!l.restrictions?.length) return true;
  const local = zone(l.rotation.timeZone).local(t);
  return l.restrictions.some((w) => {
    const days = new Set((w.days ?? WEEKDAYS).map((d) => WEEKDAYS.indexOf(d)));
    const s = clockMinutes(w.start);
    let e = clockMinutes(w.end);
    if (e <= s) e += 1440;
    const today = days.has(local.weekday) && s <= local.minutes && local.minutes < e;
    const yesterday = days.has((local.weekday + 6) % 7) && e > 1440 && local.minutes < e - 1440;
    return today || yesterday;
  });
}

/** The shift index a wall clock implies (days and weeks), or by elapsed hours. */
function shiftIndexByWallClock(r: Rotation, t: number): number {
  if (r.shiftUnit === 'hours') return Math.floor((t - h0Of(r)) / (r.shiftLength * HOUR));
  const local = zone(r.timeZone).local(t);
  const days = dayDiff(local.date, r.start) - (local.minutes < clockMinutes(r.handoff) ? 1 : 0);
  return days < 0 ? -1 : Math.floor(days / (r.shiftLength * (r.shiftUnit === 'weeks' ? 7 : 1)));
}

const samplesArb = fc.array(fc.integer({ min: -2 * DAY, max: 90 * DAY }), { minLength: 20, maxLength: 40 });

describe('properties', () => {
  it('a layer with participants has exactly the one expected person at every sampled instant within its restrictions', () => {
    fc.assert(
      fc.property(layerArb().filter(validLayer), samplesArb, (layer, offsets) => {
        const r = layer.rotation;
        const h0 = h0Of(r);
        for (const dt of offsets) {
          const t = h0 + dt;
          const who = layerOnCallAt(layer, t);
          if (t < h0) {
            expect(who).toBeUndefined();
            continue;
          }
          if (!calm(r.timeZone, t)) continue;
          if (!insideByWallClock(layer, t)) {
            expect(who).toBeUndefined();
            continue;
          }
          const k = shiftIndexByWallClock(r, t);
          expect(who).toBe(r.participants[k % r.participants.length]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('each handoff happens at the stated local time when it exists that day, else when the clock jumps past it', () => {
    fc.assert(
      fc.property(
        rotationArb(2).filter((r) => r.shiftUnit !== 'hours'),
        (r) => {
          const z = zone(r.timeZone);
          const h0 = h0Of(r);
          const minutes = clockMinutes(r.handoff);
          const step = r.shiftLength * (r.shiftUnit === 'weeks' ? 7 : 1);
          const handoffs = rotationHandoffs(r, h0, h0 + 400 * DAY);
          // The schedule's shift boundaries are exactly these handoffs (distinct participants).
          const sh = shifts({ layers: [{ rotation: r }] }, [], h0, h0 + 400 * DAY);
          expect(sh.map((s) => s.start)).toEqual(handoffs);
          handoffs.forEach((h, k) => {
            const date = addDays(r.start, k * step);
            const local = z.local(h);
            if (local.date === date && local.minutes === minutes) {
              // The first occurrence: 30 or 60 minutes earlier was not the same wall time.
              for (const back of [30, 60]) {
                const earlier = z.local(h - back * 60_000);
                expect(earlier.date === date && earlier.minutes === minutes).toBe(false);
              }
            } else {
              // The time does not exist that day: the handoff is where the clock jumps past it.
              const wall = Date.parse(`${date}T00:00:00Z`) + minutes * 60_000;
              expect(h - 1 + z.offset(h - 1)).toBeLessThan(wall);
              expect(h + z.offset(h)).toBeGreaterThan(wall);
            }
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('hours-based rotations hand off every shift length in real elapsed time', () => {
    fc.assert(
      fc.property(
        rotationArb(1).filter((r) => r.shiftUnit === 'hours'),
        (r) => {
          const h0 = h0Of(r);
          const hs = rotationHandoffs(r, h0, h0 + 60 * DAY);
          hs.forEach((h, k) => expect(h).toBe(h0 + k * r.shiftLength * HOUR));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('an override wins exactly inside its interval and nowhere else', () => {
    fc.assert(
      fc.property(
        scheduleArb,
        fc.integer({ min: -5 * DAY, max: 40 * DAY }),
        fc.integer({ min: 1, max: 10 * DAY }),
        fc.option(fc.constantFrom(...POOL), { nil: undefined }),
        samplesArb,
        (schedule, fromDt, length, replaces, offsets) => {
          const base = h0Of(schedule.layers[0]!.rotation);
          const from = base + fromDt;
          const until = from + length;
          const ov: Override = {
            from: new Date(from).toISOString(),
            until: new Date(until).toISOString(),
            by: 'z',
            ...(replaces && { replaces }),
          };
          const instants = [from - 1, from, until - 1, until, ...offsets.map((d) => base + d)];
          for (const t of instants) {
            const without = onCallAt(schedule, [], t, { horizonMs: 60 * DAY });
            const withIt = onCallAt(schedule, [ov], t, { horizonMs: 60 * DAY });
            const inside =
              from <= t && t < until && (replaces === undefined || without?.contactId === replaces);
            if (inside) {
              expect(withIt).toMatchObject({
                contactId: 'z',
                source: 'override',
                layer: without?.layer ?? null,
              });
            } else {
              expect(withIt?.contactId).toBe(without?.contactId);
              expect(withIt?.source ?? 'none').not.toBe('override');
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('shifts() is contiguous, non-overlapping, joined, covers the window with gaps(), and agrees with onCallAt', () => {
    fc.assert(
      fc.property(
        scheduleArb,
        fc.array(
          fc.record({
            from: fc.integer({ min: -2 * DAY, max: 20 * DAY }),
            length: fc.integer({ min: 1, max: 3 * DAY }),
            by: fc.constantFrom(...POOL, 'z'),
            replaces: fc.option(fc.constantFrom(...POOL), { nil: undefined }),
          }),
          { maxLength: 3 },
        ),
        fc.integer({ min: -3 * DAY, max: 10 * DAY }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), {
          minLength: 10,
          maxLength: 30,
        }),
        (schedule, rawOverrides, fromDt, fractions) => {
          const base = h0Of(schedule.layers[0]!.rotation);
          const overrides: Override[] = rawOverrides.map((o) => ({
            from: new Date(base + o.from).toISOString(),
            until: new Date(base + o.from + o.length).toISOString(),
            by: o.by,
            ...(o.replaces && { replaces: o.replaces }),
          }));
          const from = base + fromDt;
          const to = from + 21 * DAY;
          const list = shifts(schedule, overrides, from, to);
          const holes = gaps(schedule, from, to, overrides);
          // Ordered, non-empty, non-overlapping; touching neighbours differ (else they would be joined).
          list.forEach((s, i) => {
            expect(s.start).toBeLessThan(s.end);
            expect(s.start).toBeGreaterThanOrEqual(from);
            expect(s.end).toBeLessThanOrEqual(to);
            const prev = list[i - 1];
            if (prev) {
              expect(prev.end).toBeLessThanOrEqual(s.start);
              if (prev.end === s.start) {
                expect([prev.contactId, prev.layer, prev.source]).not.toEqual([
                  s.contactId,
                  s.layer,
                  s.source,
                ]);
              }
            }
          });
          // Shifts and gaps together tile [from, to) exactly.
          const tiles = [...list, ...holes].sort((a, b) => a.start - b.start);
          expect(tiles[0]?.start).toBe(from);
          tiles.forEach((p, i) => expect(p.end).toBe(tiles[i + 1]?.start ?? to));
          // Agreement with onCallAt, also at every boundary and just before it.
          const instants = [
            ...fractions.map((f) => from + Math.floor(f * (to - from))),
            ...list.flatMap((s) => [s.start, s.end - 1]),
          ];
          for (const t of instants) {
            const oc = onCallAt(schedule, overrides, t, { horizonMs: 40 * DAY });
            const sh = list.find((s) => s.start <= t && t < s.end);
            if (!sh) {
              expect(oc).toBeUndefined();
              continue;
            }
            expect(oc).toBeDefined();
            expect([oc!.contactId, oc!.layer, oc!.source]).toEqual([sh.contactId, sh.layer, sh.source]);
            expect(Math.max(oc!.shiftStart, from)).toBe(sh.start);
            expect(Math.min(oc!.shiftEnd, to)).toBe(sh.end);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('nextHandoff is the first change of person that shifts() shows', () => {
    fc.assert(
      fc.property(scheduleArb, fc.integer({ min: -DAY, max: 10 * DAY }), (schedule, dt) => {
        const t = h0Of(schedule.layers[0]!.rotation) + dt;
        const window = 30 * DAY;
        const list = shifts(schedule, [], t, t + window);
        const who = (x: number) => list.find((s) => s.start <= x && x < s.end)?.contactId;
        const first = who(t);
        const changes = [...list.map((s) => s.start), ...list.map((s) => s.end)]
          .filter((x) => x > t && x < t + window)
          .sort((a, b) => a - b)
          .find((x) => who(x) !== first);
        const h = nextHandoff(schedule, [], t, { horizonMs: window - 1 });
        expect(h?.at).toBe(changes);
        if (h) expect([h.from, h.to]).toEqual([first, who(h.at)]);
      }),
      { numRuns: 100 },
    );
  });
});
