/**
 * resolveOnCall, the activity a level calls when it pages: the schedule from the worker's config,
 * overrides from a real record store, evaluated at the instant the workflow gives. Across Oslo's
 * spring-forward and fall-back weeks the weekly handoff stays at 09:00 local, so a page at 08:30 UTC
 * goes to different people before and after the change; without a store answer, the rotation alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load.js';
import { createOnCallActivities } from '../../activities/oncall.js';
import { createScheduleRecords } from '../../store/schedules.js';
import { openDb } from '../../store/db.js';
import { freshStore, type TestStore } from '../helpers/store.js';

const config = validateConfig(
  {
    contacts: [
      { id: 'kari', name: 'Kari Nordmann', email: 'kari@test.local' },
      { id: 'ola', name: 'Ola Hansen', email: 'ola@test.local' },
      { id: 'per', name: 'Per Johansen', email: 'per@test.local' },
    ],
    schedules: [
      {
        id: 'integration',
        name: 'Integration team',
        layers: [
          {
            rotation: {
              participants: ['kari', 'ola'],
              shiftLength: 1,
              shiftUnit: 'weeks',
              handoff: '09:00',
              timeZone: 'Europe/Oslo',
              // A Monday; 2027-03-29 (after spring-forward) is week 12: Kari's again.
              start: '2027-01-04',
            },
          },
        ],
      },
    ],
    policies: [
      {
        id: 'chain',
        levels: [{ notify: ['schedule:integration'], ackTimeout: '5m' }],
        acknowledgementTimeout: '1h',
      },
    ],
    services: [{ id: 'fs-canvas', name: 'FS', owner: 'kari', policy: 'chain' }],
  },
  'test',
);

describe('resolveOnCall', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await freshStore();
  });
  afterAll(async () => {
    await store?.close();
  });
  const resolve = (at: string) =>
    createOnCallActivities({ config, schedules: createScheduleRecords(store.db) })
      .resolveOnCall({ schedules: ['integration'], at })
      .then((r) => ({
        who: r.onCall.map((o) => o.recipient?.id ?? 'nobody'),
        read: r.overridesRead,
        onCall: r.onCall,
      }));

  it('hands off at 09:00 Oslo time on both sides of a DST change', async () => {
    // Monday 2027-03-22 09:00 CET = 08:00Z; Monday 2027-03-29 09:00 CEST = 07:00Z (after spring-forward).
    expect((await resolve('2027-03-22T07:59:00Z')).who).toEqual(['kari']);
    expect((await resolve('2027-03-22T08:00:00Z')).who).toEqual(['ola']);
    expect((await resolve('2027-03-29T06:59:00Z')).who).toEqual(['ola']);
    // 07:30Z is 09:30 local: Kari's week has begun, though a week of UTC hours has not passed.
    expect((await resolve('2027-03-29T07:30:00Z')).who).toEqual(['kari']);
    // Fall-back (2027-10-31): Monday 2027-11-01 09:00 CET = 08:00Z; 07:30Z is 08:30 local.
    const before = await resolve('2027-11-01T07:30:00Z');
    const after = await resolve('2027-11-01T08:00:00Z');
    expect(before.who).not.toEqual(after.who);
    expect(before.onCall[0]!.until).toBe('2027-11-01T08:00:00.000Z');
  });

  it('applies an override from the store exactly inside its interval', async () => {
    await createScheduleRecords(store.db).addOverride({
      scheduleId: 'integration',
      from: '2027-03-30T10:00:00Z',
      until: '2027-03-30T14:00:00Z',
      by: 'per',
      replaces: 'kari',
      createdBy: 'ola',
    });
    expect((await resolve('2027-03-30T09:59:59Z')).who).toEqual(['kari']);
    const inside = await resolve('2027-03-30T10:00:00Z');
    expect(inside.who).toEqual(['per']);
    expect(inside.onCall[0]).toMatchObject({ source: 'override', until: '2027-03-30T14:00:00.000Z' });
    expect((await resolve('2027-03-30T14:00:00Z')).who).toEqual(['kari']);
  });

  it('pages by the rotation when the store does not answer', async () => {
    const dead = openDb('postgres://nobody:x@127.0.0.1:1/none', { connectTimeoutMs: 500 });
    try {
      const r = await createOnCallActivities({
        config,
        schedules: createScheduleRecords(dead),
        log: () => undefined,
      }).resolveOnCall({ schedules: ['integration'], at: '2027-03-30T11:00:00Z' });
      expect(r.overridesRead).toBe(false);
      expect(r.onCall.map((o) => o.recipient?.id)).toEqual(['kari']);
    } finally {
      await dead.end();
    }
  });
});
