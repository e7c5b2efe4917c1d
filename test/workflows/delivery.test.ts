/**
 * How the incident workflow runs a person's notification rules, on a real dev server and worker with
 * the real record store, a real SMTP server and a local stand-in for ntfy:
 * - acknowledged before a delayed method is due: that method is never sent, and the timeline says so;
 * - ntfy answering 429 with Retry-After: tried again after the wait, every attempt recorded;
 * - a contact without rules whose only method (email) is refused for good (550): nobody was reached
 *   at level 1, and level 2 is paged at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { validateConfig } from '../../config/load.js';
import type { Config } from '../../domain/config-schema.js';
import type { IncidentView } from '../../domain/incident.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { startHttpService, type HttpService } from '../helpers/http-service.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';

function config(o: {
  ntfy: string;
  rules?: { method: string; after?: string | 0 }[];
  levelTimeout: string;
}): { config: Config; serviceId: string } {
  const serviceId = `svc-${randomUUID().slice(0, 8)}`;
  const raw = {
    contacts: [
      {
        id: 'kari',
        name: 'Kari Nordmann',
        email: 'kari@test.local',
        methods: [{ id: 'push', kind: 'ntfy', to: 'kari-pager' }],
        ...(o.rules ? { rules: o.rules } : {}),
      },
      { id: 'ola', name: 'Ola Hansen', email: 'ola@test.local' },
      { id: 'per', name: 'Per Johansen', email: 'per@test.local' },
    ],
    channels: { ntfy: { url: o.ntfy } },
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
    services: [{ id: serviceId, name: 'Canvas export', owner: 'per', policy: 'chain', severity: 'P2' }],
    incidents: { verifyAttempts: 1, verifyInterval: '1s', recoveryPasses: 1, recoveryInterval: '1s' },
  };
  return { config: validateConfig(raw, 'test'), serviceId };
}

describe('notification rules in the incident workflow', () => {
  let smtp: TestSmtpServer;
  let ntfy: HttpService;
  const harnesses: Harness[] = [];
  beforeAll(async () => {
    smtp = await startSmtpServer();
    ntfy = await startHttpService();
  });
  afterAll(async () => {
    for (const h of harnesses) await h.close();
    await smtp?.close();
    await ntfy?.close();
  });

  const start = async (t: { config: Config; serviceId: string }) => {
    const h = await startHarness({ config: t.config, smtpUrl: smtp.url });
    harnesses.push(h);
    ntfy.requests.length = 0;
    const r = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('per'),
      payload: { service: t.serviceId, reason: 'exports stopped' },
    });
    expect(r.statusCode, r.body).toBe(201);
    return { h, id: (r.json() as { incident: IncidentView }).incident.id };
  };
  const stored = (h: Harness, id: string, pred: (v: IncidentView) => boolean, what: string) =>
    eventually(
      async () => {
        const v = await h.store.records.getIncident(id);
        return v && pred(v) ? v : undefined;
      },
      20_000,
      what,
    );

  it('acknowledged before a delayed method is due: it is never sent, and the timeline says why', async () => {
    ntfy.answer({ status: 200, body: '{"id":"a1","event":"message"}' });
    const { h, id } = await start(
      config({
        ntfy: ntfy.url,
        levelTimeout: '10m',
        rules: [
          { method: 'push', after: 0 },
          { method: 'email', after: '20s' },
        ],
      }),
    );
    await eventually(async () => ntfy.requests[0], 15_000, 'the push');
    const ack = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${id}/acknowledge`,
      headers: h.auth('kari'),
    });
    expect(ack.statusCode, ack.body).toBe(200);
    const v = await stored(
      h,
      id,
      (x) => x.timeline.some((e) => /by email not sent/.test(e.detail)),
      'the stopped email rule',
    );
    const paged = Date.parse(v.paged[0]!.at);
    const line = v.timeline.find((e) => /by email not sent/.test(e.detail))!;
    expect(line.detail).toBe(
      'level 1: Kari Nordmann by email not sent: the incident is acknowledged (rule: after 20s)',
    );
    // It stopped at the acknowledgement, not when the rule came due.
    expect(Date.parse(line.at) - paged).toBeLessThan(20_000);
    expect(smtp.messages.filter((m) => m.to.includes('kari@test.local'))).toHaveLength(0);
    expect(v.deliveries!.map((d) => `${d.method}:${d.outcome}`)).toEqual(['push:queued', 'push:accepted']);
  });

  it('ntfy answering 429 with Retry-After: tried again after the wait, each attempt recorded', async () => {
    ntfy.answer({
      status: 429,
      headers: { 'retry-after': '3', 'content-type': 'application/json' },
      body: '{"code":42901,"http":429,"error":"limit reached: too many requests"}',
    });
    const { h, id } = await start(
      config({ ntfy: ntfy.url, levelTimeout: '10m', rules: [{ method: 'push', after: 0 }] }),
    );
    await eventually(async () => ntfy.requests[0], 15_000, 'the first push');
    ntfy.answer({ status: 200, body: '{"id":"b2","event":"message"}' });
    const v = await stored(
      h,
      id,
      (x) => x.deliveries!.some((d) => d.outcome === 'accepted'),
      'the accepted push',
    );
    const [first, second] = ntfy.requests;
    expect(second).toBeDefined();
    expect(v.deliveries!.map((d) => `${d.outcome}:${d.attempt}`)).toEqual([
      'queued:1',
      'failed:1',
      'accepted:2',
    ]);
    expect(v.deliveries![1]!.detail).toMatch(
      /attempt 1 to page Kari Nordmann by ntfy \(push\) failed: ntfy at 127\.0\.0\.1:\d+ answered 429: limit reached: too many requests \(retry after 3s\); retrying in 3s/,
    );
    const gap = Date.parse(v.deliveries![2]!.at) - Date.parse(v.deliveries![1]!.at);
    expect(gap).toBeGreaterThanOrEqual(2_900);
    // The same page both times (each send signs its own acknowledge link).
    const withoutLink = (body: string) => ({ ...JSON.parse(body), actions: undefined }) as unknown;
    expect(withoutLink(second!.body)).toEqual(withoutLink(first!.body));
    expect(ntfy.requests).toHaveLength(2);
  });

  it('a contact without rules whose email is refused for good: nobody reached at level 1, level 2 paged at once', async () => {
    smtp.rejectNext(550, '5.1.1 <kari@test.local>: Recipient address rejected: User unknown', 'rcpt');
    const { h, id } = await start(config({ ntfy: ntfy.url, levelTimeout: '10m' }));
    const v = await stored(
      h,
      id,
      (x) =>
        x.paged.some((p) => p.level === 2) && x.timeline.some((e) => /level 2: paged Ola/.test(e.detail)),
      'the level-2 page',
    );
    expect(v.timeline.map((e) => e.detail)).toContain(
      'nobody reached at level 1: every method of every person paged failed; escalating at once',
    );
    const at = (level: number) => Date.parse(v.paged.find((p) => p.level === level)!.at);
    expect(at(2) - at(1)).toBeLessThan(5_000);
    expect(ntfy.requests).toHaveLength(0); // no rules: email only, as before
    await smtp.waitFor((m) => m.to.includes('ola@test.local'));
  });
});
