/**
 * Inbound events against the real stack (Temporal dev server, worker, SMTP): a PagerDuty Events API
 * v2 endpoint and an Alertmanager webhook receiver open, join, acknowledge and resolve incidents,
 * one incident per dedup key, a redelivered event recorded once.
 */
import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentService } from '../../api/incident-service.js';
import { errorHandlerPlugin } from '../../api/plugins/errors.js';
import { eventRoutes } from '../../api/routes/events.js';
import { validateConfig } from '../../config/load.js';
import type { IncidentView } from '../../domain/incident.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { startSmtpServer } from '../helpers/smtp-server.js';

type Smtp = Awaited<ReturnType<typeof startSmtpServer>>;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

const pdKey = 'R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY01'; // from the environment (keyEnv)
const pdAckKey = 'R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY02'; // hashed in the config (keySha256)
const amToken = 'alertmanager-test-token-0001';

describe('inbound events', () => {
  let smtp: Smtp;
  let h: Harness;
  const svc = { pd: '', ack: '', am: '', routed: '' };

  beforeAll(async () => {
    smtp = await startSmtpServer();
    const base = testConfig({ levelTimeout: '3s' });
    const id = base.serviceId;
    Object.assign(svc, { pd: `${id}-pd`, ack: `${id}-ack`, am: `${id}-am`, routed: `${id}-routed` });
    const raw = JSON.parse(JSON.stringify(base.config)) as Record<string, unknown> & { services: object[] };
    const service = (sid: string, severity: string) => ({
      id: sid,
      name: `service ${sid}`,
      owner: 'kari',
      policy: 'chain',
      severity,
    });
    raw.services.push(
      service(svc.pd, 'P3'),
      service(svc.ack, 'P2'),
      service(svc.am, 'P2'),
      service(svc.routed, 'P2'),
    );
    process.env.EVENTS_TEST_PD_KEY = pdKey;
    process.env.EVENTS_TEST_AM_TOKEN = amToken;
    raw.integrations = [
      { id: 'pd-main', kind: 'pagerduty', service: svc.pd, keyEnv: 'EVENTS_TEST_PD_KEY' },
      { id: 'pd-ack', kind: 'pagerduty', service: svc.ack, keySha256: sha256(pdAckKey) },
      {
        id: 'prometheus',
        kind: 'alertmanager',
        service: svc.am,
        services: [svc.routed],
        keyEnv: 'EVENTS_TEST_AM_TOKEN',
      },
    ];
    h = await startHarness({ config: validateConfig(raw, 'events-test'), smtpUrl: smtp.url });
  });

  afterAll(async () => {
    await h?.close();
    await smtp?.close();
  });

  const post = (url: string, payload: object | string, headers: Record<string, string> = {}) =>
    h.app.inject({
      method: 'POST',
      url,
      payload,
      headers: { 'content-type': 'application/json', ...headers },
    });
  const view = (serviceId: string) => h.incidents.get(serviceId);
  const count = (v: IncidentView, kind: string) => v.timeline.filter((e) => e.kind === kind).length;

  describe('PagerDuty Events API v2', () => {
    const trigger = (summary: string, extra: object = {}) => ({
      routing_key: pdKey,
      event_action: 'trigger',
      dedup_key: 'db-primary-down',
      payload: { summary, source: 'db1.example.edu', severity: 'critical' },
      ...extra,
    });

    it('rejects unknown routing keys and malformed events like PagerDuty does (400 invalid event)', async () => {
      const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      for (const path of ['/api/events/pagerduty', '/v2/enqueue', '/api/events/alertmanager/{integrationId}'])
        expect(doc.paths[path].post.tags).toEqual(['events']);

      const unknown = await post('/api/events/pagerduty', { ...trigger('x'), routing_key: 'nope' });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json()).toEqual({
        status: 'invalid event',
        message: 'Event object is invalid',
        errors: ['routing_key: unknown'],
      });

      const noSummary = await post('/v2/enqueue', {
        routing_key: pdKey,
        event_action: 'trigger',
        payload: { source: 's', severity: 'info' },
      });
      expect(noSummary.statusCode).toBe(400);
      expect(noSummary.json().errors).toEqual(['payload.summary: is required for trigger']);

      const badAction = await post('/api/events/pagerduty', { ...trigger('x'), event_action: 'snooze' });
      expect(badAction.statusCode).toBe(400);
      expect(badAction.json().errors[0]).toMatch(/^event_action: .*trigger, acknowledge, resolve/);

      const badSeverity = await post('/api/events/pagerduty', {
        ...trigger('x'),
        payload: { summary: 'x', source: 's', severity: 'fatal' },
      });
      expect(badSeverity.json().errors[0]).toMatch(/^payload\.severity: /);

      const noDedup = await post('/api/events/pagerduty', { routing_key: pdKey, event_action: 'resolve' });
      expect(noDedup.json().errors).toEqual(['dedup_key: is required for resolve']);

      const notJson = await post('/api/events/pagerduty', '{"routing_key":');
      expect(notJson.statusCode).toBe(400);
      expect(notJson.json().status).toBe('invalid event');

      const tooLarge = await post('/api/events/pagerduty', trigger('x'.repeat(600 * 1024)));
      expect(tooLarge.statusCode).toBe(400);
      expect(tooLarge.json().errors).toEqual(['body: larger than 512 KiB']);
    });

    it('trigger twice with one dedup_key gives one incident; a redelivery counts once; resolve resolves it', async () => {
      const first = await post('/api/events/pagerduty', trigger('Primary database unreachable'));
      expect(first.statusCode).toBe(202);
      expect(first.json()).toEqual({
        status: 'success',
        message: 'Event processed',
        dedup_key: 'db-primary-down',
      });
      const opened = await view(svc.pd);
      expect(opened.source).toBe('event');
      expect(opened.severity).toBe('P1'); // critical, above the service's P3
      expect(opened.openKeys).toEqual(['event:pd-main:db-primary-down']);
      expect(opened.timeline.find((e) => e.kind === 'verified')?.detail).toMatch(/verification skipped/);

      // The second trigger (the PagerDuty path) joins; the same body again, in any key order and in a burst, is recorded once.
      const second = trigger('Primary database still unreachable');
      expect((await post('/v2/enqueue', second)).statusCode).toBe(202);
      const reordered = Object.fromEntries(Object.entries(second).reverse());
      const again = await Promise.all([
        post('/api/events/pagerduty', reordered),
        ...Array.from({ length: 10 }, () => post('/v2/enqueue', second)),
      ]);
      expect(again.map((r) => r.statusCode)).toEqual(Array(11).fill(202));
      const joined = await view(svc.pd);
      expect(joined.id).toBe(opened.id);
      expect(count(joined, 'detected')).toBe(1);
      expect(count(joined, 'joined')).toBe(1);
      expect(joined.openKeys).toEqual(['event:pd-main:db-primary-down']);
      await smtp.waitFor((m) => m.to.includes('kari@test.local') && m.subject.includes(svc.pd));

      const resolve = await post('/api/events/pagerduty', {
        routing_key: pdKey,
        event_action: 'resolve',
        dedup_key: 'db-primary-down',
      });
      expect(resolve.statusCode).toBe(202);
      const resolved = await eventually(async () => {
        const v = await view(svc.pd);
        return v.state === 'resolved' && v;
      });
      expect(resolved.id).toBe(opened.id);
      expect(resolved.openKeys).toEqual([]);
      expect(resolved.timeline.find((e) => e.kind === 'recovered')?.actor).toBe('pagerduty:pd-main');

      // A trigger without a dedup_key gets one derived from the event: a redelivery gets the same one.
      const noKey = { routing_key: pdKey, event_action: 'resolve', dedup_key: 'never-triggered' };
      expect((await post('/api/events/pagerduty', noKey)).statusCode).toBe(202); // nothing to do
    });

    it('acknowledge stops escalation (the incident holding the dedup_key, recorded once)', async () => {
      const t = {
        routing_key: pdAckKey,
        event_action: 'trigger',
        payload: { summary: 'Queue backlog', source: 'mq1', severity: 'warning' },
      };
      const r1 = await post('/api/events/pagerduty', t);
      const r2 = await post('/api/events/pagerduty', t);
      const dedupKey = r1.json().dedup_key as string;
      expect(dedupKey).toMatch(/^[0-9a-f]{32}$/);
      expect(r2.json().dedup_key).toBe(dedupKey);
      const opened = await eventually(async () => {
        const v = await view(svc.ack);
        return v.paged.length > 0 && v;
      });
      expect(opened.severity).toBe('P2'); // warning maps to P3; the service says P2

      const unknownAck = { routing_key: pdAckKey, event_action: 'acknowledge', dedup_key: 'unknown' };
      expect((await post('/api/events/pagerduty', unknownAck)).statusCode).toBe(202);
      expect((await view(svc.ack)).state).toBe('triggered');

      const ack = { routing_key: pdAckKey, event_action: 'acknowledge', dedup_key: dedupKey };
      expect((await post('/api/events/pagerduty', ack)).statusCode).toBe(202);
      expect((await post('/api/events/pagerduty', ack)).statusCode).toBe(202);
      const acked = await view(svc.ack);
      expect(acked.state).toBe('acknowledged');
      expect(acked.acknowledgedBy).toBe('pagerduty:pd-ack');
      expect(count(acked, 'acknowledged')).toBe(1);
      const pagedLevels = acked.paged.map((p) => p.level);
      // The level timeout is 3 s: nothing more is paged once acknowledged.
      await new Promise((r) => setTimeout(r, 3500));
      const later = await view(svc.ack);
      expect(later.state).toBe('acknowledged');
      expect(later.paged.map((p) => p.level)).toEqual(pagedLevels);
      expect(later.nextEscalationAt).toBeUndefined();
    });
  });

  describe('Alertmanager webhook', () => {
    const url = '/api/events/alertmanager/prometheus';
    const bearer = { authorization: `Bearer ${amToken}` };
    const alert = (
      fingerprint: string,
      status: 'firing' | 'resolved',
      labels: Record<string, string> = {},
    ) => ({
      status,
      labels: { alertname: 'DatabaseDown', severity: 'critical', instance: fingerprint, ...labels },
      annotations: { summary: `database ${fingerprint} is down` },
      startsAt: '2024-05-01T02:00:00.000Z',
      endsAt: status === 'resolved' ? '2024-05-01T02:30:00.000Z' : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph?g0.expr=up%3D%3D0',
      fingerprint,
    });
    const webhook = (alerts: ReturnType<typeof alert>[]) => ({
      version: '4',
      status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
      receiver: 'incident-orchestrator',
      groupKey: '{}:{alertname="DatabaseDown"}',
      truncatedAlerts: 0,
      groupLabels: { alertname: 'DatabaseDown' },
      commonLabels: { alertname: 'DatabaseDown' },
      commonAnnotations: {},
      externalURL: 'http://alertmanager:9093',
      alerts,
    });

    it('refuses a missing or wrong bearer token with 401, before reading the body', async () => {
      const body = webhook([alert('aaaa', 'firing')]);
      expect((await post(url, body)).statusCode).toBe(401);
      const wrong = await post(url, body, { authorization: 'Bearer wrong-token' });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json()).toMatchObject({ statusCode: 401, error: 'unauthorized' });
      expect(
        (await post('/api/events/alertmanager/pd-main', body, { authorization: `Bearer ${pdKey}` }))
          .statusCode,
      ).toBe(401);
      expect((await post('/api/events/alertmanager/nope', body, bearer)).statusCode).toBe(401);
      expect((await post(url, '{"version":', { authorization: 'Bearer wrong-token' })).statusCode).toBe(401);
      const bad = await post(url, { ...body, version: '3' }, bearer);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().message).toMatch(/version/);
    });

    it('firing opens one incident (a repeat counts once, a second alert joins); resolved resolves it', async () => {
      const firing = webhook([alert('fp-db1', 'firing')]);
      const r = await post(url, firing, bearer);
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({ processed: 1 });
      const opened = await view(svc.am);
      expect(opened.reason).toBe('database fp-db1 is down');
      expect(opened.severity).toBe('P1');
      expect(opened.openKeys).toEqual(['event:prometheus:fp-db1']);

      // Alertmanager re-sends the group (repeat_interval) and, with a second alert, the whole group.
      expect((await post(url, firing, bearer)).statusCode).toBe(200);
      const both = webhook([alert('fp-db1', 'firing'), alert('fp-db2', 'firing')]);
      expect((await post(url, both, bearer)).json()).toEqual({ processed: 2 });
      const joined = await view(svc.am);
      expect(joined.id).toBe(opened.id);
      expect(count(joined, 'detected')).toBe(1);
      expect(count(joined, 'joined')).toBe(1);
      expect(joined.openKeys).toEqual(['event:prometheus:fp-db1', 'event:prometheus:fp-db2']);

      // One resolved, one still firing: the incident stays open; then both resolved.
      await post(url, webhook([alert('fp-db1', 'resolved'), alert('fp-db2', 'firing')]), bearer);
      const half = await view(svc.am);
      expect(half.state).not.toBe('resolved');
      expect(half.openKeys).toEqual(['event:prometheus:fp-db2']);
      const done = await post(
        url,
        webhook([alert('fp-db1', 'resolved'), alert('fp-db2', 'resolved')]),
        bearer,
      );
      expect(done.json()).toEqual({ processed: 2 });
      const resolved = await eventually(async () => {
        const v = await view(svc.am);
        return v.state === 'resolved' && v;
      });
      expect(resolved.id).toBe(opened.id);
      expect(count(resolved, 'recovered')).toBe(2);
    });

    it('refuses (403, naming the field) an alert for a configured service its integration does not list; no alert of that webhook runs', async () => {
      const own = alert('fp-own', 'firing');
      const foreign = alert('fp-foreign', 'firing', { service: svc.ack, severity: 'critical' });
      for (const alerts of [[own, foreign], [{ ...foreign, status: 'resolved' as const }]]) {
        const r = await post(url, webhook(alerts), bearer);
        expect(r.statusCode).toBe(403);
        const i = alerts.length - 1;
        expect(r.json()).toEqual({
          statusCode: 403,
          error: 'service_not_allowed',
          field: `alerts[${i}].labels.service`,
          message: `alerts[${i}].labels.service: integration "prometheus" may not open incidents for service "${svc.ack}" (it may for: ${svc.am}, ${svc.routed}; list others in its services)`,
        });
      }
      const ack = await view(svc.ack);
      expect(ack.openKeys.filter((k) => k.startsWith('event:prometheus:'))).toEqual([]);
      expect(ack.severity).toBe('P2');
      expect((await view(svc.am)).openKeys).not.toContain('event:prometheus:fp-own');
      // A service label that is no configured service still goes to the integration's own service.
      const unknown = alert('fp-unknown-label', 'resolved', { service: 'not-a-service' });
      expect((await post(url, webhook([unknown]), bearer)).statusCode).toBe(200);
    });

    it('routes an alert to labels.service when that is a service its integration lists', async () => {
      const routed = alert('fp-routed', 'firing', { service: svc.routed, severity: 'info' });
      expect((await post(url, webhook([routed]), bearer)).statusCode).toBe(200);
      const v = await view(svc.routed);
      expect(v.openKeys).toEqual(['event:prometheus:fp-routed']);
      expect(v.severity).toBe('P2');
      await post(url, webhook([{ ...routed, status: 'resolved' }]), bearer);
      await eventually(async () => (await view(svc.routed)).state === 'resolved');
    });
  });
});

