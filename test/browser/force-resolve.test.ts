/**
 * Closing an incident whose probe can never pass (the example config's host does not resolve), in
 * Debian's Chromium against the real stack: a responder signs in and acknowledges, may not
 * force-resolve (a 403 page names the admin role), and an admin force-resolves with a reason; the
 * incident is resolved "without probe proof" in the timeline, by the admin, and its postmortem starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { validateConfig } from '../../config/load.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { launchChromium, listen, signIn as signInAs } from './chromium.js';

describe('force-resolve in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let base = '';
  let incidentId = '';
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    const t = testConfig({ severity: 'P3' });
    const raw = JSON.parse(JSON.stringify(t.config)) as { contacts: { id: string; roles?: string[] }[] };
    const roles: Record<string, string[]> = {
      kari: ['admin'],
      ola: ['responder'],
      ingrid: ['communicator'],
      per: [],
    };
    for (const c of raw.contacts) c.roles = roles[c.id];
    [h, browser] = await Promise.all([
      startHarness({ config: validateConfig(raw, 'force-resolve') }),
      launchChromium(),
    ]);
    base = await listen(h.app);
    const declared = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('ola'),
      payload: { service: t.serviceId, reason: 'w3prod-datasync02 does not answer on SSH', skipVerify: true },
    });
    expect(declared.statusCode, declared.body).toBe(201);
    incidentId = declared.json().incident.id;
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await h?.close();
  });

  const signIn = (contact: string): Promise<Page> => signInAs(browser, base, contact, contexts);

  it('a responder acknowledges, and is refused force-resolve with a 403 page naming the admin role', async () => {
    const page = await signIn('ola');
    await page.goto(`${base}/console/incidents/${incidentId}`);
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.waitForURL(/done=acknowledged/);
    expect(await page.locator('#state').innerText()).toBe('acknowledged');
    expect(await page.locator('form[action$="/force-resolve"] .role-hint').innerText()).toBe(
      'Needs the admin role; you have responder.',
    );
    await page.getByLabel('Force-resolve now, without probe proof (why?)').fill('I think it is fine');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/force-resolve') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Force-resolve' }).click(),
    ]);
    expect(response.status()).toBe(403);
    await page.waitForLoadState();
    expect(await page.locator('h1').innerText()).toBe('Forbidden');
    expect(await page.locator('.banner').innerText()).toBe(
      'Force-resolving needs the admin role; Ola Hansen has the role responder.',
    );
    const view = (await h.app.inject({ url: `/api/incidents/${incidentId}`, headers: h.auth('per') })).json();
    expect(view.state).toBe('acknowledged');
    // The API refuses the same way (403), and asks an admin for a reason (400).
    const force = (who: string, reason: string) =>
      h.app.inject({
        method: 'POST',
        url: `/api/incidents/${incidentId}/force-resolve`,
        headers: h.auth(who),
        payload: { reason },
      });
    expect((await force('ola', 'done')).statusCode).toBe(403);
    const blank = await force('kari', '   ');
    expect(blank.statusCode, blank.body).toBe(400);
    expect(blank.json().message).toBe('reason: say why it is resolved without probe proof');
  });

  it('an admin force-resolves with a reason: resolved without probe proof, by her, and the postmortem starts', async () => {
    const page = await signIn('kari');
    await page.goto(`${base}/console/incidents/${incidentId}`);
    await page
      .getByLabel('Force-resolve now, without probe proof (why?)')
      .fill('The export moved to w3prod-datasync03; the old host is gone for good');
    await page.getByRole('button', { name: 'Force-resolve' }).click();
    await page.waitForURL(/done=force-resolved/);
    expect(await page.getByRole('status').innerText()).toBe(
      'Resolved without probe proof; the postmortem starts.',
    );
    expect(await page.locator('#state').innerText()).toBe('resolved');
    const view = (await h.app.inject({ url: `/api/incidents/${incidentId}`, headers: h.auth('per') })).json();
    expect(view.state).toBe('resolved');
    expect(view.timeline.find((e: { kind: string }) => e.kind === 'resolved')).toMatchObject({
      kind: 'resolved',
      actor: 'kari',
      detail:
        'resolved without probe proof by kari: The export moved to w3prod-datasync03; the old host is gone for good',
    });
    // The postmortem workflow starts for it, as after any resolution.
    const pm = await eventually(async () => {
      const r = await h.app.inject({
        url: `/api/incidents/${incidentId}/postmortem`,
        headers: { ...h.auth('per'), accept: 'application/json' },
      });
      return r.statusCode === 200 ? r.json() : undefined;
    }, 30_000);
    expect(pm).toMatchObject({ incidentId, state: 'due' });
    // A second try, through the API: the incident is closed.
    const again = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${incidentId}/force-resolve`,
      headers: h.auth('kari'),
      payload: { reason: 'again' },
    });
    expect(again.statusCode).toBe(409);
  });

  it('the problem comes back: a responder reopens it from the console as a new incident that pages', async () => {
    const page = await signIn('ola');
    await page.goto(`${base}/console/incidents/${incidentId}`);
    await page
      .getByLabel('The problem is back? Reopen it as a new incident that pages now')
      .fill('the export stopped again');
    await page.getByRole('button', { name: 'Reopen' }).click();
    await page.waitForURL(/done=reopened/);
    expect(await page.getByRole('status').innerText()).toBe(
      'Reopened: this new incident pages now; its reason names the one it reopens.',
    );
    const newId = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1)!);
    expect(newId).not.toBe(incidentId);
    const view = (await h.app.inject({ url: `/api/incidents/${newId}`, headers: h.auth('per') })).json();
    expect(view.reason).toBe(`reopened ${incidentId}: the export stopped again`);
    // A second click on the old incident's page: refused on the page, naming the open one.
    await page.goto(`${base}/console/incidents/${incidentId}`);
    await page.getByRole('button', { name: 'Reopen' }).click();
    expect(await page.locator('body').innerText()).toContain(
      `this service has an open incident (${newId}); add to that one instead`,
    );
  });
});
