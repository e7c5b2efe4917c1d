/**
 * Reopening a closed incident through the API, against a real Temporal dev server, SMTP and the
 * record store: an open incident is 409; once resolved, a responder reopens it and a new incident
 * opens at once at its severity, saying which one it reopens, and pages level 1; the old one cannot be
 * reopened twice (the new one is open); someone without a role gets 403.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load.js';
import type { Config } from '../../domain/config-schema.js';
import type { IncidentView } from '../../domain/incident.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { startSmtpServer } from '../helpers/smtp-server.js';

describe('reopen API', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let h: Harness;
  let serviceId: string;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    const t = testConfig({ levelTimeout: '10m' });
    serviceId = t.serviceId;
    const raw = JSON.parse(JSON.stringify(t.config)) as { contacts: { id: string; roles?: string[] }[] };
    const roles: Record<string, string[]> = { kari: ['admin'], ola: ['responder'], ingrid: [], per: [] };
    for (const c of raw.contacts) c.roles = roles[c.id];
    h = await startHarness({ config: validateConfig(raw, 'test') as Config, smtpUrl: smtp.url });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await smtp?.close();
  });

  const post = (url: string, payload: object | undefined, who: string) =>
    h.app.inject({ method: 'POST', url, payload, headers: h.auth(who) });

  it('reopens a resolved incident as a new one that pages at once; an open one is 409', async () => {
    const declared = await post(
      '/api/incidents',
      { service: serviceId, reason: 'SSH to datasync02 blocked', severity: 'P2', skipVerify: true },
      'kari',
    );
    expect(declared.statusCode).toBe(201);
    const first = (declared.json() as { incident: IncidentView }).incident;

    const open = await post(`/api/incidents/${first.id}/reopen`, {}, 'ola');
    expect(open.statusCode).toBe(409);
    expect(open.json()).toMatchObject({
      error: 'cannot_reopen',
      message: `incident ${first.id} is still open (triggered); there is nothing to reopen`,
    });

    const forced = await post(
      `/api/incidents/${first.id}/force-resolve`,
      { reason: 'rule reverted' },
      'kari',
    );
    expect(forced.statusCode, forced.body).toBe(200);
    await eventually(async () => (await h.incidents.get(first.id)).closedAt, 30_000, 'closed');

    const refused = await post(`/api/incidents/${first.id}/reopen`, {}, 'ingrid');
    expect(refused.statusCode).toBe(403);

    const reopened = await post(
      `/api/incidents/${first.id}/reopen`,
      { reason: 'the export failed again' },
      'ola',
    );
    expect(reopened.statusCode, reopened.body).toBe(201);
    const body = reopened.json() as { reopened: string; opened: boolean; incident: IncidentView };
    expect(body.reopened).toBe(first.id);
    expect(body.opened).toBe(true);
    expect(body.incident.id).not.toBe(first.id);
    expect(reopened.headers.location).toBe(`/api/incidents/${body.incident.id}`);
    expect(body.incident.severity).toBe('P2');
    expect(body.incident.reason).toBe(`reopened ${first.id}: the export failed again`);
    // Paged at once (no re-verification), level 1, with the reason.
    const page = await smtp.waitFor(
      (m) => /level 1 page/.test(m.subject) && m.text.includes(`Incident: ${body.incident.id}`),
      30_000,
    );
    expect(page.text.replace(/\s+/g, ' ')).toContain('the export failed again');
    expect(page.text).toContain(first.id);
    expect((await h.incidents.get(body.incident.id)).state).toBe('triggered');

    const twice = await post(`/api/incidents/${first.id}/reopen`, {}, 'ola');
    expect(twice.statusCode).toBe(409);
    expect(twice.json().message).toBe(
      `this service has an open incident (${body.incident.id}); add to that one instead`,
    );
    const unknown = await post(`/api/incidents/${serviceId}.no-such-run/reopen`, {}, 'ola');
    expect(unknown.statusCode).toBe(404);
  }, 120_000);
});
