/**
 * The Opsgenie-compatible alert API against the real stack (Temporal dev server, worker, record
 * store): Opsgenie's documented create, acknowledge and close examples, and the requests
 * Alertmanager's `opsgenie_configs` sender makes (notify/opsgenie/opsgenie.go: create with the group
 * key's hash as alias, close by alias with `{"source": …}`), answered as Opsgenie answers.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load.js';
import type { IncidentView } from '../../domain/incident.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const genieKey = 'eb243592-faa2-4ba2-a551-1afdf565c889'; // the shape of Opsgenie's API keys
const otherKey = 'a0a0a0a0-b1b1-c2c2-d3d3-e4e4e4e4e4e4';
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Opsgenie's documented create-alert example (docs.opsgenie.com/docs/alert-api, "Create Alert"). */
const documentedCreate = {
  message: 'An example alert message',
  alias: 'Life is too short for no alias',
  description: 'Every alert needs a description',
  responders: [
    { id: '4513b7ea-3b91-438f-b7e4-e3e54af9147c', type: 'team' },
    { name: 'NOC', type: 'team' },
    { id: 'bb4d9938-c3c2-455d-aaab-727aa701c0d8', type: 'user' },
    { username: 'trinity@opsgenie.com', type: 'user' },
    { id: 'aee8a0de-c80f-4515-a232-501c0bc9d715', type: 'escalation' },
    { name: 'Nightwatch Escalation', type: 'escalation' },
    { id: '80564037-1984-4f38-b98e-8a1f662df552', type: 'schedule' },
    { name: 'First Responders Schedule', type: 'schedule' },
  ],
  visibleTo: [
    { id: '4513b7ea-3b91-438f-b7e4-e3e54af9147c', type: 'team' },
    { name: 'rocket_team', type: 'team' },
    { id: 'bb4d9938-c3c2-455d-aaab-727aa701c0d8', type: 'user' },
    { username: 'trinity@opsgenie.com', type: 'user' },
  ],
  actions: ['Restart', 'AnExampleAction'],
  tags: ['OverwriteQuietHours', 'Critical'],
  details: { key1: 'value1', key2: 'value2' },
  entity: 'An example entity',
  priority: 'P1',
};
/** The documented body of acknowledge and close. */
const documentedAction = {
  user: 'Monitoring Script',
  source: 'AWS Lambda',
  note: 'Action executed via Alert API',
};

