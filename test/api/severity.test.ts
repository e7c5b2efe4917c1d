/**
 * Changing an incident's severity through the API, against a real Temporal dev server and SMTP:
 * raising a P2 to P1 (which auto-publishes) publishes the status message at once and records who did
 * it; the same severity again is 409, an unknown one 400 naming the field; lowering is recorded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { startSshServer } from '../helpers/ssh-server.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import type { IncidentView } from '../../domain/incident.js';

describe('change severity API', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let ssh: Awaited<ReturnType<typeof startSshServer>>;
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

  const post = (url: string, payload?: object, who = 'kari') =>
    h.app.inject({ method: 'POST', url, payload, headers: h.auth(who) });
  const publicEntry = async (id: string) =>
    ((await h.app.inject({ method: 'GET', url: '/api/status' })).json().incidents as { id: string }[]).find(
      (i) => i.id === id,
    ) as { id: string; messages: { state: string }[] } | undefined;

  it('raising P2 → P1 publishes the status message at once and is in the timeline with its actor', async () => {
    await ssh.stop();
    try {
      const r = await post('/api/incidents', { service: serviceId, reason: 'SSH blocked', severity: 'P2' });
      expect(r.statusCode).toBe(201);
      const id = (r.json() as { incident: IncidentView }).incident.id;
      await eventually(async () => (await h.incidents.get(id)).state === 'triggered', 30_000, 'triggered');
      // P2 does not publish by itself.
      expect(await publicEntry(id)).toBeUndefined();

      const bad = await post(`/api/incidents/${id}/severity`, { severity: 'P9' }, 'ola');
      expect(bad.statusCode).toBe(400);
      expect(bad.json().message).toMatch(/severity/);
      const same = await post(`/api/incidents/${id}/severity`, { severity: 'P2' }, 'ola');
      expect(same.statusCode).toBe(409);
      expect(same.json().message).toBe('severity: the incident is already P2');

      const raised = await post(
        `/api/incidents/${id}/severity`,
        { severity: 'P1', reason: 'all customers are affected' },
        'ola',
      );
      expect(raised.statusCode).toBe(200);
      const view = await h.incidents.get(id);
      expect(view.severity).toBe('P1');
      expect(view.timeline.filter((e) => e.kind === 'severity')).toEqual([
        expect.objectContaining({
          actor: 'ola',
          detail:
            'ola raised the severity from P2 to P1; the status message is published automatically: all customers are affected',
        }),
      ]);
      expect(view.status.at(-1)).toMatchObject({ state: 'investigating', author: 'system' });
      expect((await publicEntry(id))?.messages.at(-1)).toMatchObject({ state: 'investigating' });

      const lowered = await post(`/api/incidents/${id}/severity`, { severity: 'P3' }, 'kari');
      expect(lowered.statusCode).toBe(200);
      const after = await h.incidents.get(id);
      expect(after.severity).toBe('P3');
      expect(after.timeline.filter((e) => e.kind === 'severity').at(-1)).toMatchObject({
        actor: 'kari',
        detail: 'kari lowered the severity from P1 to P3',
      });
    } finally {
      await ssh.start();
    }
  });

  it('a joining report of a higher severity raises the incident; a lower one changes nothing', async () => {
    await ssh.stop();
    try {
      const first = await post('/api/incidents', {
        service: serviceId,
        reason: 'slow exports',
        severity: 'P3',
      });
      expect([200, 201]).toContain(first.statusCode);
      const id = (first.json() as { incident: IncidentView }).incident.id;
      await eventually(async () => (await h.incidents.get(id)).state === 'triggered', 30_000, 'triggered');
      if ((await h.incidents.get(id)).severity !== 'P3')
        expect((await post(`/api/incidents/${id}/severity`, { severity: 'P3' })).statusCode).toBe(200);

      const joined = await post(
        '/api/incidents',
        { service: serviceId, reason: 'every institution is cut off', severity: 'P1' },
        'ola',
      );
      expect(joined.statusCode).toBe(200);
      expect(joined.json().opened).toBe(false);
      const view = await eventually(
        async () => {
          const v = await h.incidents.get(id);
          return v.severity === 'P1' ? v : undefined;
        },
        15_000,
        'raised to P1',
      );
      expect(view.timeline.filter((e) => e.kind === 'severity').at(-1)).toMatchObject({
        actor: 'system',
        detail: expect.stringMatching(
          /^system raised the severity from P3 to P1(;.*)?: a joining api report is P1$/,
        ),
      });
      expect((await publicEntry(id))?.messages.length).toBeGreaterThan(0);

      const lower = await post('/api/incidents', { service: serviceId, reason: 'one user', severity: 'P2' });
      expect(lower.statusCode).toBe(200);
      const after = await h.incidents.get(id);
      expect(after.severity).toBe('P1');
      expect(after.timeline.filter((e) => e.kind === 'severity')).toHaveLength(
        view.timeline.filter((e) => e.kind === 'severity').length,
      );
    } finally {
      await ssh.start();
    }
  });
});
