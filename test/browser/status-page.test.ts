/**
 * The public status page in Debian's Chromium: a declared P1 appears with its message, with and
 * without JavaScript; a `<script>` in a status message is shown as text and never runs; the language
 * switch works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { launchChromium, listen } from './chromium.js';

const component = 'Student system → Canvas integration';
const hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';

describe('status page in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let base: string;
  let serviceId: string;
  let incidentId: string;

  beforeAll(async () => {
    const t = testConfig({ levelTimeout: '10m' });
    serviceId = t.serviceId;
    [h, browser] = await Promise.all([startHarness({ config: t.config }), launchChromium()]);
    base = await listen(h.app);
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  /** Reloads until the text shows (the workflow publishes asynchronously). */
  async function until(page: Page, url: string, text: string) {
    await eventually(
      async () => {
        await page.goto(url);
        return (await page.content()).includes(text) || (await page.getByText(text).count()) > 0;
      },
      15_000,
      `"${text}" on ${url}`,
    );
  }

  it('shows a declared P1 incident with its status message, also without JavaScript', async () => {
    const declared = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('kari'),
      payload: { service: serviceId, reason: 'institutions cannot fetch the XML export', skipVerify: true },
    });
    expect(declared.statusCode).toBe(201);
    incidentId = declared.json().incident.id;

    const page = await browser.newPage({ locale: 'en-GB' });
    const message = `We are investigating a problem with the ${component}.`;
    await until(page, `${base}/status`, message);
    const article = page.locator(`#incident-${incidentId.replace(/\./g, '\\.')}`);
    expect(await article.locator('.message').first().innerText()).toContain(message);
    expect(await article.locator('h3').innerText()).toBe(`${component} — Investigating`);
    expect(await page.locator(`li[data-service="${serviceId}"] .badge`).innerText()).toBe('Outage');
    expect(await page.locator('#summary').innerText()).toBe('Some services have problems right now.');
    expect(await article.locator('time').first().innerText()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(await article.innerText()).toMatch(/\(\d\d:\d\d Norwegian time\)/);
    await page.close();

    const noJs = await browser.newContext({ javaScriptEnabled: false });
    const plain = await noJs.newPage();
    await plain.goto(`${base}/status`);
    expect(
      await plain
        .locator(`#incident-${incidentId.replace(/\./g, '\\.')} .message`)
        .first()
        .innerText(),
    ).toContain(message);
    await noJs.close();
  });

  it('shows a <script> in a status message as text, and it does not run', async () => {
    const published = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${incidentId}/status`,
      headers: h.auth('kari'),
      payload: { state: 'identified', message: hostile },
    });
    expect(published.statusCode).toBe(200);

    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await until(page, `${base}/status`, 'Identified');
    const shown = page.locator('.message', { hasText: '<script>window.__pwned = 1</script>' });
    expect(await shown.count()).toBe(1);
    expect(await shown.innerText()).toBe(hostile);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.evaluate('document.scripts.length')).toBe(0);
    expect(await page.evaluate('document.images.length')).toBe(0);
    expect(violations).toEqual([]);
    await page.close();
  });

  it('switches language with the links, and falls back to English for unknown languages', async () => {
    const context = await browser.newContext({ locale: 'fr-FR' });
    const page = await context.newPage();
    await page.goto(`${base}/status`);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await page.getByRole('link', { name: 'Norsk' }).click();
    await page.waitForURL(/lang=nb/);
    expect(await page.getAttribute('html', 'lang')).toBe('nb');
    expect(await page.locator('h1').innerText()).toBe('Driftsstatus');
    expect(await page.locator('body').innerText()).toContain(`Vi undersøker et problem med ${component}.`);
    expect(await page.locator('body').innerText()).toContain('norsk tid');
    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForURL(/lang=en/);
    expect(await page.locator('h1').innerText()).toBe('Service status');
    await context.close();

    const nb = await browser.newContext({ locale: 'nb-NO' });
    const nbPage = await nb.newPage();
    await nbPage.goto(`${base}/status`);
    expect(await nbPage.getAttribute('html', 'lang')).toBe('nb');
    await nb.close();
  });
});
