/**
 * Changing the severity from the console, in Debian's Chromium against the real stack: a person
 * without a role is refused with a 403 page naming the responder role; a responder raises a P3 to P1
 * (which auto-publishes), and the incident is P1, published, and the timeline names her.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { validateConfig } from '../../config/load.js';
import { testConfig } from '../helpers/config.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { launchChromium, listen, signIn as signInAs } from './chromium.js';

describe('change severity in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let base = '';
  let incidentId = '';
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    const t = testConfig({ severity: 'P3' });
    const raw = JSON.parse(JSON.stringify(t.config)) as { contacts: { id: string; roles?: string[] }[] };
    const roles: Record<string, string[]> = { kari: ['admin'], ola: ['responder'], ingrid: [], per: [] };
    for (const c of raw.contacts) c.roles = roles[c.id];
    [h, browser] = await Promise.all([
      startHarness({ config: validateConfig(raw, 'severity') }),
      launchChromium(),
    ]);
    base = await listen(h.app);
    const declared = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('ola'),
      payload: { service: t.serviceId, reason: 'exports are late for every customer', skipVerify: true },
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

  it('someone without a role is refused with a 403 page naming the responder role', async () => {
    const page = await signIn('per');
    await page.goto(`${base}/console/incidents/${incidentId}`);
    await page.getByLabel('Severity (now P3)').selectOption('P1');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/severity') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Change severity' }).click(),
    ]);
    expect(response.status()).toBe(403);
    await page.waitForLoadState();
    expect(await page.locator('h1').innerText()).toBe('Forbidden');
    expect(await page.locator('.banner').innerText()).toMatch(
      /^Changing the severity needs the responder role/,
    );
  });

  it('a responder raises P3 to P1: published at once, and the timeline names her', async () => {
    const page = await signIn('ola');
    await page.goto(`${base}/console/incidents/${incidentId}`);
    await page.getByLabel('Severity (now P3)').selectOption('P1');
    await page.getByLabel('Why (optional)').fill('every customer is affected');
    await page.getByRole('button', { name: 'Change severity' }).click();
    await page.waitForURL(/done=severity-changed/);
    expect(await page.getByRole('status').innerText()).toBe(
      'Severity changed; auto-publish and the deadlines follow the new severity.',
    );
    await page.getByLabel('Severity (now P1)').waitFor();
    const view = (await h.app.inject({ url: `/api/incidents/${incidentId}`, headers: h.auth('per') })).json();
    expect(view.severity).toBe('P1');
    expect(view.timeline.find((e: { kind: string }) => e.kind === 'severity')).toMatchObject({
      actor: 'ola',
      detail:
        'ola raised the severity from P3 to P1; the status message is published automatically: every customer is affected',
    });
    expect(view.status.at(-1)).toMatchObject({ state: 'investigating' });
    // The same again from the page: the page says so (409).
    await page.getByRole('button', { name: 'Change severity' }).click();
    await page.waitForLoadState();
    expect(await page.content()).toContain('severity: the incident is already P1');
  });
});
