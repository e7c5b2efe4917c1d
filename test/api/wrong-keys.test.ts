/**
 * L4: wrong keys on the routes whose key is the only credential (heartbeat tokens, PagerDuty routing
 * keys, Alertmanager tokens) and wrong staff bearer tokens are throttled per address and globally: 429 JSON with Retry-After,
 * before the key is looked at. A sender that never sent a wrong key keeps working.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWrongKeys } from '../../api/plugins/wrong-keys.js';
import { validateConfig } from '../../config/load.js';
import { testConfig } from '../helpers/config.js';
import { startHarness, type Harness } from '../helpers/harness.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const heartbeatToken = 'wrong-keys-test-heartbeat-token-01';
const routingKey = 'wrong-keys-test-routing-key-0001';
const amToken = 'wrong-keys-test-alertmanager-01';
const wrong = (n: number | string) => `a-wrong-key-of-plenty-characters-${n}`;
const retryAfter = (r: { headers: Record<string, unknown> }) => Number(r.headers['retry-after']);

describe('wrong keys are throttled (real stack)', () => {
  let h: Harness;

  beforeAll(async () => {
    const base = testConfig();
    const raw = JSON.parse(JSON.stringify(base.config)) as Record<string, unknown>;
    raw.checks = [
      {
        id: `${base.serviceId}-job`,
        service: base.serviceId,
        kind: 'heartbeat',
        period: '1h',
        tokenSha256: sha256(heartbeatToken),
      },
    ];
    raw.integrations = [
      { id: 'pd', kind: 'pagerduty', service: base.serviceId, keySha256: sha256(routingKey) },
      { id: 'am', kind: 'alertmanager', service: base.serviceId, keySha256: sha256(amToken) },
    ];
    h = await startHarness({
      config: validateConfig(raw, 'wrong-keys-test'),
      monitors: true,
      rateLimits: {
        wrongKeys: { max: 3, timeWindow: 60_000 },
        wrongKeysGlobal: { max: 8, timeWindow: 60_000 },
      },
    });
  });
  afterAll(async () => h?.close());

  const heartbeat = (address: string, token: string) =>
    h.app.inject({ method: 'POST', url: `/api/heartbeats/${token}`, remoteAddress: address });
  const pagerduty = (address: string, key: string) =>
    h.app.inject({
      method: 'POST',
      url: '/v2/enqueue',
      remoteAddress: address,
      payload: { routing_key: key, event_action: 'acknowledge', dedup_key: 'nothing-open' },
    });
  const alertmanager = (address: string, token: string) =>
    h.app.inject({
      method: 'POST',
      url: '/api/events/alertmanager/am',
      remoteAddress: address,
      headers: { authorization: `Bearer ${token}` },
      payload: {
        version: '4',
        status: 'resolved',
        receiver: 'r',
        groupKey: 'g',
        alerts: [{ status: 'resolved', labels: {}, startsAt: '2026-01-01T00:00:00Z', fingerprint: 'f' }],
      },
    });

  it('per address: after 3 wrong keys the address gets 429 with Retry-After on every key route, right keys too', async () => {
    const guesser = '10.0.0.1';
    for (let i = 0; i < 3; i++) {
      const r = await heartbeat(guesser, wrong(i));
      expect(r.statusCode).toBe(404);
      expect(r.json().message).toBe('heartbeat token not found');
    }
    const blocked = await heartbeat(guesser, heartbeatToken);
    expect(blocked.statusCode).toBe(429);
    expect(retryAfter(blocked)).toBeGreaterThan(0);
    expect(retryAfter(blocked)).toBeLessThanOrEqual(60);
    expect(blocked.json()).toEqual({
      statusCode: 429,
      error: 'rate_limited',
      field: 'token',
      message: `token: too many wrong heartbeat tokens from this address; try again in ${retryAfter(blocked)} s`,
    });

    // One count for the three routes.
    const pd = await pagerduty(guesser, routingKey);
    expect(pd.statusCode).toBe(429);
    expect(retryAfter(pd)).toBeGreaterThan(0);
    expect(pd.json()).toEqual({
      status: 'throttle event',
      message: `routing_key: too many wrong routing keys from this address; retry in ${retryAfter(pd)} s`,
    });
    const am = await alertmanager(guesser, amToken);
    expect(am.statusCode).toBe(429);
    expect(am.json()).toMatchObject({ statusCode: 429, error: 'rate_limited', field: 'authorization' });
    expect(am.json().message).toMatch(/^authorization: too many wrong integration tokens from this address/);

    // Another address that never sent a wrong key is not held back.
    const other = '10.0.0.2';
    expect((await heartbeat(other, heartbeatToken)).statusCode).toBe(202);
    expect((await pagerduty(other, routingKey)).statusCode).toBe(202);
    expect((await alertmanager(other, amToken)).statusCode).toBe(200);
  });

  it('globally: past 8 wrong keys from everywhere, any address that sent one waits; clean senders still pass', async () => {
    // 3 wrong keys so far (10.0.0.1); five more from five addresses reach the global 8.
    for (let i = 1; i <= 5; i++) {
      const r = await pagerduty(`10.0.1.${i}`, wrong(`g${i}`));
      expect(r.statusCode).toBe(400);
      expect(r.json().errors).toEqual(['routing_key: unknown']);
    }
    // An address with a single wrong key now waits, with its right key too.
    const once = await alertmanager('10.0.1.1', amToken);
    expect(once.statusCode).toBe(429);
    expect(retryAfter(once)).toBeGreaterThan(0);
    expect(once.json().field).toBe('authorization');
    // A new address's wrong key is answered 429, not 401.
    const fresh = await alertmanager('10.0.2.1', wrong('fresh'));
    expect(fresh.statusCode).toBe(429);
    expect(fresh.json().message).toMatch(/^authorization: too many wrong integration tokens/);
    // Senders that never sent a wrong key: accepted as always.
    expect((await heartbeat('10.0.2.2', heartbeatToken)).statusCode).toBe(202);
    expect((await pagerduty('10.0.0.2', routingKey)).statusCode).toBe(202);
    expect((await alertmanager('10.0.2.3', amToken)).statusCode).toBe(200);
    // No token at all is not a guess: still 401.
    const none = await h.app.inject({
      method: 'POST',
      url: '/api/events/alertmanager/am',
      remoteAddress: '10.0.2.4',
    });
    expect(none.statusCode).toBe(401);
  });
});

describe('wrong staff bearer tokens are throttled too (real stack)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      config: testConfig().config,
      worker: false,
      rateLimits: { wrongKeys: { max: 3, timeWindow: 60_000 } },
    });
  });
  afterAll(async () => h?.close());
  const list = (address: string, authorization?: string) =>
    h.app.inject({
      method: 'GET',
      url: '/api/incidents',
      remoteAddress: address,
      headers: authorization ? { authorization } : {},
    });

  it('after 3 wrong tokens the address gets 429 with Retry-After, its right token too; others and no token are unaffected', async () => {
    const guesser = '10.0.3.1';
    for (let i = 0; i < 3; i++) {
      const r = await list(guesser, `Bearer ${wrong(`staff${i}`)}`);
      expect(r.statusCode).toBe(401);
      expect(r.json().message).toBe('unknown or revoked token');
    }
    const blocked = await list(guesser, h.auth('kari').authorization);
    expect(blocked.statusCode).toBe(429);
    expect(retryAfter(blocked)).toBeGreaterThan(0);
    expect(retryAfter(blocked)).toBeLessThanOrEqual(60);
    expect(blocked.json()).toMatchObject({ statusCode: 429, error: 'rate_limited', field: 'authorization' });
    expect(blocked.json().message).toMatch(/^authorization: too many wrong staff tokens from this address/);
    // Without a token it is not a guess: 401 as always (the header is what is throttled).
    expect((await list(guesser)).statusCode).toBe(401);
    // Another address with the right token is not held back.
    expect((await list('10.0.3.2', h.auth('kari').authorization)).statusCode).toBe(200);
  });
});

describe('the wrong-key count', () => {
  it('ends with its window, and remembers a bounded number of addresses', () => {
    let now = 0;
    const keys = createWrongKeys(
      { perAddress: { max: 2, timeWindow: 1000 }, global: { max: 1000, timeWindow: 1000 }, maxAddresses: 3 },
      () => now,
    );
    expect(keys.wrong('a')).toBe(0);
    expect(keys.wrong('a')).toBe(0);
    expect(keys.refused('a')).toBe(1);
    now = 1000;
    expect(keys.refused('a')).toBe(0);
    for (const address of ['b', 'c', 'd', 'e']) keys.wrong(address);
    keys.wrong('b');
    // 'b' was the oldest of four with room for three: forgotten, so its second wrong key starts anew.
    expect(keys.refused('b')).toBe(0);
  });
});
