/** Maintenance windows as pure code: fixed, weekly and RRULE windows in a zone, across DST; shape errors by field. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  allOccurrences,
  coveredComponents,
  maintenanceErrors,
  occurrences,
  type MaintenanceEntry,
} from '../../domain/maintenance.js';
import { zone } from '../../domain/calendar.js';
import { validateConfig, ConfigError } from '../../config/load.js';

const base = { checks: [], services: ['fs-canvas'], reason: 'patching' };
const iso = (ms: number) => new Date(ms).toISOString();
const starts = (m: MaintenanceEntry, from: string, to: string) =>
  occurrences(m, 0, Date.parse(from), Date.parse(to)).map((o) => `${iso(o.start)}–${iso(o.end)}`);

describe('maintenance occurrences', () => {
  it.each([
    {
      name: 'weekly Tuesday 02:00 Oslo keeps 02:00 across spring-forward (01:00Z, then 00:00Z)',
      m: { ...base, weekly: { days: ['tue'], at: '02:00' }, duration: '2h' } as MaintenanceEntry,
      from: '2027-03-20T00:00:00Z',
      to: '2027-04-01T00:00:00Z',
      want: [
        '2027-03-23T01:00:00.000Z–2027-03-23T03:00:00.000Z',
        '2027-03-30T00:00:00.000Z–2027-03-30T02:00:00.000Z',
      ],
    },
    {
      name: 'weekly Saturday and Sunday 22:30 in UTC',
      m: {
        ...base,
        weekly: { days: ['sat', 'sun'], at: '22:30' },
        duration: '30m',
        timeZone: 'UTC',
      } as MaintenanceEntry,
      from: '2027-01-01T00:00:00Z',
      to: '2027-01-04T00:00:00Z',
      want: [
        '2027-01-02T22:30:00.000Z–2027-01-02T23:00:00.000Z',
        '2027-01-03T22:30:00.000Z–2027-01-03T23:00:00.000Z',
      ],
    },
    {
      name: 'RRULE: the first Tuesday of each month at 22:00 Oslo (CET in February, CEST in April)',
      m: { ...base, rrule: 'FREQ=MONTHLY;BYDAY=1TU', at: '22:00', duration: '1h' } as MaintenanceEntry,
      from: '2027-02-01T00:00:00Z',
      to: '2027-04-30T00:00:00Z',
      want: [
        '2027-02-02T21:00:00.000Z–2027-02-02T22:00:00.000Z',
        '2027-03-02T21:00:00.000Z–2027-03-02T22:00:00.000Z',
        '2027-04-06T20:00:00.000Z–2027-04-06T21:00:00.000Z',
      ],
    },
    {
      name: 'RRULE with its own BYHOUR/BYMINUTE and a leading "RRULE:"',
      m: {
        ...base,
        rrule: 'RRULE:FREQ=DAILY;BYHOUR=3;BYMINUTE=15',
        duration: '15m',
        timeZone: 'UTC',
      } as MaintenanceEntry,
      from: '2027-05-01T00:00:00Z',
      to: '2027-05-03T00:00:00Z',
      want: [
        '2027-05-01T03:15:00.000Z–2027-05-01T03:30:00.000Z',
        '2027-05-02T03:15:00.000Z–2027-05-02T03:30:00.000Z',
      ],
    },
    {
      name: 'a window still running at the start of the range is included',
      m: {
        ...base,
        weekly: { days: ['mon'], at: '23:00' },
        duration: '3h',
        timeZone: 'UTC',
      } as MaintenanceEntry,
      from: '2027-01-05T01:00:00Z',
      to: '2027-01-05T02:00:00Z',
      want: ['2027-01-04T23:00:00.000Z–2027-01-05T02:00:00.000Z'],
    },
    {
      name: 'a fixed window, only when it overlaps',
      m: { ...base, from: '2027-06-01T20:00:00Z', until: '2027-06-01T22:00:00Z' } as MaintenanceEntry,
      from: '2027-06-01T21:00:00Z',
      to: '2027-06-02T00:00:00Z',
      want: ['2027-06-01T20:00:00.000Z–2027-06-01T22:00:00.000Z'],
    },
  ])('$name', ({ m, from, to, want }) => {
    expect(starts(m, from, to)).toEqual(want);
  });

  it('gives each occurrence a stable key from the window id and its start', () => {
    const m = {
      ...base,
      id: 'db-patch',
      weekly: { days: ['tue'], at: '02:00' },
      duration: '1h',
    } as MaintenanceEntry;
    const [o] = occurrences(m, 3, Date.parse('2027-03-22T00:00:00Z'), Date.parse('2027-03-24T00:00:00Z'));
    expect(o!.key).toBe('db-patch/2027-03-23T01:00:00.000Z');
    const unnamed = { ...m, id: undefined };
    expect(
      occurrences(unnamed, 3, Date.parse('2027-03-22T00:00:00Z'), Date.parse('2027-03-24T00:00:00Z'))[0]!.key,
    ).toBe('maintenance-4/2027-03-23T01:00:00.000Z');
  });

  it('property: every weekly occurrence starts at its local time on one of its days, and lasts its duration', () => {
    const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom(...days), { minLength: 1, maxLength: 7 }),
        fc.integer({ min: 0, max: 23 }),
        fc.constantFrom(0, 15, 30, 45),
        fc.integer({ min: 0, max: 700 }),
        fc.constantFrom('Europe/Oslo', 'America/New_York', 'UTC', 'Australia/Sydney'),
        (ds, h, mi, dayOffset, tz) => {
          const at = `${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}`;
          const m = { ...base, weekly: { days: ds, at }, duration: '1h', timeZone: tz } as MaintenanceEntry;
          const from = Date.parse('2027-01-01T00:00:00Z') + dayOffset * 86_400_000;
          const z = zone(tz);
          for (const o of occurrences(m, 0, from, from + 14 * 86_400_000)) {
            const local = z.local(o.start);
            expect(ds).toContain(days[local.weekday]);
            // In a DST gap the wall clock moves forward; otherwise it is the configured time.
            if (z.utc(local.date, h * 60 + mi) === o.start) expect(o.end - o.start).toBe(3_600_000);
          }
          // Each chosen weekday occurs twice in 14 days (give or take the edges).
          const n = occurrences(m, 0, from, from + 14 * 86_400_000).length;
          expect(n).toBeGreaterThanOrEqual(ds.length * 2 - 1);
          expect(n).toBeLessThanOrEqual(ds.length * 2 + 1);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('sorts every window’s occurrences together, and finds the covered status page components', () => {
    const all = allOccurrences(
      [
        {
          ...base,
          weekly: { days: ['wed'], at: '01:00' },
          duration: '1h',
          timeZone: 'UTC',
        } as MaintenanceEntry,
        {
          ...base,
          checks: ['canvas-port'],
          services: [],
          from: '2027-01-05T12:00:00Z',
          until: '2027-01-05T13:00:00Z',
        },
      ],
      Date.parse('2027-01-04T00:00:00Z'),
      Date.parse('2027-01-07T00:00:00Z'),
    );
    expect(all.map((o) => o.windowId)).toEqual(['maintenance-2', 'maintenance-1']);
    const config = {
      services: [
        { id: 'fs-canvas', component: 'Canvas import' },
        { id: 'canvas-host' },
        { id: 'api', component: 'API' },
      ],
      checks: [{ id: 'canvas-port', service: 'fs-canvas' }],
    };
    expect(coveredComponents(config, all[0]!)).toEqual(['fs-canvas']);
    expect(coveredComponents(config, { checks: [], services: ['canvas-host'] })).toEqual([]);
  });
});

describe('maintenance shape errors', () => {
  it.each([
    [
      {
        ...base,
        from: '2027-01-01T00:00:00Z',
        until: '2027-01-01T01:00:00Z',
        weekly: { days: ['mon'], at: '01:00' },
        duration: '1h',
      },
      '',
      'give exactly one of from/until, weekly, or rrule',
    ],
    [{ ...base }, '', 'give exactly one of from/until, weekly, or rrule'],
    [{ ...base, from: '2027-01-01T00:00:00Z' }, 'until', 'required with "from"'],
    [
      { ...base, from: '2027-01-01T02:00:00Z', until: '2027-01-01T01:00:00Z' },
      'until',
      'must be after "from"',
    ],
    [{ ...base, weekly: { days: ['mon'], at: '01:00' } }, 'duration', 'required with weekly or rrule'],
    [{ ...base, weekly: { days: [], at: '01:00' }, duration: '1h' }, 'weekly.days', 'name at least one day'],
    [{ ...base, rrule: 'BYDAY=MO', duration: '1h' }, 'rrule', 'FREQ is required'],
    [{ ...base, rrule: 'FREQ=SECONDLY', duration: '1h' }, 'rrule', 'FREQ=SECONDLY is not a valid value'],
    [{ ...base, rrule: 'FREQ=DAILY;BYEASTER=1', duration: '1h' }, 'rrule', 'BYEASTER is not supported'],
    [
      { ...base, rrule: 'FREQ=DAILY;COUNT=3;UNTIL=20270101', duration: '1h' },
      'rrule',
      'COUNT and UNTIL exclude each other',
    ],
    [
      { ...base, weekly: { days: ['mon'], at: '01:00' }, duration: '1h', timeZone: 'Mars/Olympus' },
      'timeZone',
      'unknown time zone "Mars/Olympus"',
    ],
  ] as [MaintenanceEntry, string, string][])('%# → %s: %s', (m, field, message) => {
    const errors = maintenanceErrors(m);
    expect(errors.find((e) => e.field === field)?.message).toContain(message);
  });

  it('a config error names the path', () => {
    const raw = {
      contacts: [{ id: 'kari', name: 'Kari', email: 'kari@test.local' }],
      policies: [{ id: 'p', levels: [{ notify: ['kari'], ackTimeout: '5m' }], acknowledgementTimeout: '1h' }],
      services: [{ id: 'fs-canvas', name: 'FS', owner: 'kari', policy: 'p' }],
      maintenance: [
        { services: ['fs-canvas'], weekly: { days: ['tue'], at: '02:00' }, duration: '2h' },
        { services: ['fs-canvas'], rrule: 'FREQ=WEEKLY;BYDAY=XX', duration: '1h' },
        { services: ['fs-canvas'], rrule: 'FREQ=DAILY;INTERVAL=x', duration: '1h' },
      ],
    };
    let error: unknown;
    try {
      validateConfig(raw, 'test.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toContain('maintenance[1].rrule');
    expect(String((error as Error).message)).toContain('BYDAY=XX is not a valid value');
    expect(String((error as Error).message)).toContain('maintenance[2].rrule');
    expect(String((error as Error).message)).toContain('INTERVAL=x is not a valid value');
    expect(String((error as Error).message)).not.toContain('maintenance[0]');
  });
});