describe('inbound events under a burst (no Temporal: a stub that holds every call)', () => {
  it('bounds concurrent Temporal calls, turns away requests beyond the bound, coalesces identical deliveries', async () => {
    const base = testConfig();
    const raw = JSON.parse(JSON.stringify(base.config)) as Record<string, unknown>;
    raw.integrations = [
      { id: 'pd', kind: 'pagerduty', service: `${base.serviceId}-host`, keySha256: sha256(pdKey) },
    ];
    const config = validateConfig(raw, 'burst-test');
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const release: Array<() => void> = [];
    const client = {
      workflow: {
        // No open incident anywhere: the root cause and the dependents are looked up first.
        getHandle: (workflowId: string) => ({
          describe: async () => {
            throw new WorkflowNotFoundError('not found', workflowId, undefined);
          },
        }),
        executeUpdateWithStart: async () => {
          calls++;
          maxActive = Math.max(maxActive, ++active);
          await new Promise<void>((r) => release.push(r));
          active--;
          return { id: `${base.serviceId}.x`, opened: true, state: 'triggered' };
        },
      },
    };
    const incidents = {
      temporal: { client, config, taskQueue: 'q', publicBaseUrl: 'http://x' },
      call: <T>(_what: string, fn: () => Promise<T>) => fn(),
      settle: async () => undefined,
    } as unknown as IncidentService;
    const app = Fastify().withTypeProvider<TypeBoxTypeProvider>();
    await app.register(errorHandlerPlugin);
    await app.register(eventRoutes, { incidents, config, limits: { concurrency: 2, maxPending: 4 } });
    const send = (summary: string) =>
      app.inject({
        method: 'POST',
        url: '/api/events/pagerduty',
        payload: {
          routing_key: pdKey,
          event_action: 'trigger',
          dedup_key: summary,
          payload: { summary, source: 's', severity: 'error' },
        },
      });
    const held = [send('a'), send('a'), send('b'), send('c')];
    await eventually(async () => release.length === 2);
    const turnedAway = await send('d');
    expect(turnedAway.statusCode).toBe(429);
    expect(turnedAway.headers['retry-after']).toBe('1');
    while (release.length || calls < 3) {
      release.shift()?.();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((await Promise.all(held)).map((r) => r.statusCode)).toEqual([202, 202, 202, 202]);
    expect(calls).toBe(3); // the two identical deliveries of "a" shared one call
    expect(maxActive).toBe(2);
    await app.close();
  });
});
