/**
 * Roles (domain/access.ts) on the JSON API: every staff action answers 403 with a JSON message that
 * names the role it needs, for a contact without it, before the body is read; with the role the
 * action happens. Reading needs only a sign-in.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load.js';
import { testConfig } from '../helpers/config.js';
import { startHarness, type Harness } from '../helpers/harness.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('roles on the API', () => {
  let h: Harness;
  let serviceId = '';
  let checkId = '';
  let incidentId = '';
  const json = { 'content-type': 'application/json' };

  beforeAll(async () => {
    const base = testConfig({ severity: 'P3' });
    serviceId = base.serviceId;
    checkId = `${serviceId}-import`;
    const raw = JSON.parse(JSON.stringify(base.config)) as {
      contacts: { id: string; roles?: string[] }[];
      checks: unknown[];
      schedules: unknown[];
    };
    const roles: Record<string, string[]> = {
      kari: ['admin'],
      ola: ['responder'],
      ingrid: ['communicator'],
      per: [],
    };
    for (const c of raw.contacts) c.roles = roles[c.id];
    raw.checks = [
      {
        id: checkId,
        service: serviceId,
        kind: 'heartbeat',
        period: '1h',
        tokenSha256: sha256('roles-test-heartbeat'),
      },
    ];
    raw.schedules = [
      {
        id: 'team',
        name: 'Team',
        layers: [
          {
            rotation: {
              participants: ['kari', 'ola'],
              shiftLength: 1,
              shiftUnit: 'weeks',
              handoff: '09:00',
              timeZone: 'Europe/Oslo',
              start: '2026-01-05',
            },
          },
        ],
      },
    ];
    h = await startHarness({ config: validateConfig(raw, 'roles-test'), monitors: true });
  });
  afterAll(async () => h?.close());

  const post = (who: string, url: string, payload: object | string = {}) =>
    h.app.inject({ method: 'POST', url, payload, headers: { ...json, ...h.auth(who) } });

  const expectRefused = (r: Awaited<ReturnType<typeof post>>, needed: string, person: RegExp) => {
    expect(r.statusCode, r.body).toBe(403);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    const body = r.json();
    expect(body).toMatchObject({ statusCode: 403, error: 'forbidden' });
    expect(body.message).toContain(`needs the ${needed} role`);
    expect(body.message).toMatch(person);
  };

  it('a read-only contact reads but may not declare; a responder declares', async () => {
    expect((await h.app.inject({ url: '/api/incidents', headers: h.auth('per') })).statusCode).toBe(200);
    expect((await h.app.inject({ url: '/api/monitors', headers: h.auth('per') })).statusCode).toBe(200);
    expectRefused(
      await post('per', '/api/incidents', { service: serviceId, reason: 'x', skipVerify: true }),
      'responder',
      /Per Johansen has no role \(read only\)/,
    );
    expectRefused(
      await post('ingrid', '/api/incidents', { service: serviceId, reason: 'x', skipVerify: true }),
      'responder',
      /Ingrid Berg has the role communicator/,
    );
    const opened = await post('ola', '/api/incidents', {
      service: serviceId,
      reason: 'exports fail',
      skipVerify: true,
    });
    expect(opened.statusCode, opened.body).toBe(201);
    incidentId = opened.json().incident.id;
  });

  it('status messages: the communicator publishes, the responder gets 403 (before the body is read)', async () => {
    const url = `/api/incidents/${incidentId}/status`;
    expectRefused(
      await post('ola', url, { state: 'investigating' }),
      'communicator',
      /Ola Hansen has the role responder/,
    );
    // A body the route would refuse with 400: the missing right answers first.
    expectRefused(await post('ola', url, { state: 'nonsense', extra: 1 }), 'communicator', /Ola Hansen/);
    const published = await post('ingrid', url, {
      state: 'investigating',
      message: 'We are looking into it.',
    });
    expect(published.statusCode, published.body).toBe(200);
    const view = (await h.app.inject({ url: `/api/incidents/${incidentId}`, headers: h.auth('per') })).json();
    expect(view.status).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ author: 'ingrid', message: 'We are looking into it.' }),
      ]),
    );
  });

  it('acknowledge, notes and resolve need the responder role', async () => {
    for (const who of ['per', 'ingrid']) {
      expectRefused(await post(who, `/api/incidents/${incidentId}/acknowledge`), 'responder', /has/);
      expectRefused(
        await post(who, `/api/incidents/${incidentId}/notes`, { text: 'hi' }),
        'responder',
        /has/,
      );
      expectRefused(await post(who, `/api/incidents/${incidentId}/resolve`, {}), 'responder', /has/);
    }
    expect((await post('ola', `/api/incidents/${incidentId}/acknowledge`)).statusCode).toBe(200);
    expect((await post('ola', `/api/incidents/${incidentId}/notes`, { text: 'on it' })).statusCode).toBe(200);
  });

  it('maintenance and on-call overrides need admin; admin may also do the responder’s work', async () => {
    const until = new Date(Date.now() + 3600_000).toISOString();
    for (const who of ['ola', 'ingrid', 'per']) {
      expectRefused(
        await post(who, `/api/monitors/${checkId}/pause`, { until, reason: 'patching' }),
        'admin',
        /has/,
      );
      expectRefused(await post(who, `/api/monitors/${checkId}/resume`), 'admin', /has/);
      expectRefused(
        await post(who, '/api/schedules/team/overrides', {
          from: new Date(Date.now() + 86400_000).toISOString(),
          until: new Date(Date.now() + 2 * 86400_000).toISOString(),
          by: 'ola',
        }),
        'admin',
        /has/,
      );
    }
    const paused = await post('kari', `/api/monitors/${checkId}/pause`, { until, reason: 'patching' });
    expect(paused.statusCode, paused.body).toBe(200);
    expect((await post('kari', `/api/monitors/${checkId}/resume`)).statusCode).toBe(200);
    const override = await post('kari', '/api/schedules/team/overrides', {
      from: new Date(Date.now() + 86400_000).toISOString(),
      until: new Date(Date.now() + 2 * 86400_000).toISOString(),
      by: 'ola',
    });
    expect(override.statusCode, override.body).toBe(201);
    expect(
      (await post('kari', `/api/incidents/${incidentId}/notes`, { text: 'admin note' })).statusCode,
    ).toBe(200);
  });

  it('without a token it is still 401, not 403', async () => {
    const r = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${incidentId}/status`,
      payload: { state: 'investigating' },
      headers: json,
    });
    expect(r.statusCode).toBe(401);
  });
});
