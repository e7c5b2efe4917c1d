/**
 * The staff console in Debian's Chromium against the real stack: log in with a token, open the
 * incident, click Acknowledge — and the next level is never paged. Then a note, a status message and
 * resolve through the forms; what people wrote stays text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { IncidentView } from '../../domain/incident.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { launchChromium, listen } from './chromium.js';

const levelTimeoutMs = 6000;

describe('staff console in Chromium', () => {
  let smtp: TestSmtpServer;
  let h: Harness;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let serviceId: string;
  let incidentId: string;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    const t = testConfig({ levelTimeout: `${levelTimeoutMs / 1000}s` });
    serviceId = t.serviceId;
    [h, browser] = await Promise.all([
      startHarness({ config: t.config, smtpUrl: smtp.url }),
      launchChromium(),
    ]);
    base = await listen(h.app);
    context = await browser.newContext();
    page = await context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await smtp?.close();
  });

  const view = async () =>
    (
      await h.app.inject({ method: 'GET', url: `/api/incidents/${incidentId}`, headers: h.auth('per') })
    ).json() as IncidentView;

  it('logs in with the staff token through the form', async () => {
    await page.goto(`${base}/console`);
    expect(page.url()).toBe(`${base}/login?next=%2Fconsole`);
    await page.getByLabel('Staff token').fill('token-wrong');
    await page.getByRole('button', { name: 'Log in' }).click();
    expect(await page.getByRole('alert').innerText()).toBe('Unknown or revoked token.');
    await page.getByLabel('Staff token').fill('token-kari');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${base}/console`);
    expect(await page.locator('h2').innerText()).toBe('Open incidents');
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({
      name: '__Host-incident-session',
      httpOnly: true,
      secure: true,
      sameSite: 'Strict',
    });
  });

  it('acknowledging in the console stops the escalation: the next level is never paged', async () => {
    const declared = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('per'),
      payload: { service: serviceId, reason: 'institutions cannot fetch the XML export', skipVerify: true },
    });
    expect(declared.statusCode).toBe(201);
    incidentId = declared.json().incident.id;
    await smtp.waitFor((m) => m.to.includes('kari@test.local'), 10_000);

    await page.goto(`${base}/console`);
    await page.getByRole('link', { name: 'FS → Canvas integration' }).click();
    await page.waitForURL(`${base}/console/incidents/${incidentId}`);
    expect(await page.locator('#state').innerText()).toBe('triggered');
    expect(await page.locator('#next-escalation').innerText()).toMatch(/UTC .* — in \d+ s/);
    expect(await page.locator('#paged').innerText()).toContain('Kari Nordmann <kari@test.local>');

    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.waitForURL(/done=acknowledged/);
    expect(await page.getByRole('status').innerText()).toBe('Acknowledged: escalation has stopped.');
    expect(await page.locator('#state').innerText()).toBe('acknowledged');
    expect(await page.locator('#next-escalation').innerText()).toBe('none scheduled');
    const acked = await view();
    expect(acked.acknowledgedBy).toBe('kari');
    expect(acked.timeline.some((e) => e.kind === 'escalated')).toBe(false);

    // Past the level's timeout (and a margin): nobody else gets a page.
    await new Promise((r) => setTimeout(r, levelTimeoutMs + 2500));
    expect(smtp.messages.filter((m) => !m.to.includes('kari@test.local')).map((m) => m.to)).toEqual([]);
    const later = await view();
    expect(later.state).toBe('acknowledged');
    expect(later.paged.map((p) => p.recipient.id)).toEqual(['kari']);
    expect(later.timeline.some((e) => e.kind === 'escalated')).toBe(false);
  });

  it('adds a note and publishes a status message through the forms, shown as text', async () => {
    const hostile = '<script>window.__pwned = 1</script><b>bold?</b>';
    await page.getByLabel('Note for the timeline').fill(hostile);
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.waitForURL(/done=noted/);
    expect(await page.locator('#timeline td.detail', { hasText: '<script>' }).innerText()).toBe(hostile);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('#timeline b').count()).toBe(0);

    await page.getByLabel('Public status message').selectOption('identified');
    await page
      .getByLabel('Text (empty: the standard text for the state)')
      .fill('Inbound SSH is blocked by a firewall change.');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.waitForURL(/done=published/);
    expect((await view()).status.at(-1)).toMatchObject({
      state: 'identified',
      author: 'kari',
      message: 'Inbound SSH is blocked by a firewall change.',
    });
  });

  it('resolves through the form (no probe configured: on the responder’s word)', async () => {
    await page.getByLabel('Resolve (the probes must then pass)').fill('firewall rule restored');
    await page.getByRole('button', { name: 'Resolve', exact: true }).click();
    await page.waitForURL(/done=resolving/);
    await eventually(async () => (await view()).state === 'resolved', 10_000, 'resolved');
    await page.reload();
    expect(await page.locator('#state').innerText()).toBe('resolved');
    expect(await page.locator('main').innerText()).toContain('nothing more can be done here');
  });
});
