/**
 * domain/oncall.ts: schedule targets, who a schedule and a policy level reach at an instant (with
 * overrides), and the gap warnings of a config load. Table tests and properties (fast-check).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { validateConfig } from '../../config/load.js';
import {
  policyOnCall,
  scheduleGapWarnings,
  scheduleOnCall,
  scheduleTargets,
  whoIsOnCall,
} from '../../domain/oncall.js';
import { onCallAt, type Override } from '../../domain/schedule.js';

const config = validateConfig(
  {
    contacts: ['kari', 'ola', 'ingrid', 'per'].map((id) => ({
      id,
      name: id.toUpperCase(),
      email: `${id}@t.local`,
    })),
    teams: [{ id: 'leads', name: 'Leads', members: ['ingrid', 'per'] }],
    schedules: [
      {
        id: 'week',
        name: 'Weekly',
        layers: [
          {
            rotation: {
              participants: ['kari', 'ola'],
              shiftLength: 1,
              shiftUnit: 'weeks',
              handoff: '09:00',
              timeZone: 'Europe/Oslo',
              start: '2026-11-30',
            },
          },
          {
            name: 'office hours',
            rotation: {
              participants: ['ingrid'],
              shiftLength: 1,
              shiftUnit: 'days',
              handoff: '08:00',
              timeZone: 'Europe/Oslo',
              start: '2026-11-30',
            },
            restrictions: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:00', end: '16:00' }],
          },
        ],
      },
    ],
    policies: [
      {
        id: 'p',
        levels: [
          { notify: ['schedule:week', 'per'], ackTimeout: '5m' },
          { notify: ['team:leads', 'schedule:week'], ackTimeout: '5m' },
        ],
        acknowledgementTimeout: '1h',
      },
    ],
    services: [{ id: 's', name: 'S', owner: 'kari', policy: 'p' }],
  },
  'test',
);
const none = () => [];

describe('on-call model', () => {
  it('finds the schedules among targets, each once and in order', () => {
    expect(scheduleTargets(['kari', 'schedule:a', 'team:x', 'schedule:b', 'schedule:a'])).toEqual(['a', 'b']);
    expect(scheduleTargets(['kari', 'team:x'])).toEqual([]);
  });

  it.each([
    // Wed 2026-12-02: office hours (08–16 Oslo) are Ingrid's (the higher layer), else the week's (Kari).
    ['2026-12-02T06:59:00Z', 'kari', 'layer'],
    ['2026-12-02T07:00:00Z', 'ingrid', 'layer'],
    ['2026-12-02T14:59:00Z', 'ingrid', 'layer'],
    ['2026-12-02T15:00:00Z', 'kari', 'layer'],
    // Saturday: no office hours.
    ['2026-12-05T10:00:00Z', 'kari', 'layer'],
    // Monday 2026-12-07 07:30Z = 08:30 Oslo: office hours again; 16:00 Oslo on: Ola's week.
    ['2026-12-07T07:30:00Z', 'ingrid', 'layer'],
    ['2026-12-07T15:30:00Z', 'ola', 'layer'],
  ])('at %s the schedule has %s on call', (at, who, source) => {
    const [r] = whoIsOnCall(config, ['week'], none, Date.parse(at));
    expect(r).toMatchObject({ scheduleId: 'week', recipient: { id: who }, source });
  });

  it('an unknown schedule has nobody', () => {
    expect(whoIsOnCall(config, ['ghost'], none, Date.now())).toEqual([{ scheduleId: 'ghost' }]);
  });

  it('names who a policy level reaches now and after the next change, with how', () => {
    const at = Date.parse('2026-12-02T14:00:00Z'); // Wed 15:00 Oslo: Ingrid, Kari after 16:00
    const levels = policyOnCall(config, 'p', none, at);
    expect(levels[0]).toEqual({
      level: 1,
      targets: ['schedule:week', 'per'],
      now: [
        { contactId: 'ingrid', name: 'INGRID', via: 'schedule:week' },
        { contactId: 'per', name: 'PER', via: 'per' },
      ],
      next: {
        at: '2026-12-02T15:00:00.000Z',
        people: [
          { contactId: 'kari', name: 'KARI', via: 'schedule:week' },
          { contactId: 'per', name: 'PER', via: 'per' },
        ],
      },
    });
    // Each person once: Ingrid is in the team and on call.
    expect(levels[1]!.now.map((p) => p.contactId)).toEqual(['ingrid', 'per']);
  });

  it('now and next of a schedule skip the same person and gaps', () => {
    const s = config.schedules[0]!;
    const r = scheduleOnCall(config, s, [], Date.parse('2026-12-02T14:00:00Z'));
    expect(r.now).toMatchObject({ contactId: 'ingrid', until: '2026-12-02T15:00:00.000Z' });
    expect(r.next).toEqual({ contactId: 'kari', name: 'KARI', from: '2026-12-02T15:00:00.000Z' });
    expect(r.gapUntil).toBeUndefined();
  });

  it('a schedule that always has someone warns about nothing', () => {
    expect(scheduleGapWarnings(config, Date.parse('2026-12-02T00:00:00Z'))).toEqual([]);
  });

  it('property: who a schedule reaches is what onCallAt says, overrides included', () => {
    const base = Date.parse('2026-12-01T00:00:00Z');
    const override = fc
      .record({
        start: fc.integer({ min: 0, max: 14 * 24 * 60 }),
        minutes: fc.integer({ min: 1, max: 3 * 24 * 60 }),
        by: fc.constantFrom('kari', 'ola', 'ingrid', 'per'),
        replaces: fc.option(fc.constantFrom('kari', 'ola', 'ingrid'), { nil: undefined }),
      })
      .map((o): Override => ({
        from: new Date(base + o.start * 60_000).toISOString(),
        until: new Date(base + (o.start + o.minutes) * 60_000).toISOString(),
        by: o.by,
        ...(o.replaces ? { replaces: o.replaces } : {}),
      }));
    fc.assert(
      fc.property(
        fc.array(override, { maxLength: 4 }),
        fc.integer({ min: 0, max: 14 * 24 * 60 }),
        (list, m) => {
          const at = base + m * 60_000;
          const [r] = whoIsOnCall(config, ['week'], () => list, at);
          const expected = onCallAt(config.schedules[0]!, list, at);
          expect(r!.recipient?.id).toBe(expected?.contactId);
          expect(r!.source).toBe(expected?.source);
          // A policy level with the schedule reaches that person.
          const level = policyOnCall(config, 'p', () => list, at)[0]!;
          expect(level.now[0]!.contactId).toBe(expected!.contactId);
        },
      ),
      { numRuns: 200 },
    );
  });
});
