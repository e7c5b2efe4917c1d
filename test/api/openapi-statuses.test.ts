/**
 * The OpenAPI document lists the statuses a route's guard and validation add (#12 item 4): staff
 * routes 401, 403 and 429; routes with path parameters 404; routes that validate input 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../helpers/config.js';
import { startHarness, type Harness } from '../helpers/harness.js';

describe('statuses in the OpenAPI document', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: testConfig().config, worker: false });
  });
  afterAll(async () => h?.close());

  it('monitors and heartbeats list what they answer', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const codes = (path: string, method: string) => Object.keys(doc.paths[path]![method]!.responses).sort();
    expect(codes('/api/monitors', 'get')).toEqual(expect.arrayContaining(['200', '401', '403', '429']));
    expect(codes('/api/monitors/{id}/pause', 'post')).toEqual(
      expect.arrayContaining(['200', '400', '401', '404']),
    );
    expect(codes('/api/heartbeats/{token}', 'post')).toEqual(expect.arrayContaining(['202', '400', '404']));
    // And the API answers them: no token on a staff route is the documented 401.
    const r = await h.app.inject({ method: 'GET', url: '/api/monitors' });
    expect(r.statusCode).toBe(401);
  });
});
