/**
 * The console's login, session cookie, CSRF protection and escaping, the rate limits and the
 * security headers — with the app over a stand-in incident service (no Temporal needed: nothing here
 * depends on what the workflow does).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app.js';
import type { IncidentService } from '../../api/incident-service.js';
import type { IncidentView } from '../../domain/incident.js';
import { testConfig } from '../helpers/config.js';
import { buildOpenIncidentView } from '../helpers/incident-fixture.js';
import { freshStore, type TestStore } from '../helpers/store.js';

const hostile = '<script>window.__pwned=1</script>';

function fakeIncidents(view: IncidentView) {
  const calls: { fn: string; args: unknown[] }[] = [];
  const record =
    (fn: string) =>
    async (...args: unknown[]) => {
      calls.push({ fn, args });
      return view;
    };
  const service = {
    list: async () => [
      {
        id: view.id,
        service: view.service.id,
        severity: view.severity,
        state: view.state,
        openedAt: view.openedAt,
        running: true,
      },
    ],
    get: async () => view,
    acknowledge: record('acknowledge'),
    note: record('note'),
    publishStatus: record('publishStatus'),
    resolve: record('resolve'),
    // What other route plugins take from the service at registration; never called here.
    temporal: { client: {} },
    call: async () => {
      throw new Error('not in this test');
    },
  } as unknown as IncidentService;
  return { service, calls };
}

describe('console and security', () => {
  const { config, serviceId } = testConfig();
  const view = buildOpenIncidentView(2, {
    id: `${serviceId}.0b6f7c1e-2d3a-4e5f-8a9b-0c1d2e3f4a5b`,
    service: { id: serviceId, name: 'FS → Canvas integration', timezone: 'Europe/Oslo' },
    reason: `export down ${hostile}`,
    nextEscalationAt: new Date(Date.now() + 90_000).toISOString(),
  });
  view.timeline.push({
    at: new Date().toISOString(),
    actor: 'probe',
    kind: 'note',
    detail: `probe said ${hostile}`,
  });
  const fake = fakeIncidents(view);
  let app: FastifyInstance;
  let limited: FastifyInstance;
  let store: TestStore;

  beforeAll(async () => {
    store = await freshStore();
    const staffTokens = new Map([['token-kari', 'kari']]);
    app = await buildApp({
      config,
      incidents: fake.service,
      records: store.records,
      staffTokens,
      sessionSecret: 'session-secret-for-tests',
    });
    limited = await buildApp({
      config,
      incidents: fake.service,
      records: store.records,
      staffTokens,
      rateLimits: { login: { max: 3, timeWindow: 60_000 }, staff: { max: 4, timeWindow: 60_000 } },
    });
  });
  afterAll(async () => {
    await app?.close();
    await limited?.close();
    await store?.close();
  });

  /** The login form's CSRF token and the cookie that holds it, as a browser gets them. */
  const loginForm = async (on: FastifyInstance = app) => {
    const page = await on.inject({ method: 'GET', url: '/login' });
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    return { cookie, csrf };
  };
  const login = async (token = 'token-kari', next?: string, on: FastifyInstance = app) => {
    const form = await loginForm(on);
    return on.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.cookie },
      payload: new URLSearchParams({ token, _csrf: form.csrf, ...(next ? { next } : {}) }).toString(),
    });
  };
  const cookieOf = (r: { headers: Record<string, unknown> }) =>
    String(r.headers['set-cookie']).split(';')[0]!;

  it('logs in with a staff token into a signed, secure, HttpOnly, SameSite=Strict session cookie', async () => {
    const page = await app.inject({ method: 'GET', url: '/login' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<form class="card" method="post" action="/login">');
    const wrong = await login('token-nobody');
    expect(wrong.statusCode).toBe(401);
    expect(String(wrong.headers['set-cookie'] ?? '')).not.toContain('__Host-incident-session');
    expect(wrong.body).toContain('Unknown or revoked token.');

    const ok = await login();
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/console');
    const setCookie = String(ok.headers['set-cookie']);
    expect(setCookie).toMatch(/^__Host-incident-session=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43};/);
    for (const attr of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/']) expect(setCookie).toContain(attr);
    expect(setCookie).not.toContain('token-kari');

    // Never redirects off-site after a login.
    for (const next of [
      'https://evil.example/',
      '//evil.example/console',
      '/console/../../x',
      'javascript:alert(1)',
    ])
      expect((await login('token-kari', next)).headers.location).toBe('/console');
    expect((await login('token-kari', `/console/incidents/${view.id}`)).headers.location).toBe(
      `/console/incidents/${view.id}`,
    );
  });

  it('sends the unauthenticated to the login form, and refuses forged or tampered cookies', async () => {
    const anon = await app.inject({ method: 'GET', url: `/console/incidents/${view.id}` });
    expect(anon.statusCode).toBe(303);
    expect(anon.headers.location).toBe(`/login?next=${encodeURIComponent(`/console/incidents/${view.id}`)}`);
    const cookie = cookieOf(await login());
    const [value, sig] = cookie.split('=')[1]!.split('.') as [string, string];
    const asOla = Buffer.from(Buffer.from(value, 'base64url').toString().replace('"kari"', '"ola"')).toString(
      'base64url',
    );
    for (const bad of [
      `__Host-incident-session=${asOla}.${sig}`,
      `__Host-incident-session=${value}.${'A'.repeat(43)}`,
      '__Host-incident-session=garbage',
    ]) {
      const r = await app.inject({ method: 'GET', url: '/console', headers: { cookie: bad } });
      expect(r.statusCode, bad).toBe(303);
    }
    const post = await app.inject({
      method: 'POST',
      url: `/console/incidents/${view.id}/acknowledge`,
      headers: {
        cookie: `__Host-incident-session=${asOla}.${sig}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: '',
    });
    expect(post.statusCode).toBe(401);
    const bearer = await app.inject({
      method: 'GET',
      url: '/console',
      headers: { authorization: 'Bearer nope' },
    });
    expect(bearer.statusCode).toBe(401);
    expect(fake.calls).toHaveLength(0);
  });

  it('renders the incident with timeline, pages and countdown, escaping everything people and probes wrote', async () => {
    const cookie = cookieOf(await login());
    const r = await app.inject({ method: 'GET', url: `/console/incidents/${view.id}`, headers: { cookie } });
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(r.body).not.toContain(hostile);
    expect(r.body).toContain('export down &lt;script&gt;window.__pwned=1&lt;/script&gt;');
    expect(r.body).toContain('probe said &lt;script&gt;');
    expect(r.body).toMatch(/data-countdown="[^"]+">in 1 min \d+ s</);
    expect(r.body).toContain('<script src="/assets/console.js" defer></script>');
    // The tables stack into labelled rows on a phone (class "stack").
    expect(r.body).toMatch(/<table (class="stack" )?id="paged">/);
    expect(r.body).toMatch(/<table (class="stack" )?id="timeline">/);
    const list = await app.inject({ method: 'GET', url: '/console', headers: { cookie } });
    expect(list.body).toContain(`href="/console/incidents/${view.id}"`);
  });

  it('acts only with the session CSRF token (or a bearer token), as the logged-in contact', async () => {
    const cookie = cookieOf(await login());
    const page = await app.inject({
      method: 'GET',
      url: `/console/incidents/${view.id}`,
      headers: { cookie },
    });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const ack = (fields: Record<string, string>, headers: Record<string, string> = { cookie }) =>
      app.inject({
        method: 'POST',
        url: `/console/incidents/${view.id}/acknowledge`,
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(fields).toString(),
      });
    expect((await ack({})).statusCode).toBe(403);
    expect((await ack({ _csrf: 'x'.repeat(csrf.length) })).statusCode).toBe(403);
    // Another session's token does not fit this session.
    const other = cookieOf(await login());
    expect((await ack({ _csrf: csrf }, { cookie: other })).statusCode).toBe(403);
    expect(fake.calls).toHaveLength(0);

    const ok = await ack({ _csrf: csrf });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe(`/console/incidents/${view.id}?done=acknowledged`);
    expect(fake.calls.at(-1)).toEqual({ fn: 'acknowledge', args: [view.id, 'kari'] });

    const note = await app.inject({
      method: 'POST',
      url: `/console/incidents/${view.id}/notes`,
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: csrf, text: ` ${hostile} ` }).toString(),
    });
    expect(note.statusCode).toBe(303);
    expect(fake.calls.at(-1)).toEqual({ fn: 'note', args: [view.id, 'kari', hostile] });

    const status = await app.inject({
      method: 'POST',
      url: `/console/incidents/${view.id}/status`,
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: csrf, state: 'identified', message: '' }).toString(),
    });
    expect(status.statusCode).toBe(303);
    expect(fake.calls.at(-1)).toEqual({
      fn: 'publishStatus',
      args: [view.id, 'kari', 'identified', undefined],
    });
    const badState = await app.inject({
      method: 'POST',
      url: `/console/incidents/${view.id}/status`,
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: csrf, state: 'fixed-ish' }).toString(),
    });
    expect(badState.statusCode).toBe(400);
    expect(badState.headers['content-type']).toMatch(/^text\/html/);

    const bearer = await app.inject({
      method: 'POST',
      url: `/console/incidents/${view.id}/resolve`,
      headers: { authorization: 'Bearer token-kari' },
    });
    expect(bearer.statusCode, bearer.body).toBe(303);
    expect(fake.calls.at(-1)).toEqual({ fn: 'resolve', args: [view.id, 'kari', undefined] });

    const logout = await app.inject({
      method: 'POST',
      url: '/logout',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: csrf }).toString(),
    });
    expect(logout.statusCode).toBe(303);
    expect(String(logout.headers['set-cookie'])).toMatch(/^__Host-incident-session=; Max-Age=0/);
  });

  it('L1: a session ends on logout and when its token changes, on every API instance', async () => {
    const other = (tokens: Map<string, string>) =>
      buildApp({
        config,
        incidents: fake.service,
        records: store.records,
        staffTokens: tokens,
        sessionSecret: 'session-secret-for-tests',
      });
    const second = await other(new Map([['token-kari', 'kari']])); // another instance, same token
    const rotated = await other(new Map([['token-kari-rotated-0123456789', 'kari']])); // token changed
    try {
      const consoleWith = (on: FastifyInstance, cookie: string) =>
        on.inject({ method: 'GET', url: '/console', headers: { cookie } });
      const cookie = cookieOf(await login());
      const before = [app, second, rotated].map(async (on) => (await consoleWith(on, cookie)).statusCode);
      const statuses = await Promise.all(before);
      console.log('session before logout — this API, another API, after a token change:', statuses.join(' '));
      expect(statuses).toEqual([200, 200, 303]);
      expect((await consoleWith(rotated, cookie)).headers.location).toBe('/login?next=%2Fconsole');

      const page = await consoleWith(app, cookie);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
      const out = await app.inject({
        method: 'POST',
        url: '/logout',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ _csrf: csrf }).toString(),
      });
      expect(out.statusCode).toBe(303);
      // The browser would drop the cookie; a copy of it (stolen, or another tab) is dead too.
      const after = await Promise.all(
        [app, second].map(async (on) => (await consoleWith(on, cookie)).statusCode),
      );
      console.log('the same cookie after logout — this API, another API:', after.join(' '));
      expect(after).toEqual([303, 303]);
      const act = await app.inject({
        method: 'POST',
        url: `/console/incidents/${view.id}/acknowledge`,
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ _csrf: csrf }).toString(),
      });
      expect(act.statusCode).toBe(401);
      // A new login works as before.
      expect((await consoleWith(app, cookieOf(await login()))).statusCode).toBe(200);
    } finally {
      await second.close();
      await rotated.close();
    }
  });

  it('L2: the login form carries a CSRF token; a cross-site or token-less login is refused', async () => {
    const page = await app.inject({ method: 'GET', url: '/login' });
    const setCookie = String(page.headers['set-cookie']);
    expect(setCookie).toMatch(/^__Host-incident-login=[A-Za-z0-9_-]{32};/);
    for (const attr of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/']) expect(setCookie).toContain(attr);
    expect(page.body).toMatch(/<input type="hidden" name="_csrf" value="[A-Za-z0-9_-]{32}" \/>/);

    const form = await loginForm();
    const post = (headers: Record<string, string>, fields: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: '/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        payload: new URLSearchParams({ token: 'token-kari', ...fields }).toString(),
      });
    // What an attacker's page can send: the attacker's token, no cookie of ours, maybe a guess.
    const attempts = [
      await post({}, {}),
      await post({}, { _csrf: form.csrf }),
      await post({ cookie: form.cookie }, {}),
      await post({ cookie: form.cookie }, { _csrf: 'x'.repeat(form.csrf.length) }),
      await post({ cookie: form.cookie, origin: 'https://evil.example' }, { _csrf: form.csrf }),
      await post({ cookie: form.cookie, 'sec-fetch-site': 'cross-site' }, { _csrf: form.csrf }),
    ];
    console.log('login without the form token, or cross-site:', attempts.map((a) => a.statusCode).join(' '));
    for (const a of attempts) {
      expect(a.statusCode).toBe(403);
      expect(String(a.headers['set-cookie'] ?? '')).not.toContain('__Host-incident-session=');
      expect(a.body).toContain('did not come from this site');
    }
    const ok = await post({ cookie: form.cookie, 'sec-fetch-site': 'same-origin' }, { _csrf: form.csrf });
    expect(ok.statusCode).toBe(303);
    expect(String(ok.headers['set-cookie'])).toContain('__Host-incident-session=');
  });

  it('rate-limits the login form and staff routes (API and console), not the public pages', async () => {
    const attempt = () => login('guess', undefined, limited);
    for (let i = 0; i < 3; i++) expect((await attempt()).statusCode).toBe(401);
    const blocked = await attempt();
    expect(blocked.statusCode).toBe(429);
    expect(blocked.headers['content-type']).toMatch(/^text\/html/);
    expect(blocked.headers['retry-after']).toBeTruthy();
    expect(blocked.body).toContain('too many requests');

    const api = () =>
      limited.inject({ method: 'GET', url: '/api/incidents', headers: { authorization: 'Bearer x' } });
    for (let i = 0; i < 4; i++) expect((await api()).statusCode).toBe(401);
    const apiBlocked = await api();
    expect(apiBlocked.statusCode).toBe(429);
    expect(apiBlocked.json()).toMatchObject({ statusCode: 429, error: 'rate_limited' });

    const consolePage = () => limited.inject({ method: 'GET', url: '/console' });
    for (let i = 0; i < 4; i++) expect((await consolePage()).statusCode).toBe(303);
    expect((await consolePage()).statusCode).toBe(429);

    for (let i = 0; i < 10; i++)
      expect((await limited.inject({ method: 'GET', url: '/status' })).statusCode).toBe(200);
  });

  it('says when one-click links are not configured; serves the assets under the same policy', async () => {
    const r = await app.inject({ method: 'GET', url: '/ack/abc.def' });
    expect(r.statusCode).toBe(503);
    expect(r.body).toContain('not configured');
    const css = await app.inject({ method: 'GET', url: '/assets/site.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    expect(css.headers['x-content-type-options']).toBe('nosniff');
    const again = await app.inject({
      method: 'GET',
      url: '/assets/site.css',
      headers: { 'if-none-match': String(css.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
    const json = await app.inject({ method: 'GET', url: '/healthz' });
    expect(json.headers['content-security-policy']).toContain("default-src 'none'");
    expect(json.headers['x-frame-options']).toBe('DENY');
  });
});
