/**
 * Public communication on real parts: the communication deadline (pages the communications contact
 * when no status message is out in time), customer reports that run the probes at once, and chat
 * webhooks received by a local HTTP server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { startSshServer } from '../helpers/ssh-server.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { validateConfig } from '../../config/load.js';
import type { Config } from '../../domain/config-schema.js';
import type { IncidentView } from '../../domain/incident.js';

type Smtp = Awaited<ReturnType<typeof startSmtpServer>>;

function commsConfig(o: { sshPort?: number; webhookEnv?: string }) {
  const p = `c-${randomUUID().slice(0, 8)}`;
  const service = (id: string, extra: object = {}) => ({
    id: `${p}-${id}`,
    name: `Service ${id}`,
    owner: 'kari',
    policy: 'chain',
    severity: 'P1',
    component: `Component ${id} ${p}`,
    communicationsContact: 'per',
    ...extra,
  });
  const raw = {
    contacts: [
      { id: 'kari', name: 'Kari Nordmann', email: 'kari@test.local' },
      { id: 'ola', name: 'Ola Hansen', email: 'ola@test.local' },
      { id: 'per', name: 'Per Kommunikasjon', email: 'per@test.local' },
    ],
    teams: [
      {
        id: 'integration',
        name: 'Integration team',
        members: ['kari', 'ola'],
        webhooks: o.webhookEnv ? [{ format: 'slack', urlEnv: o.webhookEnv }] : [],
      },
    ],
    policies: [
      {
        id: 'chain',
        levels: [
          { notify: ['kari'], ackTimeout: '1m' },
          { notify: ['ola'], ackTimeout: '1m' },
        ],
        acknowledgementTimeout: '10m',
      },
    ],
    services: [service('late'), service('ontime'), service('probed'), service('hooked')],
    checks: o.sshPort
      ? [
          {
            id: `${p}-ssh`,
            service: `${p}-probed`,
            kind: 'ssh',
            host: '127.0.0.1',
            port: o.sshPort,
            timeout: '1s',
            interval: '5s',
          },
        ]
      : [],
    severities: {
      // P1 waits for staff here, so the deadline matters (the default publishes P0/P1 at once).
      P0: { autoPublish: true, postmortemDueDays: 3 },
      P1: { autoPublish: false, postmortemDueDays: 5, communicationDeadline: '3s' },
      P2: { autoPublish: false, postmortemDueDays: 10 },
      P3: { autoPublish: false, postmortemDueDays: 20 },
    },
    incidents: { verifyAttempts: 1, verifyInterval: '1s', recoveryPasses: 1, recoveryInterval: '1s' },
  };
  return { p, config: validateConfig(raw, 'test') as Config };
}

describe('public communication', () => {
  let smtp: Smtp;
  const open: Harness[] = [];
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(async () => {
    for (const h of open) await h.close();
    await smtp?.close();
  });

  const declare = async (h: Harness, service: string) => {
    const r = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('kari'),
      payload: { service, reason: 'export unreachable' },
    });
    expect(r.statusCode).toBe(201);
    return (r.json() as { incident: IncidentView }).incident.id;
  };

  it('a verified P1 with no status message pages the communications contact after the deadline; publishing in time pages nobody', async () => {
    const { p, config } = commsConfig({});
    const h = await startHarness({ config, smtpUrl: smtp.url });
    open.push(h);
    const late = await declare(h, `${p}-late`);
    const onTime = await declare(h, `${p}-ontime`);
    const draft = await eventually(
      async () => (await h.incidents.get(onTime)).statusDraft,
      10_000,
      'a drafted status message',
    );
    expect(draft).toMatch(new RegExp(`Component ontime ${p}`));
    const pub = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${onTime}/status`,
      headers: h.auth('ola'),
      payload: { state: 'investigating' },
    });
    expect(pub.statusCode).toBe(200);
    expect((await h.incidents.get(onTime)).status[0]?.message).toBe(draft);

    const mail = await smtp.waitFor((m) => m.to.includes('per@test.local') && m.text.includes(late), 15_000);
    expect(mail.subject).toMatch(/status message overdue/);
    const lateView = await h.incidents.get(late);
    const overdue = lateView.timeline.find((e) => e.kind === 'comms-overdue');
    expect(overdue).toBeDefined();
    expect(Date.parse(overdue!.at) - Date.parse(lateView.verifiedAt!)).toBeGreaterThanOrEqual(2900);

    // Well past the deadline: the incident whose message went out in time paged no communications contact.
    await new Promise((r) => setTimeout(r, 2500));
    expect(
      smtp.messages.filter((m) => m.text.includes(onTime) && m.to.includes('per@test.local')),
    ).toHaveLength(0);
    expect((await h.incidents.get(onTime)).timeline.some((e) => e.kind === 'comms-overdue')).toBe(false);
  });

  it('a customer report runs the probes at once and opens an incident with the report time in the timeline', async () => {
    const ssh = await startSshServer();
    await ssh.stop();
    try {
      const { p, config } = commsConfig({ sshPort: ssh.port });
      const h = await startHarness({ config, smtpUrl: smtp.url });
      open.push(h);
      const sentAt = Date.now();
      const r = await h.app.inject({
        method: 'POST',
        url: '/api/reports',
        payload: {
          component: `Component probed ${p}`,
          description: 'we cannot reach the XML export over SSH',
        },
      });
      expect(r.statusCode).toBe(202);
      const view = await eventually(
        async () => {
          const v = await h.incidents.get(`${p}-probed`);
          return v.state === 'triggered' ? v : undefined;
        },
        15_000,
        'incident from the customer report',
      );
      expect(view.source).toBe('customer');
      expect(view.customerReports).toBe(1);
      expect(Date.parse(view.firstCustomerReportAt!)).toBeGreaterThanOrEqual(sentAt - 1000);
      expect(view.timeline[0]).toMatchObject({ kind: 'detected', actor: 'customer' });
      expect(view.timeline[0]!.detail).toMatch(/cannot reach the XML export/);
      expect(view.timeline.find((e) => e.kind === 'verified')?.detail).toMatch(/refused/);

      // A bot filling the honeypot changes nothing; unknown components are a 400; floods are limited.
      const bot = await h.app.inject({
        method: 'POST',
        url: '/api/reports',
        payload: { component: `Component late ${p}`, description: 'spam', website: 'http://spam.example' },
      });
      expect(bot.statusCode).toBe(202);
      await expect(h.incidents.get(`${p}-late`)).rejects.toThrow();
      const unknown = await h.app.inject({
        method: 'POST',
        url: '/api/reports',
        payload: { component: 'nope', description: 'x' },
      });
      expect(unknown.statusCode).toBe(400);
      const codes: number[] = [];
      for (let i = 0; i < 6; i++)
        codes.push(
          (
            await h.app.inject({
              method: 'POST',
              url: '/api/reports',
              payload: { component: `Component probed ${p}`, description: `again ${i}` },
            })
          ).statusCode,
        );
      expect(codes).toContain(429);
    } finally {
      await ssh.close();
    }
  });

  it('posts the incident and its resolution to a team webhook in Slack format', async () => {
    const received: { body: { text: string; blocks: unknown[] }; headers: Record<string, unknown> }[] = [];
    const receiver: Server = createServer((req, res) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        received.push({ body: JSON.parse(data), headers: req.headers });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const env = `TEST_SLACK_WEBHOOK_${randomUUID().slice(0, 8).toUpperCase().replace(/-/g, '_')}`;
    process.env[env] =
      `http://127.0.0.1:${(receiver.address() as { port: number }).port}/services/T000/B000/secret`;
    try {
      const { p, config } = commsConfig({ webhookEnv: env });
      const h = await startHarness({ config, smtpUrl: smtp.url });
      open.push(h);
      const id = await declare(h, `${p}-hooked`);
      await eventually(
        async () => received.some((r) => r.body.text.includes('is down')),
        15_000,
        'opened message',
      );
      const opened = received.find((r) => r.body.text.includes('is down'))!;
      expect(opened.body.text).toMatch(/^:rotating_light: \[P1\] Service hooked is down/);
      expect(Array.isArray(opened.body.blocks)).toBe(true);
      expect(opened.headers['idempotency-key']).toBeDefined();

      const resolve = await h.app.inject({
        method: 'POST',
        url: `/api/incidents/${id}/resolve`,
        headers: h.auth('kari'),
      });
      expect(resolve.statusCode).toBe(200);
      await eventually(
        async () => received.some((r) => r.body.text.includes('is resolved')),
        15_000,
        'resolved message',
      );
      const view = await eventually(
        async () => {
          const v = await h.incidents.get(id);
          return v.timeline.filter((e) => e.kind === 'webhook').length >= 2 ? v : undefined;
        },
        10_000,
        'deliveries in the timeline',
      );
      expect(view.timeline.filter((e) => e.kind === 'webhook').map((e) => e.detail)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^opened update posted/),
          expect.stringMatching(/^resolved update posted/),
        ]),
      );
      // The URL (a secret) is never written to the timeline.
      expect(JSON.stringify(view.timeline)).not.toContain('secret');
    } finally {
      receiver.close();
      delete process.env[env];
    }
  });
});
