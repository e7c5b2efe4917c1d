/**
 * The API's contract against a real Temporal dev server: auth, validation, not found, conflicts,
 * dismissal of a problem that does not reproduce, staff actions and the public status JSON.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { startSshServer } from '../helpers/ssh-server.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import type { IncidentView } from '../../domain/incident.js';

type Smtp = Awaited<ReturnType<typeof startSmtpServer>>;
type Ssh = Awaited<ReturnType<typeof startSshServer>>;

describe('incidents API', () => {
  let smtp: Smtp;
  let ssh: Ssh;
  let h: Harness;
  let serviceId: string;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    ssh = await startSshServer();
    const t = testConfig({
      ssh: { port: ssh.port, fingerprint: ssh.fingerprint },
      verifyAttempts: 2,
      levelTimeout: '30s',
    });
    serviceId = t.serviceId;
    h = await startHarness({ config: t.config, smtpUrl: smtp.url });
  });

  afterAll(async () => {
    await h?.close();
    await ssh?.close();
    await smtp?.close();
  });

  const post = (url: string, payload?: object, who: string | null = 'kari') =>
    h.app.inject({ method: 'POST', url, payload, headers: who ? h.auth(who) : {} });

  it('rejects missing and wrong tokens with 401 JSON', async () => {
    const none = await post('/api/incidents', { service: serviceId, reason: 'x' }, null);
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ statusCode: 401, error: 'unauthorized' });
    const wrong = await h.app.inject({
      method: 'GET',
      url: '/api/incidents',
      headers: { authorization: 'Bearer not-a-token' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().message).toMatch(/unknown or revoked token/);
  });

  it('rejects malformed bodies with 400 naming the field', async () => {
    const missing = await post('/api/incidents', { service: serviceId });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().message).toMatch(/reason/);
    const badSeverity = await post('/api/incidents', { service: serviceId, reason: 'x', severity: 'P9' });
    expect(badSeverity.statusCode).toBe(400);
    expect(badSeverity.json().message).toMatch(/severity/);
    const unknownService = await post('/api/incidents', { service: 'no-such-service', reason: 'x' });
    expect(unknownService.statusCode).toBe(400);
    expect(unknownService.json().message).toBe('service: unknown service "no-such-service"');
    const notJson = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: { ...h.auth('kari'), 'content-type': 'application/json' },
      payload: '{"service":',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().statusCode).toBe(400);
    const badStatus = await post(`/api/incidents/${serviceId}/status`, { state: 'fixed-ish' });
    expect(badStatus.statusCode).toBe(400);
    expect(badStatus.json().message).toMatch(/state/);
  });

  it('answers 404 for unknown incidents', async () => {
    const r = await h.app.inject({
      method: 'GET',
      url: '/api/incidents/never-declared',
      headers: h.auth('kari'),
    });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ statusCode: 404, error: 'not_found' });
    const bad = await post('/api/incidents/NOT%20AN%20ID/acknowledge');
    expect(bad.statusCode).toBe(404);
  });

  it('dismisses a problem that does not reproduce on verify, pages nobody, and refuses later acks', async () => {
    const before = smtp.messages.length;
    const r = await post('/api/incidents', { service: serviceId, reason: 'a customer says it is slow' });
    expect(r.statusCode).toBe(201);
    const id = (r.json() as { incident: IncidentView }).incident.id;
    const view = await eventually(
      async () => {
        const v = await h.incidents.get(id);
        return v.state === 'dismissed' ? v : undefined;
      },
      20_000,
      'dismissed',
    );
    expect(view.timeline.filter((e) => e.kind === 'verify')).toHaveLength(2);
    expect(view.timeline.at(-1)?.detail).toMatch(/nobody was paged/);
    expect(view.paged).toHaveLength(0);
    expect(view.status).toHaveLength(0);
    await new Promise((res) => setTimeout(res, 1000));
    expect(smtp.messages.length).toBe(before);

    const ack = await post(`/api/incidents/${id}/acknowledge`);
    expect(ack.statusCode).toBe(409);
    expect(ack.json().message).toMatch(/dismissed/);
    const resolve = await post(`/api/incidents/${id}/resolve`, {});
    expect(resolve.statusCode).toBe(409);
  });

  it('staff notes and status messages land in the timeline and in the public status JSON', async () => {
    await ssh.stop();
    try {
      const r = await post('/api/incidents', { service: serviceId, reason: 'SSH blocked', severity: 'P2' });
      expect(r.statusCode).toBe(201);
      const id = (r.json() as { incident: IncidentView }).incident.id;
      await eventually(async () => (await h.incidents.get(id)).state === 'triggered', 20_000, 'triggered');

      // P2 does not publish by itself.
      let status = (await h.app.inject({ method: 'GET', url: '/api/status' })).json();
      expect(status.incidents.find((i: { id: string }) => i.id === id)).toBeUndefined();

      const note = await post(
        `/api/incidents/${id}/notes`,
        { text: 'asked the operators to check the firewall' },
        'ola',
      );
      expect(note.statusCode).toBe(200);
      // The answer is small (id, state, the event's sequence); the timeline already holds the note.
      expect(note.json()).toEqual({ id, state: 'triggered', seq: expect.any(Number) });
      // (found by kind: the level-1 page's own line may land after it)
      expect((await h.incidents.get(id)).timeline.filter((e) => e.kind === 'note')).toEqual([
        expect.objectContaining({ actor: 'ola', detail: 'asked the operators to check the firewall' }),
      ]);

      const pub = await post(`/api/incidents/${id}/status`, {
        state: 'identified',
        message: 'Inbound SSH is blocked by a firewall change.',
      });
      expect(pub.statusCode).toBe(200);
      status = (await h.app.inject({ method: 'GET', url: '/api/status' })).json();
      const entry = status.incidents.find((i: { id: string }) => i.id === id);
      expect(entry.messages.at(-1)).toMatchObject({
        state: 'identified',
        message: 'Inbound SSH is blocked by a firewall change.',
      });
      // Staff ids are not public (L8): the public board names no author.
      expect(entry.messages.at(-1)).not.toHaveProperty('author');
      expect(status.components.find((c: { service: string }) => c.service === serviceId).status).toBe(
        'degraded',
      );

      // Listing comes from the record store.
      const listed = await eventually(
        async () => {
          const l = await h.app.inject({
            method: 'GET',
            url: `/api/incidents?service=${serviceId}&open=true`,
            headers: h.auth('kari'),
          });
          const items = (l.json() as { incidents: { id: string; state: string }[] }).incidents;
          return items.find((i) => i.id === id && i.state === 'triggered');
        },
        10_000,
        'listed',
      );
      expect(listed.id).toBe(id);

      const ack1 = await post(`/api/incidents/${id}/acknowledge`);
      const ack2 = await post(`/api/incidents/${id}/acknowledge`);
      expect(ack1.statusCode).toBe(200);
      expect(ack2.statusCode).toBe(200);
      expect((ack2.json() as IncidentView).state).toBe((ack1.json() as IncidentView).state);
      expect((ack2.json() as IncidentView).acknowledgedAt).toBe((ack1.json() as IncidentView).acknowledgedAt);
    } finally {
      await ssh.start();
    }
  });

  it('serves an OpenAPI document describing every route', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of [
      '/api/incidents',
      '/api/incidents/{id}',
      '/api/incidents/{id}/acknowledge',
      '/api/incidents/{id}/resolve',
      '/api/incidents/{id}/notes',
      '/api/incidents/{id}/status',
      '/api/status',
      '/healthz',
      '/readyz',
    ])
      expect(Object.keys(doc.paths)).toContain(p);
  });

  it('is ready when Temporal and the record store are reachable', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/readyz' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: 'ready', temporal: 'reachable', store: 'reachable' });
  });
});
