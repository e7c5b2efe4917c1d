/**
 * "Report a problem" on the status page in Debian's Chromium, with JavaScript off: choose the
 * component, describe the problem, send; the page thanks the reporter and the incident exists.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { testConfig } from '../helpers/config.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { launchChromium, listen } from './chromium.js';

describe('report form in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let base: string;
  let serviceId: string;

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

  it('sends a report without JavaScript, thanks the reporter, and opens the incident', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'nb-NO' });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(`${base}/status`);
    expect(await page.locator('#report-heading').innerText()).toBe('Meld fra om et problem');
    // The honeypot is off-screen for people.
    const trap = await page.locator('#report-website').boundingBox();
    expect(trap === null || trap.x + trap.width <= 0).toBe(true);

    const sentAt = Date.now();
    await page
      .getByLabel('Tjeneste', { exact: true })
      .selectOption({ label: 'Student system → Canvas integration' });
    await page
      .getByLabel('Beskrivelse', { exact: true })
      .fill('Vi får ikke hentet XML-eksporten fra FS <siden 08:00>');
    await page.getByLabel('Kontakt (valgfritt)', { exact: true }).fill('it@hiof.example');
    await page.getByRole('button', { name: 'Send melding' }).click();
    await page.waitForURL(/\/status\?lang=nb&reported=1$/);

    expect(await page.locator('#report-received').innerText()).toMatch(
      /^Takk for meldingen\. Vi sjekker tjenesten nå/,
    );
    expect(await page.getAttribute('html', 'lang')).toBe('nb');
    expect(violations).toEqual([]);

    const view = await h.incidents.get(serviceId);
    expect(view.source).toBe('customer');
    expect(view.customerReports).toBe(1);
    expect(Date.parse(view.firstCustomerReportAt!)).toBeGreaterThanOrEqual(sentAt - 1000);
    expect(view.reason).toBe('customer report: Vi får ikke hentet XML-eksporten fra FS <siden 08:00>');
    await context.close();
  });
});
