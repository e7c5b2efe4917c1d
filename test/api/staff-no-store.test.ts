/**
 * L10: what staff see never lands in a browser's or a proxy's cache — every staff route (each route
 * the OpenAPI document marks with the bearer scheme, and the console) answers
 * `Cache-Control: no-store`, whatever its status; public reads keep their own caching.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../helpers/config.js';
import { startHarness, type Harness } from '../helpers/harness.js';

interface Operation {
  security?: Array<Record<string, unknown>>;
}

describe('staff answers are not cached', () => {
  let h: Harness;
  let serviceId = '';
  beforeAll(async () => {
    const t = testConfig();
    serviceId = t.serviceId;
    h = await startHarness({ config: t.config, worker: false });
  });
  afterAll(async () => h?.close());

  it('every bearer route in the OpenAPI document answers no-store, with a token and without', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, Operation>>;
    };
    const staffGets = Object.entries(doc.paths)
      .filter(([, ops]) => ops.get?.security?.some((s) => 'bearer' in s))
      .map(([p]) => p.replace(/\{[^}]+\}/g, serviceId));
    // The document lists the staff reads: incidents, monitors, schedules, on-call, summary, postmortems.
    expect(staffGets.length).toBeGreaterThanOrEqual(8);
    for (const url of staffGets) {
      const withToken = await h.app.inject({ method: 'GET', url, headers: h.auth('kari') });
      expect(withToken.headers['cache-control'], `GET ${url} → ${withToken.statusCode}`).toBe('no-store');
      const without = await h.app.inject({ method: 'GET', url });
      expect(without.statusCode, url).toBe(401);
      expect(without.headers['cache-control'], `GET ${url} without a token`).toBe('no-store');
    }
    const list = await h.app.inject({ method: 'GET', url: '/api/incidents', headers: h.auth('kari') });
    expect(list.statusCode).toBe(200);
    expect(list.headers['content-type']).toMatch(/^application\/json/);
  });

  it('a staff action and the console answer no-store; the public status is not marked so', async () => {
    const bad = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: { ...h.auth('kari'), 'content-type': 'application/json' },
      payload: { service: 'no-such-service', reason: 'x' },
    });
    expect(bad.statusCode).toBeGreaterThanOrEqual(400);
    expect(bad.headers['cache-control']).toBe('no-store');
    const console = await h.app.inject({ method: 'GET', url: '/console', headers: h.auth('kari') });
    expect(console.statusCode).toBe(200);
    expect(console.headers['cache-control']).toBe('no-store');
    const status = await h.app.inject({ method: 'GET', url: '/api/status' });
    expect(status.statusCode).toBe(200);
    expect(status.headers['cache-control'] ?? '').not.toBe('no-store');
  });
});
