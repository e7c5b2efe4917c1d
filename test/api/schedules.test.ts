/**
 * The on-call API on a real record store: overrides made, listed and deleted through the API change
 * the computed shifts and who is on call; bad overrides are 400 JSON naming the field; the personal
 * calendar feed parses with ical.js and lists the next four weeks of shifts in the schedule's zone;
 * /readyz names a gap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ICAL from 'ical.js';
import { randomUUID } from 'node:crypto';
import { validateConfig } from '../../config/load.js';
import type { Config } from '../../domain/config-schema.js';
import { startHarness, type Harness } from '../helpers/harness.js';

const DAY = 86_400_000;

/** A config with a weekly rotation (Kari, Ola; Mondays 09:00 Oslo) and one with a daily 6-hour gap. */
function onCallConfig(): Config {
  const serviceId = `svc-${randomUUID().slice(0, 8)}`;
  return validateConfig(
    {
      contacts: [
        { id: 'kari', name: 'Kari Nordmann', email: 'kari@test.local' },
        { id: 'ola', name: 'Ola Hansen', email: 'ola@test.local' },
        { id: 'ingrid', name: 'Ingrid Berg', email: 'ingrid@test.local' },
        { id: 'per', name: 'Per Johansen', email: 'per@test.local' },
      ],
      schedules: [
        {
          id: 'integration',
          name: 'Integration team',
          layers: [
            {
              name: 'weekly',
              rotation: {
                participants: ['kari', 'ola'],
                shiftLength: 1,
                shiftUnit: 'weeks',
                handoff: '09:00',
                timeZone: 'Europe/Oslo',
                start: '2026-01-05',
              },
            },
          ],
        },
        {
          id: 'nights',
          name: 'Nights',
          layers: [
            {
              rotation: {
                participants: ['per'],
                shiftLength: 1,
                shiftUnit: 'days',
                handoff: '08:00',
                timeZone: 'Europe/Oslo',
                start: '2026-01-05',
              },
              restrictions: [{ start: '08:00', end: '02:00' }],
            },
          ],
        },
      ],
      policies: [
        {
          id: 'chain',
          levels: [
            { notify: ['schedule:integration'], ackTimeout: '5m' },
            { notify: ['ingrid'], ackTimeout: '5m' },
          ],
          finalFallback: { notify: ['per'] },
          acknowledgementTimeout: '1h',
        },
      ],
      services: [{ id: serviceId, name: 'FS → Canvas', owner: 'kari', policy: 'chain' }],
    },
    'test',
  );
}

/** Who the weekly rotation has on call at an instant (Monday 09:00 Oslo handoffs from 2026-01-05). */
function rotationAt(t: number): 'kari' | 'ola' {
  const first = Date.parse('2026-01-05T08:00:00Z');
  // Counted here independently of domain/schedule.ts: each Monday's 09:00 with that day's Oslo offset.
  let k = 0;
  for (let d = first; ; k++) {
    const next = mondayNine(d + 7 * DAY);
    if (next > t) break;
    d = next;
  }
  return k % 2 === 0 ? 'kari' : 'ola';
}
/** 09:00 Oslo on the local date of `approx` (a Monday around 08:00Z). */
function mondayNine(approx: number): number {
  const date = new Date(approx).toISOString().slice(0, 10);
  const offsetH = osloOffsetHours(Date.parse(`${date}T12:00:00Z`));
  return Date.parse(`${date}T${String(9 - offsetH).padStart(2, '0')}:00:00Z`);
}
function osloOffsetHours(t: number): number {
  const s = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Oslo', timeZoneName: 'shortOffset' })
    .formatToParts(new Date(t))
    .find((p) => p.type === 'timeZoneName')!.value; // GMT+1 / GMT+2
  return Number(s.replace('GMT', ''));
}