describe('Opsgenie-compatible alert API', () => {
  let h: Harness;
  const svc = { main: '', am: '', other: '' };

  beforeAll(async () => {
    const base = testConfig({ levelTimeout: '10m' });
    const id = base.serviceId;
    Object.assign(svc, { main: `${id}-og`, am: `${id}-am`, other: `${id}-other` });
    const raw = JSON.parse(JSON.stringify(base.config)) as Record<string, unknown> & { services: object[] };
    const service = (sid: string) => ({
      id: sid,
      name: `service ${sid}`,
      owner: 'kari',
      policy: 'chain',
      severity: 'P3',
    });
    raw.services.push(service(svc.main), service(svc.am), service(svc.other));
    process.env.OPSGENIE_TEST_KEY = genieKey;
    raw.integrations = [
      { id: 'og', kind: 'opsgenie', service: svc.main, services: [svc.am], keyEnv: 'OPSGENIE_TEST_KEY' },
      // A PagerDuty key is not an Opsgenie key.
      { id: 'pd', kind: 'pagerduty', service: svc.other, keySha256: sha256(otherKey) },
    ];
    h = await startHarness({
      config: validateConfig(raw, 'opsgenie-test'),
      rateLimits: {
        wrongKeys: { max: 3, timeWindow: 60_000 },
        wrongKeysGlobal: { max: 50, timeWindow: 60_000 },
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    delete process.env.OPSGENIE_TEST_KEY;
  });

  const post = (url: string, payload?: object | string, o: { key?: string | null; ip?: string } = {}) =>
    h.app.inject({
      method: 'POST',
      url,
      payload,
      remoteAddress: o.ip,
      headers: {
        'content-type': 'application/json',
        ...(o.key === null ? {} : { authorization: `GenieKey ${o.key ?? genieKey}` }),
      },
    });
  const view = (serviceId: string) => h.incidents.get(serviceId);
  const accepted = (r: Awaited<ReturnType<typeof post>>) => {
    expect(r.statusCode, r.body).toBe(202);
    const b = r.json() as { result: string; took: number; requestId: string };
    expect(b).toEqual({
      result: 'Request will be processed',
      took: expect.any(Number),
      requestId: expect.stringMatching(uuid),
    });
    expect(r.headers['x-request-id']).toBe(b.requestId);
  };

  it("opens an incident from Opsgenie's documented create example; the same alias again joins it", async () => {
    accepted(await post('/v2/alerts', documentedCreate));
    const v = await view(svc.main);
    expect(v.state).toBe('triggered');
    expect(v.severity).toBe('P1'); // Opsgenie P1 on a P3 service
    expect(v.reason).toBe('An example alert message (An example entity)');
    expect(v.openKeys).toEqual(['event:og:Life is too short for no alias']);
    expect(v.timeline.find((e) => e.kind === 'detected')?.actor).toBe('opsgenie:og');

    // A redelivery of the same alert, then the same alias with another message: one incident, one key.
    accepted(await post('/v2/alerts', documentedCreate));
    accepted(await post('/v2/alerts', { ...documentedCreate, message: 'Still broken', priority: 'P3' }));
    const again = await view(svc.main);
    expect(again.id).toBe(v.id);
    expect(again.openKeys).toEqual(['event:og:Life is too short for no alias']);
    expect(again.severity).toBe('P1'); // a join does not change it
  });

  it('acknowledges and closes by alias with the documented bodies: escalation stops, the incident resolves', async () => {
    const alias = encodeURIComponent(documentedCreate.alias);
    accepted(await post(`/v2/alerts/${alias}/acknowledge?identifierType=alias`, documentedAction));
    const acked = await view(svc.main);
    expect(acked.state).toBe('acknowledged');
    expect(acked.timeline.find((e) => e.kind === 'acknowledged')?.actor).toBe('opsgenie:og');

    accepted(await post(`/v2/alerts/${alias}/close?identifierType=alias`, documentedAction));
    const closed = await eventually(
      async () => {
        const x = await view(svc.main);
        return x.state === 'resolved' ? x : undefined;
      },
      20_000,
      'the incident resolved by the close',
    );
    expect(closed.openKeys).toEqual([]);
    // A close for an alias no open incident holds: 202, nothing happens (as Opsgenie: processed, "does not exist").
    accepted(await post(`/v2/alerts/${alias}/close?identifierType=alias`, documentedAction));
  });

  it("works with Alertmanager's opsgenie sender unchanged: create by group-key alias, close by alias", async () => {
    // What notify/opsgenie/opsgenie.go sends for a firing group with labels.service naming a service.
    const alias = sha256('{}:{alertname="ExportStale"}');
    const create = {
      alias,
      message: '[FIRING:1] ExportStale datasync02 (fs-export critical)',
      description: 'Alerts Firing:\nLabels:\n - alertname = ExportStale\n - severity = critical\n',
      details: { alertname: 'ExportStale', severity: 'critical', service: svc.am },
      source: 'http://prometheus:9090/graph?g0.expr=time%28%29',
      tags: ['fs', 'export'],
      priority: 'P2',
    };
    accepted(await post('/v2/alerts', create));
    const v = await view(svc.am);
    expect(v.state).toBe('triggered');
    expect(v.severity).toBe('P2');
    expect(v.openKeys).toEqual([`event:og:${alias}`]);

    accepted(await post(`/v2/alerts/${alias}/close?identifierType=alias`, { source: create.source }));
    await eventually(
      async () => (await view(svc.am)).state === 'resolved',
      20_000,
      'resolved by Alertmanager',
    );
  });

  it('acknowledges by incident id (identifierType=id); refuses a service the integration does not list with 403', async () => {
    accepted(
      await post('/v2/alerts', { message: 'Queue is backing up', alias: 'queue-depth', priority: 'P4' }),
    );
    const v = await view(svc.main);
    expect(v.state).toBe('triggered');
    expect(v.severity).toBe('P3');
    accepted(await post(`/v2/alerts/${encodeURIComponent(v.id)}/acknowledge?identifierType=id`, {}));
    expect((await view(svc.main)).state).toBe('acknowledged');
    accepted(await post(`/v2/alerts/${encodeURIComponent(v.id)}/close`, {})); // id is the default type
    await eventually(async () => (await view(svc.main)).state === 'resolved', 20_000, 'resolved by id');

    const refused = await post('/v2/alerts', { message: 'not yours', entity: svc.other });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({
      message: expect.stringMatching(/^entity: integration "og" may not act/),
      requestId: expect.stringMatching(uuid),
    });
    const tiny = await post('/v2/alerts/1234/close?identifierType=tiny', {});
    expect(tiny.statusCode).toBe(422);
    expect(tiny.json().errors).toEqual({ identifierType: 'tiny is not supported (alias, id)' });
  });

  it('answers malformed alerts as Opsgenie does: 422 naming the field, 400 for a body that is not JSON', async () => {
    const cases: Array<[object, string]> = [
      [{ alias: 'x' }, 'message'],
      [{ message: '' }, 'message'],
      [{ message: 'x', priority: 'P9' }, 'priority'],
      [{ message: 'x', tags: 'a,b' }, 'tags'],
      [{ message: 'x', details: { n: 1 } }, 'details.n'],
      [{ message: 'x', alias: 'a'.repeat(513) }, 'alias'],
    ];
    for (const [body, field] of cases) {
      const r = await post('/v2/alerts', body);
      expect(r.statusCode, JSON.stringify(body)).toBe(422);
      const b = r.json() as {
        message: string;
        errors: Record<string, string>;
        took: number;
        requestId: string;
      };
      expect(Object.keys(b.errors), JSON.stringify(body)).toContain(field);
      expect(b.message).toContain(field);
      expect(b.requestId).toMatch(uuid);
    }
    const notJson = await post('/v2/alerts', '{"message":');
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json()).toMatchObject({
      message: expect.stringMatching(/^body: /),
      requestId: expect.stringMatching(uuid),
    });
  });

  it('refuses missing and wrong keys with 401 and throttles wrong keys with 429', async () => {
    const none = await post('/v2/alerts', { message: 'x' }, { key: null, ip: '10.1.1.1' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({
      message: expect.stringMatching(/^Authorization: a GenieKey is required/),
    });
    // Another integration's key (PagerDuty) is not an Opsgenie key.
    const pd = await post('/v2/alerts', { message: 'x' }, { key: otherKey, ip: '10.1.1.2' });
    expect(pd.statusCode).toBe(401);
    const ip = '10.1.1.3';
    const codes: number[] = [];
    for (let i = 0; i < 4; i++)
      codes.push((await post('/v2/alerts', { message: 'x' }, { key: `wrong-${i}`, ip })).statusCode);
    expect(codes).toEqual([401, 401, 401, 429]);
    // Refused before the key is looked at: the right key from that address waits too.
    const right = await post('/v2/alerts', { message: 'x' }, { ip });
    expect(right.statusCode).toBe(429);
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
    expect(right.json()).toMatchObject({
      message: expect.stringMatching(/^Authorization: too many wrong API keys/),
    });
    const views: IncidentView[] = (await h.incidents.list({ limit: 50 })) as unknown as IncidentView[];
    expect(views.every((x) => x.reason !== 'x')).toBe(true);
  });
});
