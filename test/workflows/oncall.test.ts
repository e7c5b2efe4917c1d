/**
 * Paging whoever is on call at the moment a level pages, on a real dev server with real mail and a
 * real record store: a weekly handoff between a level's first page and its repeat; an override made
 * through the API takes the next page and deleting it gives the rotation back; a page into a gap
 * escalates at once and says so in the timeline.
 *
 * The dev server's clock is real, so the weekly handoff is placed at the next minute boundary: the
 * rotation started exactly one week before it. The same across DST changes and a real weekly
 * handoff, with days skipped on Temporal's time-skipping test server, is
 * test/workflows/oncall-time-skipping.test.ts; DST handoffs at the activity: test/activities/oncall.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { configWarnings, validateConfig } from '../../config/load.js';
import type { Config } from '../../domain/config-schema.js';
import type { IncidentView } from '../../domain/incident.js';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';

type Smtp = Awaited<ReturnType<typeof startSmtpServer>>;
const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Local date and `HH:MM` of an instant in Oslo. */
function oslo(t: number): { date: string; clock: string; minutes: number } {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: 'Europe/Oslo',
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    })
      .formatToParts(new Date(t))
      .map((x) => [x.type, x.value]),
  );
  return {
    date: `${p.year}-${p.month}-${p.day}`,
    clock: `${p.hour}:${p.minute}`,
    minutes: Number(p.hour) * 60 + Number(p.minute),
  };
}
const clock = (minutes: number) =>
  `${String(Math.floor(minutes / 60) % 24).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
const minusDays = (date: string, n: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) - n * DAY).toISOString().slice(0, 10);

function config(o: {
  schedule: Record<string, unknown>;
  levels: { notify: string[]; ackTimeout: string }[];
  repeat?: number;
}): { config: Config; serviceId: string } {
  const serviceId = `svc-${randomUUID().slice(0, 8)}`;
  const raw = {
    contacts: [
      { id: 'kari', name: 'Kari Nordmann', email: 'kari@test.local' },
      { id: 'ola', name: 'Ola Hansen', email: 'ola@test.local' },
      { id: 'ingrid', name: 'Ingrid Berg', email: 'ingrid@test.local' },
      { id: 'per', name: 'Per Johansen', email: 'per@test.local' },
    ],
    schedules: [{ id: 'integration', name: 'Integration team', ...o.schedule }],
    policies: [{ id: 'chain', levels: o.levels, repeat: o.repeat ?? 0, acknowledgementTimeout: '1h' }],
    services: [{ id: serviceId, name: 'FS → Canvas integration', owner: 'kari', policy: 'chain' }],
    incidents: { verifyAttempts: 1, verifyInterval: '1s', recoveryPasses: 1, recoveryInterval: '1s' },
  };
  return { config: validateConfig(raw, 'test'), serviceId };
}

const weekly = (participants: string[], handoff: string, start: string) => ({
  layers: [
    {
      name: 'weekly',
      rotation: { participants, shiftLength: 1, shiftUnit: 'weeks', handoff, timeZone: 'Europe/Oslo', start },
    },
  ],
});

describe('on-call at page time', () => {
  let smtp: Smtp;
  const harnesses: Harness[] = [];
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(async () => {
    for (const h of harnesses) await h.close();
    await smtp?.close();
  });

  const declare = async (h: Harness, serviceId: string) => {
    const r = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('per'),
      payload: { service: serviceId, reason: 'exports stopped' },
    });
    expect(r.statusCode, r.body).toBe(201);
    return (r.json() as { incident: IncidentView }).incident.id;
  };
  const pagesOf = async (h: Harness, id: string, n: number, timeoutMs: number) =>
    eventually(
      async () => {
        const v = await h.incidents.get(id);
        return v.paged.length >= n ? v : undefined;
      },
      timeoutMs,
      `${n} page(s)`,
    );
  const paged = (v: IncidentView) => v.paged.map((p) => `${p.cycle}:${p.level}:${p.recipient.id}`);

  it('pages the person on call at each page time: the repeat after a weekly handoff goes to the new person', async () => {
    // Start between :44 and :50 of a minute, so the handoff (the next minute) falls between the
    // first page (at once) and the repeat (20 s later) with room on both sides.
    while (new Date().getSeconds() < 44 || new Date().getSeconds() > 50) await sleep(250);
    const now = Date.now();
    const handoffAt = Math.ceil(now / 60_000) * 60_000;
    const local = oslo(handoffAt);
    // A weekly rotation that started exactly a week before: Kari's week ends at the handoff.
    const t = config({
      schedule: weekly(['kari', 'ola'], local.clock, minusDays(local.date, 7)),
      levels: [{ notify: ['schedule:integration'], ackTimeout: '20s' }],
      repeat: 1,
    });
    const h = await startHarness({ config: t.config, smtpUrl: smtp.url });
    harnesses.push(h);
    const id = await declare(h, t.serviceId);
    const view = await pagesOf(h, id, 2, 60_000);
    expect(paged(view)).toEqual(['0:1:kari', '1:1:ola']);
    const [first, repeat] = view.paged;
    expect(Date.parse(first!.at)).toBeLessThan(handoffAt);
    expect(Date.parse(repeat!.at)).toBeGreaterThanOrEqual(handoffAt);
    const mails = await smtp.waitForCount((m) => m.text.includes(id), 2, 15_000);
    expect(mails.map((m) => m.to[0])).toEqual(['kari@test.local', 'ola@test.local']);
    const lines = view.timeline.filter((e) => e.kind === 'on-call').map((e) => e.detail);
    expect(lines).toEqual([
      'level 1: Kari Nordmann is on call in integration',
      'level 1 (repeat 1): Ola Hansen is on call in integration',
    ]);
  }, 150_000);

  it('an override created through the API takes the next page; deleting it gives the rotation back', async () => {
    const t = config({
      schedule: weekly(['kari'], '09:00', '2026-01-05'),
      levels: [{ notify: ['schedule:integration'], ackTimeout: '8s' }],
      repeat: 1,
    });
    const h = await startHarness({ config: t.config, smtpUrl: smtp.url });
    harnesses.push(h);
    const now = Date.now();
    const created = await h.app.inject({
      method: 'POST',
      url: '/api/schedules/integration/overrides',
      headers: h.auth('kari'),
      payload: {
        from: new Date(now - 60_000).toISOString(),
        until: new Date(now + 3_600_000).toISOString(),
        by: 'ola',
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const overrideId = (created.json() as { id: string }).id;

    const id = await declare(h, t.serviceId);
    const first = await pagesOf(h, id, 1, 20_000);
    expect(paged(first)).toEqual(['0:1:ola']);
    const del = await h.app.inject({
      method: 'DELETE',
      url: `/api/schedules/integration/overrides/${overrideId}`,
      headers: h.auth('kari'),
    });
    expect(del.statusCode).toBe(204);

    const view = await pagesOf(h, id, 2, 30_000);
    expect(paged(view)).toEqual(['0:1:ola', '1:1:kari']);
    const mails = await smtp.waitForCount((m) => m.text.includes(id), 2, 15_000);
    expect(mails.map((m) => m.to[0])).toEqual(['ola@test.local', 'kari@test.local']);
    expect(view.timeline.filter((e) => e.kind === 'on-call').map((e) => e.detail)).toEqual([
      'level 1: Ola Hansen is on call in integration (override)',
      'level 1 (repeat 1): Kari Nordmann is on call in integration',
    ]);
  }, 90_000);

  it('a config with a 6-hour gap names it, and a page into the gap escalates at once', async () => {
    // Nobody on call from three hours before now (on the hour) for six hours, every day.
    const now = Date.now();
    const g0 = (Math.floor((oslo(now).minutes - 180) / 60) * 60 + 1440) % 1440;
    const t = config({
      schedule: {
        layers: [
          {
            rotation: {
              participants: ['kari', 'ola'],
              shiftLength: 1,
              shiftUnit: 'weeks',
              handoff: '09:00',
              timeZone: 'Europe/Oslo',
              start: '2026-01-05',
            },
            restrictions: [{ start: clock(g0 + 360), end: clock(g0) }],
          },
        ],
      },
      levels: [
        { notify: ['schedule:integration'], ackTimeout: '10m' },
        { notify: ['ingrid'], ackTimeout: '10m' },
      ],
    });
    const [warning] = configWarnings(t.config, now);
    expect(warning?.path).toBe('schedules[0]');
    // The first gap is named from now on; the next one whole, in Oslo time.
    expect(warning?.message).toMatch(
      new RegExp(`${clock(g0)} – \\w{3} \\d{4}-\\d\\d-\\d\\d ${clock(g0 + 360)} Europe/Oslo \\(6 h\\)`),
    );

    const h = await startHarness({ config: t.config, smtpUrl: smtp.url });
    harnesses.push(h);
    const declaredAt = Date.now();
    const id = await declare(h, t.serviceId);
    // Level 1 waits ten minutes for an acknowledgement; into the gap it must not wait at all.
    await pagesOf(h, id, 1, 20_000);
    const view = await eventually(
      async () => {
        const v = await h.incidents.get(id);
        return v.timeline.some((e) => e.detail.includes('escalating to level 2')) ? v : undefined;
      },
      20_000,
      'the escalation to level 2 in the timeline',
    );
    expect(paged(view)).toEqual(['0:2:ingrid']);
    expect(Date.parse(view.paged[0]!.at) - declaredAt).toBeLessThan(15_000);
    const lines = view.timeline.map((e) => `${e.kind}: ${e.detail}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^on-call: level 1: nobody is on call in integration until \d{4}-/),
        'escalated: level 1: nobody to page; escalating at once',
        'escalated: nobody acknowledged within the timeout; escalating to level 2: Ingrid Berg',
      ]),
    );
    await smtp.waitFor((m) => m.text.includes(id) && m.to.includes('ingrid@test.local'), 15_000);
  }, 60_000);
});
