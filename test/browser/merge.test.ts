/**
 * Merging two incidents from the console, in Debian's Chromium against the real stack: a responder
 * opens the integration's incident, picks the web portal's open incident in "Merge this incident
 * into", and lands on the portal's incident with the merge in its timeline; the integration's page
 * then says it was merged, linking to the portal's. A contact without the responder role sees the
 * form's role hint and gets a 403 page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { validateConfig } from '../../config/load.js';
import { testConfig } from '../helpers/config.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { launchChromium, listen, signIn } from './chromium.js';

describe('merge in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let base = '';
  let integration = '';
  let web = '';
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    const t = testConfig({ severity: 'P3', levelTimeout: '10m' });
    const raw = JSON.parse(JSON.stringify(t.config)) as {
      contacts: { id: string; roles?: string[] }[];
      services: Record<string, unknown>[];
    };
    const roles: Record<string, string[]> = { kari: ['admin'], ola: ['responder'], ingrid: [], per: [] };
    for (const c of raw.contacts) c.roles = roles[c.id];
    raw.services.push({
      id: `${t.serviceId}-web`,
      name: 'web portal',
      owner: 'ola',
      policy: 'chain',
      severity: 'P3',
    });
    [h, browser] = await Promise.all([
      startHarness({ config: validateConfig(raw, 'merge-browser') }),
      launchChromium(),
    ]);
    base = await listen(h.app);
    const declare = async (service: string, reason: string) => {
      const r = await h.app.inject({
        method: 'POST',
        url: '/api/incidents',
        headers: h.auth('kari'),
        payload: { service, reason, skipVerify: true },
      });
      expect(r.statusCode, r.body).toBe(201);
      return r.json().incident.id as string;
    };
    integration = await declare(t.serviceId, 'exports are late');
    web = await declare(`${t.serviceId}-web`, 'grades are stale');
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await h?.close();
  });

  it('a contact without the responder role sees the hint and gets a 403 page', async () => {
    const page = await signIn(browser, base, 'ingrid', contexts);
    await page.goto(`${base}/console/incidents/${integration}`);
    expect(await page.locator('form[action$="/merge"] .role-hint').innerText()).toBe(
      'Needs the responder role; you have none (read only).',
    );
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/merge') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Merge' }).click(),
    ]);
    expect(response.status()).toBe(403);
    await page.waitForLoadState();
    expect(await page.locator('h1').innerText()).toBe('Forbidden');
  });

  it('a responder merges the integration into the portal and lands on the portal', async () => {
    const page = await signIn(browser, base, 'ola', contexts);
    await page.goto(`${base}/console/incidents/${integration}`);
    const choices = await page
      .locator('#merge-into option')
      .evaluateAll((os) => os.map((o) => [o.getAttribute('value'), o.textContent?.trim()]));
    expect(choices).toEqual([[web, 'web portal (P3, triggered)']]);
    await page.getByLabel('Merge this incident into (the same outage)').selectOption(web);
    await page.locator('#merge-reason').fill('the portal reads the same export');
    await page.getByRole('button', { name: 'Merge' }).click();
    await page.waitForURL(`${base}/console/incidents/${web}?done=merged`);
    expect(await page.locator('.banner.ok').innerText()).toMatch(
      /^Merged: the other incident is closed into this one/,
    );
    expect(await page.locator('body').innerText()).toContain(
      `ola merged ${integration} (FS → Canvas integration, opened`,
    );
    // The portal has nothing left to merge with: the integration's incident is closed.
    expect(await page.locator('#merge-none').innerText()).toBe(
      'No other open incident to merge this one into.',
    );

    await page.goto(`${base}/console/incidents/${integration}`);
    expect(await page.locator('#state').innerText()).toBe('resolved');
    expect(await page.locator('#merged-into').innerText()).toBe(`Merged into ${web}`);
    await page.locator('#merged-into a').click();
    await page.waitForURL(`${base}/console/incidents/${web}`);
  });
});
