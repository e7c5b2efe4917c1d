/**
 * A known path asked with a method it does not take answers 405 with `Allow` (RFC 9110), not 404:
 * schemathesis' "undeclared method" check (#12, item 4). An unknown path is still 404.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../helpers/config.js';
import { startHarness, type Harness } from '../helpers/harness.js';

describe('undeclared methods', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: testConfig().config, worker: false });
  });
  afterAll(async () => h?.close());

  it('405 with Allow on known paths, 404 on unknown ones', async () => {
    const patch = await h.app.inject({ method: 'PATCH', url: '/api/incidents' });
    expect(patch.statusCode).toBe(405);
    expect(patch.headers.allow).toBe('GET, HEAD, POST');
    expect(patch.json()).toMatchObject({ statusCode: 405, error: 'method_not_allowed' });

    const del = await h.app.inject({ method: 'DELETE', url: '/api/incidents/some-id/acknowledge' });
    expect(del.statusCode).toBe(405);
    expect(del.headers.allow).toBe('POST');

    const put = await h.app.inject({ method: 'PUT', url: '/api/heartbeats/a-token' });
    expect(put.statusCode).toBe(405);
    expect(put.headers.allow).toBe('POST');

    // QUERY (a method with a body) without a Content-Type: 405 too, not Fastify's 400.
    const query = await h.app.inject({ method: 'QUERY' as 'GET', url: '/healthz' });
    expect(query.statusCode).toBe(405);
    expect(query.headers.allow).toBe('GET, HEAD');

    // An Opsgenie alias may be 512 characters: a longer one is the route's answer (here 401: no key), not a 414.
    const long = await h.app.inject({
      method: 'POST',
      url: `/v2/alerts/${'a'.repeat(600)}/close`,
      payload: {},
    });
    expect(long.statusCode).toBe(401);

    const unknown = await h.app.inject({ method: 'GET', url: '/api/nothing-here?secret=1' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().message).toBe('no route GET /api/nothing-here');
  });
});