describe('on-call API', () => {
  let h: Harness;
  const get = (url: string, who = 'kari') => h.app.inject({ method: 'GET', url, headers: h.auth(who) });
  const post = (url: string, payload: object, who = 'kari') =>
    h.app.inject({ method: 'POST', url, payload, headers: h.auth(who) });

  beforeAll(async () => {
    h = await startHarness({ config: onCallConfig(), worker: false });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('an override created through the API changes who is on call; deleting it restores the rotation', async () => {
    const now = Date.now();
    const rota = rotationAt(now);
    const other = rota === 'kari' ? 'ola' : 'kari';
    const before = (await get('/api/oncall')).json() as {
      schedules: { id: string; now?: { contactId: string } }[];
      policies: { id: string; levels: { level: number; now: { contactId: string }[] }[] }[];
    };
    expect(before.schedules.find((s) => s.id === 'integration')!.now!.contactId).toBe(rota);
    expect(before.policies[0]!.levels[0]!.now.map((p) => p.contactId)).toEqual([rota]);
    expect(before.policies[0]!.levels[1]!.now.map((p) => p.contactId)).toEqual(['ingrid']);

    const from = new Date(now - 60_000).toISOString();
    const until = new Date(now + 2 * 3_600_000).toISOString();
    const created = await post('/api/schedules/integration/overrides', { from, until, by: other });
    expect(created.statusCode, created.body).toBe(201);
    const override = created.json() as { id: string; by: string; createdBy: string };
    expect(override).toMatchObject({ by: other, createdBy: 'kari' });

    const during = (await get('/api/oncall')).json() as typeof before;
    expect(during.schedules.find((s) => s.id === 'integration')!.now).toMatchObject({
      contactId: other,
      source: 'override',
    });
    expect(during.policies[0]!.levels[0]!.now.map((p) => p.contactId)).toEqual([other]);

    const view = await get(
      `/api/schedules/integration?from=${encodeURIComponent(from)}&to=${encodeURIComponent(new Date(now + 3 * 3_600_000).toISOString())}`,
    );
    expect(view.statusCode, view.body).toBe(200);
    const v = view.json() as {
      timeZone: string;
      shifts: { contactId: string; source: string; start: string; end: string }[];
      overrides: { id: string }[];
    };
    expect(v.timeZone).toBe('Europe/Oslo');
    expect(v.overrides.map((o) => o.id)).toEqual([override.id]);
    expect(v.shifts[0]).toMatchObject({ contactId: other, source: 'override', start: from, end: until });

    const del = await h.app.inject({
      method: 'DELETE',
      url: `/api/schedules/integration/overrides/${override.id}`,
      headers: h.auth('ola'),
    });
    expect(del.statusCode).toBe(204);
    const again = await h.app.inject({
      method: 'DELETE',
      url: `/api/schedules/integration/overrides/${override.id}`,
      headers: h.auth('ola'),
    });
    expect(again.statusCode).toBe(404);
    const after = (await get('/api/oncall')).json() as typeof before;
    expect(after.schedules.find((s) => s.id === 'integration')!.now).toMatchObject({
      contactId: rota,
      source: 'layer',
    });
  });

  it('refuses bad overrides with 400 JSON naming the field, and unknown schedules with 404', async () => {
    const now = Date.now();
    const at = (ms: number) => new Date(now + ms).toISOString();
    const cases: [object, string, RegExp][] = [
      [{ from: at(3_600_000), until: at(3_600_000), by: 'ola' }, 'until', /after from/],
      [{ from: at(7_200_000), until: at(3_600_000), by: 'ola' }, 'until', /after from/],
      [{ from: at(0), until: at(3_600_000), by: 'nobody' }, 'by', /unknown contact "nobody"/],
      [{ from: at(0), until: at(3_600_000), by: 'ola', replaces: 'ghost' }, 'replaces', /unknown contact/],
      [{ from: at(-7_200_000), until: at(-3_600_000), by: 'ola' }, 'until', /in the past/],
      [{ from: '2026-12-07 08:00', until: at(3_600_000), by: 'ola' }, 'from', /ISO 8601/],
    ];
    for (const [body, field, message] of cases) {
      const r = await post('/api/schedules/integration/overrides', body);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      const j = r.json() as { error: string; message: string; field: string };
      expect(j.field, r.body).toBe(field);
      expect(j.message).toMatch(message);
    }
    const missing = await post('/api/schedules/integration/overrides', { from: at(0), by: 'ola' });
    expect(missing.statusCode).toBe(400);
    expect((missing.json() as { message: string }).message).toMatch(/until/);
    const unknown = await post('/api/schedules/ghost/overrides', {
      from: at(0),
      until: at(3_600_000),
      by: 'ola',
    });
    expect(unknown.statusCode).toBe(404);
    expect((await get('/api/schedules/ghost')).statusCode).toBe(404);
    expect((await get('/api/schedules/integration?from=yesterday')).statusCode).toBe(400);
    const noToken = await h.app.inject({ method: 'GET', url: '/api/oncall' });
    expect(noToken.statusCode).toBe(401);
    // Nothing was stored by the refused requests.
    const v = (await get('/api/schedules/integration')).json() as { overrides: unknown[] };
    expect(v.overrides).toEqual([]);
  });

  it('serves a personal calendar feed at a signed link: four weeks of shifts in the schedule zone, parsed by ical.js', async () => {
    const link = await get('/api/oncall/calendar-link', 'kari');
    expect(link.statusCode).toBe(200);
    const url = new URL((link.json() as { url: string }).url);
    expect(url.pathname).toMatch(/^\/api\/oncall\/calendar\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}\.ics$/);
    const now = Date.now();
    // No bearer token: the signed link is the credential.
    const feed = await h.app.inject({ method: 'GET', url: url.pathname });
    expect(feed.statusCode, feed.body).toBe(200);
    expect(feed.headers['content-type']).toMatch(/^text\/calendar/);

    const cal = new ICAL.Component(ICAL.parse(feed.body) as unknown[]);
    const vtz = cal.getFirstSubcomponent('vtimezone');
    expect(vtz?.getFirstPropertyValue('tzid')).toBe('Europe/Oslo');
    ICAL.TimezoneService.register(vtz!);
    const events = cal.getAllSubcomponents('vevent').map((c) => new ICAL.Event(c));

    // The API's own computed shifts of Kari that overlap the next 28 days.
    const view = (
      await get(
        `/api/schedules/integration?from=${new Date(now - 8 * DAY).toISOString()}&to=${new Date(now + 36 * DAY).toISOString()}`,
      )
    ).json() as { shifts: { contactId: string; start: string; end: string }[] };
    const expected = view.shifts.filter(
      (s) => s.contactId === 'kari' && Date.parse(s.end) > now && Date.parse(s.start) < now + 28 * DAY,
    );
    expect(expected.length).toBeGreaterThanOrEqual(2);
    expect(
      events.map((e) => [e.startDate.toJSDate().toISOString(), e.endDate.toJSDate().toISOString()]),
    ).toEqual(expected.map((s) => [s.start, s.end]));
    for (const e of events) {
      // In the schedule's zone: Monday 09:00 Oslo time, one week long.
      expect(e.startDate.zone?.tzid).toBe('Europe/Oslo');
      expect([e.startDate.dayOfWeek(), e.startDate.hour, e.startDate.minute]).toEqual([
        ICAL.Time.MONDAY,
        9,
        0,
      ]);
      expect(e.summary).toBe('On call: Integration team');
    }
    // The feed covers the four weeks: its last shift starts in the fourth week or later.
    expect(Date.parse(expected[expected.length - 1]!.start)).toBeGreaterThan(now + 14 * DAY);
    // A forged signature gets nothing.
    const forged = url.pathname.replace(/\.[A-Za-z0-9_-]{43}\.ics$/, `.${'A'.repeat(43)}.ics`);
    expect((await h.app.inject({ method: 'GET', url: forged })).statusCode).toBe(404);
  });

  it('the console on-call page shows now and next, two weeks of shifts, and takes an override form', async () => {
    const form = (url: string, fields: Record<string, string>) =>
      h.app.inject({
        method: 'POST',
        url,
        headers: { ...h.auth('ingrid'), 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(fields).toString(),
      });
    const page = await get('/console/oncall', 'ingrid');
    expect(page.statusCode).toBe(200);
    const rota = rotationAt(Date.now());
    const name = rota === 'kari' ? 'Kari Nordmann' : 'Ola Hansen';
    expect(page.body).toMatch(new RegExp(`<dd class="oncall-now">\\s*${name} until`));
    expect(page.body).toContain('The next two weeks');
    // The nights schedule's daily gap is named on the page too.
    expect(page.body).toMatch(/id="gaps"[\s\S]*nobody on call in schedule &quot;nights&quot;/);
    // Two weeks of weekly shifts: two or three rows, each handing over on a Monday at 09:00.
    const rows = [...page.body.matchAll(/<td data-label="From">(Mon \d{4}-\d\d-\d\d 09:00)<\/td>/g)];
    expect(rows.length).toBeGreaterThanOrEqual(2);
    // In Norwegian too (?lang=nb, or the browser's Accept-Language).
    const nb = await get('/console/oncall?lang=nb', 'ingrid');
    expect(nb.body).toContain('<html lang="nb">');
    expect(nb.body).toMatch(new RegExp(`<dt>På vakt nå</dt>\\s*<dd class="oncall-now">\\s*${name} til`));
    expect(nb.body).toContain('<h3>De neste to ukene</h3>');

    // datetime-local fields are read in the schedule's zone: 10:00–12:00 Oslo tomorrow.
    const tomorrow = new Date(Date.now() + DAY).toISOString().slice(0, 10);
    const bad = await form('/console/oncall/integration/overrides', {
      by: 'per',
      from: `${tomorrow}T12:00`,
      until: `${tomorrow}T10:00`,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('until: must be after from');
    const ok = await form('/console/oncall/integration/overrides', {
      by: 'per',
      replaces: '',
      from: `${tomorrow}T10:00`,
      until: `${tomorrow}T12:00`,
    });
    expect(ok.statusCode, ok.body).toBe(303);
    expect(ok.headers.location).toBe('/console/oncall?done=added');
    const view = (await get('/api/schedules/integration')).json() as {
      overrides: { id: string; from: string; until: string; by: string; createdBy: string }[];
    };
    expect(view.overrides).toHaveLength(1);
    const offset = osloOffsetHours(Date.parse(`${tomorrow}T12:00:00Z`));
    expect(view.overrides[0]).toMatchObject({
      by: 'per',
      createdBy: 'ingrid',
      from: new Date(Date.parse(`${tomorrow}T10:00:00Z`) - offset * 3_600_000).toISOString(),
    });
    const after = await get('/console/oncall', 'ingrid');
    expect(after.body).toContain('Per Johansen (override)');
    const del = await form(`/console/oncall/integration/overrides/${view.overrides[0]!.id}/delete`, {});
    expect(del.statusCode).toBe(303);
    expect(((await get('/api/schedules/integration')).json() as { overrides: unknown[] }).overrides).toEqual(
      [],
    );
  });

  it('names the gap of a schedule in /readyz', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/readyz' });
    const body = r.json() as { warnings?: { path: string; message: string }[] };
    expect(body.warnings?.map((w) => w.path)).toEqual(['schedules[1]']);
    expect(body.warnings![0]!.message).toMatch(
      /^nobody on call in schedule "nights" .*\d\d:\d\d – .* 08:00 Europe\/Oslo \(\d+(\.\d)? h\)/,
    );
    expect(body.warnings![0]!.message).toMatch(/02:00 – \w{3} \d{4}-\d\d-\d\d 08:00 Europe\/Oslo \(6 h\)/);
  });
});
