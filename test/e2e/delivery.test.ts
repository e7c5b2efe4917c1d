/**
 * Reaching a human by their own notification rules, end to end: a real dev server and worker, the
 * real record store, a real SMTP server, and local HTTP servers that stand in for ntfy and an SMS
 * gateway (they record each request and answer as the services document).
 *
 * 1. Rules push@0, SMS after 3 s, email@0 while the SMTP server refuses every connection: the push
 *    and the SMS arrive, the failed email attempts are in the timeline and in `deliveries`, the
 *    push's "Acknowledge" action (a POST to the signed one-time link) acknowledges, and after that
 *    no SMS, no more email attempts and no level-2 page, though level 1's time runs out.
 * 2. Every method at level 1 fails permanently (ntfy 403, the gateway 400): "nobody reached at
 *    level 1", and level 2 is paged within 5 s, not after level 1's ten minutes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { validateConfig } from '../../config/load.js';
import type { Config } from '../../domain/config-schema.js';
import type { IncidentView } from '../../domain/incident.js';
import { smsEncoding } from '../../domain/channels.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { startHttpService, type HttpService } from '../helpers/http-service.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';

function config(o: {
  ntfy: string;
  sms: string;
  levelTimeout: string;
  rules: { method: string; after?: string | 0 }[];
}): { config: Config; serviceId: string } {
  const serviceId = `svc-${randomUUID().slice(0, 8)}`;
  const raw = {
    contacts: [
      {
        id: 'kari',
        name: 'Kari Nordmann',
        email: 'kari@test.local',
        methods: [
          { id: 'push', kind: 'ntfy', to: 'kari-pager' },
          { id: 'phone', kind: 'sms', to: '+4791234567' },
        ],
        rules: o.rules,
      },
      { id: 'ola', name: 'Ola Hansen', email: 'ola@test.local' },
      { id: 'per', name: 'Per Johansen', email: 'per@test.local' },
    ],
    channels: {
      ntfy: { url: o.ntfy },
      // The Android SMS Gateway app's documented request: POST /message, JSON body.
      sms: {
        url: `${o.sms}/message`,
        contentType: 'json',
        body: '{"phoneNumbers":[{{to}}],"message":{{message}}}',
      },
    },
    policies: [
      {
        id: 'chain',
        levels: [
          { notify: ['kari'], ackTimeout: o.levelTimeout },
          { notify: ['ola'], ackTimeout: '10m' },
        ],
        acknowledgementTimeout: '1h',
      },
    ],
    services: [
      { id: serviceId, name: 'FS → Canvas integration', owner: 'per', policy: 'chain', severity: 'P1' },
    ],
    incidents: { verifyAttempts: 1, verifyInterval: '1s', recoveryPasses: 1, recoveryInterval: '1s' },
  };
  return { config: validateConfig(raw, 'test'), serviceId };
}

const json = (body: string) => JSON.parse(body) as Record<string, unknown>;

async function declare(h: Harness, serviceId: string): Promise<string> {
  const r = await h.app.inject({
    method: 'POST',
    url: '/api/incidents',
    headers: h.auth('per'),
    payload: { service: serviceId, reason: 'exports to Canvas stopped' },
  });
  expect(r.statusCode, r.body).toBe(201);
  return (r.json() as { incident: IncidentView }).incident.id;
}

async function getView(h: Harness, id: string): Promise<IncidentView> {
  const r = await h.app.inject({ method: 'GET', url: `/api/incidents/${id}`, headers: h.auth('per') });
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as IncidentView;
}

describe('delivery by personal notification rules', () => {
  let smtp: TestSmtpServer;
  let refusing: TestSmtpServer;
  let ntfy: HttpService;
  let sms: HttpService;
  const harnesses: Harness[] = [];
  beforeAll(async () => {
    smtp = await startSmtpServer();
    refusing = await startSmtpServer();
    ntfy = await startHttpService();
    sms = await startHttpService();
  });
  afterAll(async () => {
    for (const h of harnesses) await h.close();
    await smtp?.close();
    await refusing?.close();
    await ntfy?.close();
    await sms?.close();
  });

  it('push@0, SMS@3s, email@0 with SMTP refusing: push and SMS arrive, the email failures are recorded, the push’s Acknowledge action acknowledges, and nothing more is sent', async () => {
    await refusing.refuse();
    // ntfy's documented publish answer; the gateway's "accepted for sending" answer.
    ntfy.answer({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'hwQ2YpKdmg', time: 1733100000, event: 'message', topic: 'kari-pager' }),
    });
    sms.answer({
      status: 202,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'sms-7f3a',
        state: 'Pending',
        recipients: [{ phoneNumber: '+4791234567', state: 'Pending' }],
      }),
    });
    const t = config({
      ntfy: ntfy.url,
      sms: sms.url,
      levelTimeout: '25s',
      rules: [
        { method: 'push', after: 0 },
        { method: 'phone', after: '3s' },
        { method: 'email', after: 0 },
      ],
    });
    const h = await startHarness({ config: t.config, smtpUrl: refusing.url });
    harnesses.push(h);
    ntfy.requests.length = 0;
    sms.requests.length = 0;

    const id = await declare(h, t.serviceId);
    const push = await eventually(async () => ntfy.requests[0], 15_000, 'the push');
    const pushedAt = Date.now();
    const body = json(push.body);
    expect(body).toMatchObject({ topic: 'kari-pager', priority: 5 });
    const actions = body.actions as { action: string; label: string; url: string; method: string }[];
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ action: 'http', label: 'Acknowledge', method: 'POST' });
    const ackUrl = new URL(actions[0]!.url);
    expect(ackUrl.pathname).toMatch(/^\/ack\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);

    // The SMS comes at its time (not before), with the short ack link.
    const text = await eventually(async () => sms.requests[0], 15_000, 'the SMS');
    expect(Date.now() - pushedAt).toBeGreaterThanOrEqual(2_000);
    const smsBody = json(text.body) as { phoneNumbers: string[]; message: string };
    expect(smsBody.phoneNumbers).toEqual(['+4791234567']);
    // Its own signed link (each send signs one), in GSM-7.
    expect(smsBody.message).toMatch(
      / Ack: http:\/\/127\.0\.0\.1:3000\/ack\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/,
    );
    const segments = smsEncoding(smsBody.message);
    expect(segments.encoding).toBe('GSM-7');

    // The email attempts failed (SMTP refuses connections) and say why, in the timeline and deliveries.
    const failing = await eventually(
      async () => {
        const v = await getView(h, id);
        // The store is written a moment after each send: wait until it has all of them.
        const recorded = (v.deliveries ?? []).map((d) => `${d.method}:${d.outcome}`);
        return (
          v.timeline.filter((e) => e.kind === 'page-failed' && /by email/.test(e.detail)).length >= 2 &&
          recorded.includes('push:accepted') &&
          recorded.includes('phone:accepted') &&
          v
        );
      },
      20_000,
      'two failed email attempts, the push and the SMS recorded',
    );
    const failures = failing.timeline.filter((e) => e.kind === 'page-failed');
    expect(failures[0]!.detail).toMatch(
      /level 1: attempt 1 to page Kari Nordmann by email failed: .+; retrying in 2s/,
    );
    const emailTries = failing.deliveries!.filter((d) => d.channel === 'email' && d.outcome === 'failed');
    expect(emailTries.length).toBeGreaterThanOrEqual(2);
    expect(emailTries.map((d) => d.attempt).slice(0, 2)).toEqual([1, 2]);
    const outcomes = (failing.deliveries ?? []).map((d) => `${d.method}:${d.outcome}`);
    for (const o of ['push:queued', 'push:accepted', 'phone:queued', 'phone:accepted', 'email:queued'])
      expect(outcomes).toContain(o);
    const phone = failing.deliveries!.find((d) => d.method === 'phone' && d.outcome === 'accepted')!;
    expect(phone).toMatchObject({ channel: 'sms', recipientId: 'kari', level: 1 });
    // The delivery states the segment count (the signed link alone is longer than one segment).
    expect(phone.detail).toContain(`GSM-7, ${segments.segments} segment`);

    // What ntfy does when the button is pressed: a POST to the action URL, no body.
    const ack = await h.app.inject({ method: 'POST', url: ackUrl.pathname });
    expect(ack.statusCode, ack.body).toBe(200);
    const acked = await eventually(async () => {
      const v = await getView(h, id);
      return v.state === 'acknowledged' && v;
    });
    expect(acked.acknowledgedBy).toBe('kari');
    // The link is one-time.
    expect((await h.app.inject({ method: 'POST', url: ackUrl.pathname })).statusCode).toBe(409);

    // Past level 1's 25 s (from the page): nothing more went out to anyone.
    const pagedAt = Date.parse(acked.paged[0]!.at);
    const emailAttempts = () =>
      h.store.records
        .getIncident(id)
        .then((v) => v!.deliveries!.filter((d) => d.channel === 'email' && d.outcome === 'failed').length);
    const attemptsAtAck = await emailAttempts();
    await new Promise((r) => setTimeout(r, Math.max(0, pagedAt + 28_000 - Date.now())));
    const after = await getView(h, id);
    expect(after.state).toBe('acknowledged');
    expect(sms.requests).toHaveLength(1);
    expect(ntfy.requests).toHaveLength(1);
    expect(after.paged.map((p) => p.level)).toEqual([1]);
    expect(after.timeline.some((e) => /level 2/.test(e.detail))).toBe(false);
    // At most the try that was already on its way when the ack came; then it says it stopped.
    expect(await emailAttempts()).toBeLessThanOrEqual(attemptsAtAck + 1);
    expect(after.timeline.map((e) => e.detail)).toContainEqual(
      expect.stringMatching(/level 1: Kari Nordmann by email not retried: the incident is acknowledged/),
    );
  }, 120_000);

  it('every method at level 1 fails permanently: "nobody reached at level 1" and level 2 is paged within 5 s', async () => {
    // ntfy's documented 403 for a topic the token may not publish to; the gateway's 400 for a bad number.
    ntfy.answer({
      status: 403,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        code: 40301,
        http: 403,
        error: 'forbidden',
        link: 'https://ntfy.sh/docs/publish/#authentication',
      }),
    });
    sms.answer({
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'invalid phone number' }),
    });
    const t = config({
      ntfy: ntfy.url,
      sms: sms.url,
      levelTimeout: '10m',
      // The SMS would only be due after a minute: the push's failure moves it to at once.
      rules: [
        { method: 'push', after: 0 },
        { method: 'phone', after: '1m' },
      ],
    });
    const h = await startHarness({ config: t.config, smtpUrl: smtp.url });
    harnesses.push(h);
    ntfy.requests.length = 0;
    sms.requests.length = 0;
    const declared = Date.now();
    const id = await declare(h, t.serviceId);

    const mail = await smtp.waitFor((m) => m.to.includes('ola@test.local'), 20_000);
    const v = await eventually(async () => {
      const x = await getView(h, id);
      return (
        x.paged.some((p) => p.level === 2) && x.timeline.some((e) => /level 2: paged Ola/.test(e.detail)) && x
      );
    });
    const line = v.timeline.find((e) => e.kind === 'escalated' && /nobody reached/.test(e.detail));
    expect(line?.detail).toBe(
      'nobody reached at level 1: every method of every person paged failed; escalating at once',
    );
    const level1 = Date.parse(v.paged.find((p) => p.level === 1)!.at);
    const level2 = Date.parse(v.paged.find((p) => p.level === 2)!.at);
    expect(level2 - level1).toBeLessThan(5_000);
    // Ola's mail arrived within 5 s of level 1's page, not after its ten minutes.
    expect(mail.receivedAt.getTime() - level1).toBeLessThan(5_000);
    expect(mail.receivedAt.getTime() - declared).toBeLessThan(30_000);

    // Both of Kari's methods were tried once (permanent: no retries), each failure with its reason.
    expect(ntfy.requests).toHaveLength(1);
    expect(sms.requests).toHaveLength(1);
    const failed = v.deliveries!.filter((d) => d.outcome === 'failed');
    expect(failed.map((d) => d.method)).toEqual(['push', 'phone']);
    expect(failed[0]!.detail).toMatch(
      /ntfy at 127\.0\.0\.1:\d+ answered 403: forbidden; a permanent failure; trying sms \(phone\) now/,
    );
    expect(failed[1]!.detail).toMatch(
      /SMS gateway at 127\.0\.0\.1:\d+ answered 400: invalid phone number; a permanent failure$/,
    );
  });
});
