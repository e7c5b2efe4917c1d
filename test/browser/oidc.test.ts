/**
 * OpenID Connect sign-in in Debian's Chromium against a real OpenID provider (node-oidc-provider, the
 * certified implementation, on 127.0.0.1 with its own login and consent pages): a contact signs in at
 * the provider and lands in the console as themselves, with their roles; an account that is no
 * contact, and a callback that did not start here, are refused on the login page with the reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import type { Browser } from 'playwright-core';
import Provider from 'oidc-provider';
import { freePort } from '../../scripts/dev-server.js';
import { validateConfig } from '../../config/load.js';
import { oidcSettings, type OidcSettings } from '../../api/oidc.js';
import { testConfig } from '../helpers/config.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { launchChromium } from './chromium.js';

/** The provider's accounts: its login form takes the account id (any password). */
const accounts: Record<string, Record<string, unknown>> = {
  'kari-sso': { email: 'Kari@Test.Local', email_verified: true, name: 'Kari Nordmann' },
  'ola-sso': { email: 'ola@test.local', email_verified: true, name: 'Ola Hansen' },
  stranger: { email: 'stranger@elsewhere.example', email_verified: true },
  unverified: { email: 'per@test.local', email_verified: false },
};

describe('console sign-in with OpenID Connect, in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let provider: Server;
  let base = '';

  beforeAll(async () => {
    const [opPort, appPort] = [await freePort(), await freePort()];
    const issuer = `http://127.0.0.1:${opPort}`;
    base = `http://127.0.0.1:${appPort}`;
    const clientSecret = `secret-${Date.now()}-${Math.random()}`;
    const op = new Provider(issuer, {
      clients: [
        {
          client_id: 'incident-console',
          client_secret: clientSecret,
          redirect_uris: [`${base}/login/oidc/callback`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      findAccount: (_ctx, id) =>
        accounts[id] ? { accountId: id, claims: () => ({ sub: id, ...accounts[id] }) } : undefined,
      pkce: { required: () => true },
    });
    provider = op.listen(opPort, '127.0.0.1');

    const t = testConfig();
    const raw = JSON.parse(JSON.stringify(t.config)) as { contacts: { id: string; roles?: string[] }[] };
    const roles: Record<string, string[]> = {
      kari: ['admin'],
      ola: ['responder'],
      ingrid: ['communicator'],
      per: [],
    };
    for (const c of raw.contacts) c.roles = roles[c.id];
    const settings: OidcSettings = oidcSettings(
      {
        OIDC_ISSUER: issuer,
        OIDC_CLIENT_ID: 'incident-console',
        OIDC_CLIENT_SECRET: clientSecret,
        OIDC_LABEL: 'Test SSO',
      },
      base,
    )!;
    [h, browser] = await Promise.all([
      startHarness({ config: validateConfig(raw, 'oidc'), worker: false, oidc: settings }),
      launchChromium(),
    ]);
    await h.app.listen({ host: '127.0.0.1', port: appPort });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await new Promise((r) => provider?.close(r));
  });

  /** From the console's login page through the provider's login and consent, as `account`. */
  const signIn = async (account: string) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/console`);
    await page.waitForURL(/\/login/);
    await page.click('#oidc-login');
    // The provider's own pages (node-oidc-provider's development interactions).
    await page.waitForURL(new RegExp(`/interaction/`));
    await page.fill('input[name=login]', account);
    await page.fill('input[name=password]', 'any');
    await page.click('button[type=submit]');
    const consent = page.locator('button[type=submit]', { hasText: 'Continue' });
    await consent.waitFor({ timeout: 10_000 }).catch(() => undefined);
    if (await consent.count()) await consent.click();
    await page.waitForURL((u) => u.href.startsWith(base), { timeout: 15_000 });
    await page.waitForLoadState('load');
    return { context, page };
  };

  it('offers the provider on the login page and signs a contact in with their roles', async () => {
    const { context, page } = await signIn('kari-sso');
    await page.waitForURL(`${base}/console`);
    // The email claim matched Kari's contact (case-insensitively): she is the actor, with her role.
    expect(await page.textContent('header')).toContain('Kari Nordmann');
    expect(await page.textContent('#roles')).toContain('admin');
    // A real console session (the same cookie a token login sets), and the flow cookie is gone.
    const cookies = await context.cookies(base);
    expect(cookies.find((c) => c.name === '__Host-incident-session')).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: 'Strict',
    });
    expect(cookies.some((c) => c.name === '__Host-incident-oidc')).toBe(false);
    await context.close();

    const ola = await signIn('ola-sso');
    await ola.page.waitForURL(`${base}/console`);
    expect(await ola.page.textContent('#roles')).toContain('responder');
    await ola.context.close();
  }, 60_000);

  it('refuses an account that is no contact, and an unverified email, naming why', async () => {
    const stranger = await signIn('stranger');
    expect(stranger.page.url()).toContain('/login/oidc/callback');
    expect(await stranger.page.textContent('[role=alert]')).toBe(
      "stranger@elsewhere.example is not a contact in this deployment's configuration (matched by email).",
    );
    expect((await stranger.context.cookies(base)).some((c) => c.name === '__Host-incident-session')).toBe(
      false,
    );
    await stranger.context.close();

    const unverified = await signIn('unverified');
    expect(await unverified.page.textContent('[role=alert]')).toBe(
      'The sign-in provider has not verified the email address per@test.local.',
    );
    await unverified.context.close();
  }, 60_000);

  it('refuses a callback that did not start in this browser (no flow cookie): 400 on the login page', async () => {
    const r = await fetch(
      `${base}/login/oidc/callback?code=stolen&state=x&iss=${encodeURIComponent('http://x')}`,
    );
    expect(r.status).toBe(400);
    expect(await r.text()).toContain('This sign-in did not start here, or its cookie was lost. Try again.');
  });

  it('names the missing variable when the OIDC settings are incomplete, and ignores them when unset', () => {
    expect(oidcSettings({}, base)).toBeUndefined();
    expect(() => oidcSettings({ OIDC_ISSUER: 'https://id.example.edu' }, base)).toThrow(
      'OIDC_CLIENT_ID is required when OIDC_ISSUER is set',
    );
    expect(() => oidcSettings({ OIDC_ISSUER: 'https://id.example.edu', OIDC_CLIENT_ID: 'c' }, base)).toThrow(
      'OIDC_CLIENT_SECRET is required when OIDC_ISSUER is set',
    );
    expect(() =>
      oidcSettings({ OIDC_ISSUER: 'id.example.edu', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's' }, base),
    ).toThrow('OIDC_ISSUER: not an http(s) URL: "id.example.edu"');
    expect(
      oidcSettings(
        { OIDC_ISSUER: 'https://id.example.edu/', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's' },
        base,
      ),
    ).toMatchObject({
      issuer: 'https://id.example.edu',
      redirectUri: `${base}/login/oidc/callback`,
      scopes: 'openid email profile',
      claim: 'email',
    });
  });
});
