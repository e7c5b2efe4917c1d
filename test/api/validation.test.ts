/**
 * What a client gets for requests the routes cannot take (the fuzz findings): impossible dates, a
 * body nested thousands deep, `limit=Infinity` and wrong JSON types are 400 naming the field, never
 * 500 nor a silently coerced value; staff routes answer 401 before they look at the body.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDateTime } from '../../api/plugins/validation.js';
import { validateConfig } from '../../config/load.js';
import { testConfig } from '../helpers/config.js';
import { startHarness, type Harness } from '../helpers/harness.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const routingKey = 'validation-test-routing-key-0001';

/** `{"a":{"a":…1…}}`, `depth` objects deep, as text (no recursion needed to build or send it). */
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('request validation', () => {
  let h: Harness;
  let checkId = '';
  let serviceId = '';
  const json = { 'content-type': 'application/json' };

  beforeAll(async () => {
    const base = testConfig();
    serviceId = base.serviceId;
    checkId = `${serviceId}-import`;
    const raw = JSON.parse(JSON.stringify(base.config)) as Record<string, unknown>;
    raw.checks = [
      {
        id: checkId,
        service: serviceId,
        kind: 'heartbeat',
        period: '1h',
        tokenSha256: sha256('validation-test-heartbeat-token'),
      },
    ];
    raw.integrations = [{ id: 'pd', kind: 'pagerduty', service: serviceId, keySha256: sha256(routingKey) }];
    h = await startHarness({ config: validateConfig(raw, 'validation-test'), worker: false });
  });
  afterAll(async () => h?.close());

  const post = (url: string, payload: object | string, headers: Record<string, string> = h.auth('kari')) =>
    h.app.inject({ method: 'POST', url, payload, headers: { ...json, ...headers } });

  it('strict date-time: leap seconds, 30 February and other impossible dates are refused', () => {
    for (const bad of [
      '2026-12-31T23:59:60Z',
      '2026-02-30T10:00:00Z',
      '2025-02-29T10:00:00Z',
      '2026-04-31T10:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01T10:60:00Z',
      '2026-01-01T10:00:00+24:00',
      '2026-13-01T10:00:00Z',
      '2026-01-01',
      '2026-01-01T10:00:00',
    ])
      expect(isDateTime(bad), bad).toBe(false);
    for (const good of ['2024-02-29T10:00:00Z', '2026-12-31T23:59:59.999Z', '2026-06-01T12:00:00+02:00'])
      expect(isDateTime(good), good).toBe(true);
  });

  it('a leap second or an impossible date on monitor pause, changes and filters: 400 naming the field', async () => {
    for (const until of ['2026-12-31T23:59:60Z', '2099-02-30T10:00:00Z']) {
      const r = await post(`/api/monitors/${checkId}/pause`, { until, reason: 'fuzz' });
      expect(r.statusCode, until).toBe(400);
      expect(r.json()).toMatchObject({ statusCode: 400, error: 'invalid_request', field: 'until' });
      expect(r.json().message).toMatch(/^body\.until: /);
    }

    const change = await post('/api/changes', {
      what: 'firewall rule',
      hosts: ['fw1'],
      at: '2026-12-31T23:59:60Z',
    });
    expect(change.statusCode).toBe(400);
    expect(change.json()).toMatchObject({ field: 'at' });
    expect(change.json().message).toMatch(/^body\.at: /);

    for (const url of [
      '/api/incidents?from=2026-12-31T23:59:60Z',
      '/api/changes?to=2026-12-31T23:59:60Z',
      '/api/reports/summary?from=2026-12-31T23:59:60Z',
    ]) {
      const r = await h.app.inject({ method: 'GET', url, headers: h.auth('kari') });
      expect(r.statusCode, url).toBe(400);
      expect(r.json().message, url).toMatch(/^querystring\.(from|to): /);
    }
  });

  it('a valid date-time PostgreSQL cannot read as written (offset past ±15:59, year 0) filters, never 5xx', async () => {
    // schemathesis found from=0148-04-20T14:32:55-23:56 answered 503 "time zone displacement out of range".
    for (const url of [
      '/api/incidents?from=0148-04-20T14%3A32%3A55-23%3A56',
      '/api/incidents?to=2026-01-01T00%3A00%3A00%2B23%3A59',
      '/api/incidents?from=0000-01-01T00%3A00%3A00Z',
      '/api/reports/summary?from=0000-06-01T00%3A00%3A00Z&to=0001-06-01T00%3A00%3A00-23%3A00',
    ]) {
      const r = await h.app.inject({ method: 'GET', url, headers: h.auth('kari') });
      expect(r.statusCode, `${url}: ${r.body}`).toBe(200);
    }
  });

  it('limit=Infinity (and other numbers that are not finite) in a query string: 400 naming the field', async () => {
    for (const limit of ['Infinity', '-Infinity', '1e400']) {
      const r = await h.app.inject({
        method: 'GET',
        url: `/api/incidents?limit=${limit}`,
        headers: h.auth('kari'),
      });
      expect(r.statusCode, limit).toBe(400);
      expect(r.json()).toMatchObject({ error: 'invalid_request', field: 'limit' });
      expect(r.json().message).toMatch(/^querystring\.limit: must be /);
    }
    // Text that is a number is still read as one.
    const ok = await h.app.inject({ method: 'GET', url: '/api/incidents?limit=5', headers: h.auth('kari') });
    expect(ok.statusCode).toBe(200);
  });

  it('wrong JSON types are 400, not coerced ({"text": false} is not the note "false")', async () => {
    const note = await post(`/api/incidents/${serviceId}.20260101T000000Z/notes`, { text: false });
    expect(note.statusCode).toBe(400);
    expect(note.json()).toMatchObject({ field: 'text', message: 'body.text: must be string' });

    const declare = await post('/api/incidents', { service: serviceId, reason: 'x', skipVerify: 'true' });
    expect(declare.statusCode).toBe(400);
    expect(declare.json()).toMatchObject({
      field: 'skipVerify',
      message: 'body.skipVerify: must be boolean',
    });

    const reason = await post('/api/incidents', { service: serviceId, reason: 42 });
    expect(reason.statusCode).toBe(400);
    expect(reason.json()).toMatchObject({ field: 'reason' });

    const pause = await post(`/api/monitors/${checkId}/pause`, { until: ['2099-01-01T00:00:00Z'] });
    expect(pause.statusCode).toBe(400);
    expect(pause.json()).toMatchObject({ field: 'until' });

    const pd = await post(
      '/api/events/pagerduty',
      {
        routing_key: routingKey,
        event_action: 'trigger',
        payload: { summary: 123, source: 's', severity: 'info' },
      },
      {},
    );
    expect(pd.statusCode).toBe(400);
    expect(pd.json()).toEqual({
      status: 'invalid event',
      message: 'Event object is invalid',
      errors: ['payload.summary: must be string'],
    });
  });

  it('a PagerDuty custom_details nested 3,000 deep: 400 in PagerDuty’s shape, not a stack overflow', async () => {
    const body = `{"routing_key":"${routingKey}","event_action":"trigger","dedup_key":"deep","payload":{"summary":"deep","source":"s","severity":"info","custom_details":${nested(3000)}}}`;
    for (const url of ['/api/events/pagerduty', '/v2/enqueue']) {
      const r = await post(url, body, {});
      expect(r.statusCode, url).toBe(400);
      expect(r.json()).toEqual({
        status: 'invalid event',
        message: 'Event object is invalid',
        errors: ['payload.custom_details: must not be nested more than 32 levels deep'],
      });
    }
    // A staff route: the same limit, in the API's own error shape.
    const staff = await post('/api/incidents', `{"service":"x","reason":"r","eventId":${nested(3000)}}`);
    expect(staff.statusCode).toBe(400);
    expect(staff.json()).toMatchObject({
      error: 'invalid_request',
      field: 'eventId.a',
      message: 'body.eventId.a: must not be nested more than 32 levels deep',
    });
    // Within the limit, nesting is fine.
    const shallow = `{"routing_key":"${routingKey}","event_action":"acknowledge","dedup_key":"none","payload":{"summary":"s","source":"s","severity":"info","custom_details":${nested(20)}}}`;
    expect((await post('/api/events/pagerduty', shallow, {})).statusCode).not.toBe(400);
  });

  it('staff routes authenticate before they validate: no or a wrong bearer token is 401 whatever the body', async () => {
    const invalid = { service: 42 };
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-token-wrong-token-wrong' },
    ];
    for (const headers of attempts) {
      const declare = await post('/api/incidents', invalid, headers);
      expect(declare.statusCode).toBe(401);
      expect(declare.json()).toMatchObject({ statusCode: 401, error: 'unauthorized' });
      expect((await post('/api/incidents', '{"service":', headers)).statusCode).toBe(401);
      expect((await post(`/api/monitors/${checkId}/pause`, { until: 'soon' }, headers)).statusCode).toBe(401);
      const list = await h.app.inject({ method: 'GET', url: '/api/incidents?limit=Infinity', headers });
      expect(list.statusCode).toBe(401);
    }
    // With a valid token the same body is a 400.
    expect((await post('/api/incidents', invalid)).statusCode).toBe(400);
  });
});
