/**
 * The one-click link in a received page mail, opened in Debian's Chromium: opening it only asks;
 * the confirmation POST acknowledges as the recipient; opening it again says it was used.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { IncidentView } from '../../domain/incident.js';
import { testConfig } from '../helpers/config.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { launchChromium, listen } from './chromium.js';

describe('one-click acknowledge in Chromium', () => {
  let smtp: TestSmtpServer;
  let h: Harness;
  let browser: Browser;
  let base: string;
  let serviceId: string;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    const t = testConfig({ levelTimeout: '30s' });
    serviceId = t.serviceId;
    [h, browser] = await Promise.all([
      startHarness({ config: t.config, smtpUrl: smtp.url }),
      launchChromium(),
    ]);
    base = await listen(h.app);
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await smtp?.close();
  });

  it('acknowledges as the mail recipient after the confirmation POST, never on opening', async () => {
    const declared = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('per'),
      payload: { service: serviceId, reason: 'institutions cannot fetch the XML export', skipVerify: true },
    });
    expect(declared.statusCode).toBe(201);
    const id = declared.json().incident.id as string;
    const view = async () =>
      (
        await h.app.inject({ method: 'GET', url: `/api/incidents/${id}`, headers: h.auth('per') })
      ).json() as IncidentView;

    const mail = await smtp.waitFor((m) => m.to.includes('kari@test.local'), 10_000);
    const link = new URL(/one click: (\S+)/.exec(mail.text)![1]!);
    // The mail points at PUBLIC_BASE_URL; the test's API listens on a free port.
    const url = `${base}${link.pathname}`;

    const page = await browser.newPage();
    const opened = await page.goto(url);
    expect(opened?.status()).toBe(200);
    expect(await page.locator('h1').innerText()).toBe('Acknowledge this incident?');
    expect(await page.locator('main').innerText()).toContain('You are acknowledging as Kari Nordmann.');
    expect((await view()).state).toBe('triggered');

    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.waitForLoadState();
    expect(await page.locator('h1').innerText()).toBe('Acknowledged');
    const acked = await view();
    expect(acked.state).toBe('acknowledged');
    expect(acked.acknowledgedBy).toBe('kari');

    const again = await page.goto(url);
    expect(again?.status()).toBe(409);
    expect(await page.locator('h1').innerText()).toBe('Already acknowledged');
    expect(await page.getByRole('alert').innerText()).toMatch(
      /You acknowledged this incident at .* This link has been used; nothing was changed\./,
    );
    expect((await view()).timeline.filter((e) => e.kind === 'acknowledged')).toHaveLength(1);
  });
});
