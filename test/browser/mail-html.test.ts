/**
 * The HTML part of a real page mail (sent by the worker to the test SMTP server), rendered in Debian's
 * Chromium at a phone's width: a hostile reason shows as text and runs nothing, the Acknowledge
 * button carries the mail's one-click link, the console button the incident's console page, the
 * "who is next" box says what the text says, and nothing scrolls sideways at 390 px.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { testConfig } from '../helpers/config.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { launchChromium } from './chromium.js';

const hostile =
  `<script>window.__pwned = 1</script> "><img src=x onerror="window.__pwned = 2"> ` +
  `export & import <b>bold</b> at https://files.example/a-very-long-path/that/goes/on/and/on/and/on/without/any/break/at/all.xml`;

describe('page mail HTML in Chromium', () => {
  let smtp: TestSmtpServer;
  let h: Harness;
  let browser: Browser;
  let serviceId: string;
  let incidentId: string;

  /** The mail's HTML at a 390 px viewport, every request refused; asserts it fits. */
  async function render(html: string) {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.route('**/*', (route) => route.abort());
    await page.setContent(html, { waitUntil: 'load' });
    expect((await page.evaluate('document.documentElement.scrollWidth')) as number).toBeLessThanOrEqual(390);
    return { page, close: () => context.close() };
  }

  beforeAll(async () => {
    smtp = await startSmtpServer();
    const t = testConfig({ levelTimeout: '30s' });
    serviceId = t.serviceId;
    [h, browser] = await Promise.all([
      startHarness({ config: t.config, smtpUrl: smtp.url }),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await smtp?.close();
  });

  it('escapes the reason, has the ack and console buttons, says who is next, fits 390 px', async () => {
    const declared = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('per'),
      payload: { service: serviceId, reason: hostile, skipVerify: true },
    });
    expect(declared.statusCode).toBe(201);
    const id = declared.json().incident.id as string;
    incidentId = id;

    const mail = await smtp.waitFor((m) => m.to.includes('kari@test.local'), 20_000);
    expect(mail.headers['content-type']).toMatch(/^multipart\/alternative/);
    expect(mail.text).toContain(hostile);
    expect(mail.html).toBeDefined();
    const ackUrl = /one click: (\S+)/.exec(mail.text)![1]!;
    const next = mail.text.split('\n').find((l) => l.startsWith('If nobody acknowledges within'))!;
    expect(next).toContain('level 2 is paged next: Ola Hansen');

    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      javaScriptEnabled: true,
    });
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    // Nothing in the mail may fetch anything (an injected <img> would): every request is refused.
    const requests: string[] = [];
    await page.route('**/*', (route) => {
      requests.push(route.request().url());
      return route.abort();
    });
    await page.setContent(mail.html!, { waitUntil: 'load' });

    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    expect(await page.locator('script, img, b').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([]);
    expect(await page.locator('body').innerText()).toContain(hostile.replace(/\s+/g, ' '));

    const ack = page.locator('a[data-role="ack"]');
    expect(await ack.innerText()).toBe('Acknowledge');
    expect(await ack.getAttribute('href')).toBe(ackUrl);
    const box = await ack.boundingBox();
    expect(box!.height).toBeGreaterThanOrEqual(40); // a thumb-sized button
    const consoleLink = page.locator('a[data-role="console"]');
    expect(await consoleLink.getAttribute('href')).toBe(`http://127.0.0.1:3000/console/incidents/${id}`);
    expect(await page.locator('[data-role="next"]').innerText()).toBe(next);
    // The API URL of the text is linked as its console page: a browser gets no 401.
    expect(await page.locator('a[href*="/api/"]').count()).toBe(0);
    // The acknowledge section of the text has the one-click link too.
    expect(await page.locator(`li a[href="${ackUrl}"]`).count()).toBe(1);

    expect((await page.evaluate('document.documentElement.scrollWidth')) as number).toBeLessThanOrEqual(390);
    await page.screenshot({ path: 'test-results/screenshots/page-mail-390.png', fullPage: true });
    await context.close();
  });

  it('the resolved mail and the postmortem draft link their console pages, never the API', async () => {
    const resolved = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${incidentId}/force-resolve`,
      headers: h.auth('per'),
      payload: { reason: 'the export host was replaced <i>by hand</i>' },
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    const consolePage = `http://127.0.0.1:3000/console/incidents/${incidentId}`;

    const notice = await smtp.waitFor(
      (m) => m.to.includes('kari@test.local') && / RESOLVED/.test(m.subject),
      30_000,
    );
    expect(notice.html).toBeDefined();
    const r = await render(notice.html!);
    expect(await r.page.locator('[data-role="kind"]').innerText()).toMatch(/resolved/i);
    expect(await r.page.locator('a[data-role="console"]').getAttribute('href')).toBe(consolePage);
    expect(await r.page.locator('a[href*="/api/"]').count()).toBe(0);
    expect(await r.page.locator('i, script, img').count()).toBe(0);
    // The recovery facts of the text are in the HTML.
    const said = notice.text.split('\n').find((l) => /probe proof/i.test(l));
    expect(said).toBeDefined();
    expect(await r.page.locator('body').innerText()).toContain(said!.trim());
    await r.page.screenshot({ path: 'test-results/screenshots/resolved-mail-390.png', fullPage: true });
    await r.close();

    const draft = await smtp.waitFor(
      (m) => m.to.includes('kari@test.local') && /Postmortem due/.test(m.subject),
      60_000,
    );
    expect(draft.html).toBeDefined();
    expect(draft.attachments.map((a) => a.filename)).toContain(`postmortem-${incidentId}.md`);
    const p = await render(draft.html!);
    expect(await p.page.locator('a[data-role="console"]').getAttribute('href')).toBe(
      `${consolePage}/postmortem`,
    );
    expect(await p.page.locator('body').innerText()).toContain(/It is due by \S+\./.exec(draft.text)![0]);
    await p.page.screenshot({ path: 'test-results/screenshots/postmortem-mail-390.png', fullPage: true });
    await p.close();
  });
});
