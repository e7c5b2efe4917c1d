/**
 * Adding a responder through the API, against a real Temporal dev server and SMTP: the added contact
 * is paged at once with a one-click acknowledge link and can acknowledge with it; one added after the
 * acknowledgement is paged by their notification rules all the same (without a link); both get the
 * resolved notice. An unknown contact is 400 naming `contact`, one already paged 409, no role 403,
 * a closed incident 409.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { validateConfig } from '../../config/load.js';
import type { IncidentView } from '../../domain/incident.js';

describe('add responder API', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let h: Harness;
  let serviceId: string;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    const t = testConfig({ levelTimeout: '10m' });
    serviceId = t.serviceId;
    const raw = JSON.parse(JSON.stringify(t.config)) as {
      contacts: { id: string; roles?: string[]; rules?: unknown[] }[];
    };
    const roles: Record<string, string[]> = {
      kari: ['admin'],
      ola: ['responder'],
      ingrid: ['responder'],
      per: [],
    };
    for (const c of raw.contacts) {
      c.roles = roles[c.id];
      // Ola is paged by his notification rules (email at once, again after a minute).
      if (c.id === 'ola')
        c.rules = [
          { method: 'email', after: 0 },
          { method: 'email', after: '1m' },
        ];
    }
    h = await startHarness({ config: validateConfig(raw, 'responders'), smtpUrl: smtp.url });
  });

  afterAll(async () => {
    await h?.close();
    await smtp?.close();
  });

  const post = (url: string, payload: object, who: string) =>
    h.app.inject({ method: 'POST', url, payload, headers: h.auth(who) });
  const view = async (id: string) =>
    (await h.app.inject({ url: `/api/incidents/${id}`, headers: h.auth('per') })).json() as IncidentView;

  it('pages the added contact at once with an ack link, records who added whom, and refuses the wrong asks', async () => {
    const declared = await post(
      '/api/incidents',
      { service: serviceId, reason: 'exports are late', skipVerify: true },
      'kari',
    );
    expect(declared.statusCode, declared.body).toBe(201);
    const id = (declared.json() as { incident: IncidentView }).incident.id;
    await smtp.waitFor((m) => m.to.includes('kari@test.local'), 30_000);
    const url = `/api/incidents/${id}/responders`;

    const unknown = await post(url, { contact: 'nobody' }, 'ingrid');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ message: 'contact: unknown contact "nobody"', field: 'contact' });
    const paged = await post(url, { contact: 'kari' }, 'ingrid');
    expect(paged.statusCode).toBe(409);
    expect(paged.json().message).toBe('contact: Kari Nordmann is already paged for this incident');
    const forbidden = await post(url, { contact: 'ingrid' }, 'per');
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().message).toMatch(/^Adding a responder needs the responder role/);

    const added = await post(url, { contact: 'ingrid', note: 'she knows the export job' }, 'kari');
    expect(added.statusCode, added.body).toBe(200);
    const page = await smtp.waitFor((m) => m.to.includes('ingrid@test.local'), 30_000);
    expect(page.subject).toMatch(/you are added as a responder$/);
    expect(page.text).toContain(
      'Kari Nordmann added you as a responder to this incident: she knows the export job',
    );
    const link = /one click: (\S+)/.exec(page.text)?.[1];
    expect(link).toMatch(/\/ack\/[A-Za-z0-9_.-]+$/);
    let v = await view(id);
    expect(v.timeline.filter((e) => e.kind === 'responder')).toEqual([
      expect.objectContaining({
        actor: 'kari',
        detail: 'kari added Ingrid Berg as a responder: she knows the export job',
      }),
    ]);
    expect(v.paged.find((p) => p.recipient.id === 'ingrid')).toMatchObject({ reason: 'added' });
    await eventually(
      async () =>
        (await view(id)).timeline.some(
          (e) => e.kind === 'paged' && e.detail.startsWith('added responder: paged Ingrid Berg'),
        ),
      15_000,
      "Ingrid's page in the timeline",
    );
    const again = await post(url, { contact: 'ingrid' }, 'kari');
    expect(again.statusCode).toBe(409);

    // She acknowledges with the link from her page.
    const acked = await h.app.inject({ method: 'POST', url: `/ack/${link!.split('/ack/')[1]}` });
    expect(acked.statusCode, acked.body).toBe(200);
    v = await view(id);
    expect(v).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'ingrid' });

    // Ola, added after the acknowledgement, is paged by his rules all the same; his page has no link.
    const ola = await post(url, { contact: 'ola' }, 'ingrid');
    expect(ola.statusCode, ola.body).toBe(200);
    const olaPage = await smtp.waitFor((m) => m.to.includes('ola@test.local'), 30_000);
    expect(olaPage.subject).toMatch(/you are added as a responder$/);
    expect(olaPage.text).toMatch(/ingrid acknowledged it at .*you are asked to help/);
    expect(olaPage.text).not.toMatch(/one click/);
    await eventually(
      async () =>
        (await view(id)).timeline.some(
          (e) => e.kind === 'paged' && e.detail.startsWith('added responder: paged Ola Hansen by email'),
        ),
      15_000,
      "Ola's page in the timeline",
    );

    // Resolved: the added responders are told too; adding someone now is 409.
    const done = await post(`/api/incidents/${id}/force-resolve`, { reason: 'export job restarted' }, 'kari');
    expect(done.statusCode, done.body).toBe(200);
    for (const who of ['ingrid@test.local', 'ola@test.local'])
      await smtp.waitFor((m) => m.to.includes(who) && /RESOLVED/.test(m.subject), 30_000);
    const closed = await post(url, { contact: 'per' }, 'kari');
    expect(closed.statusCode).toBe(409);
    expect(closed.json().message).toMatch(/already resolved/);
  });
});
