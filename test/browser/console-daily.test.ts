/**
 * The console for daily use, in Debian's Chromium against the real stack: roles (a responder who
 * may not publish gets a 403 page; a communicator publishes the public status message), the incident
 * history with filters and search, the monitors page with pause and resume, the postmortems page —
 * and on a 390 px phone none of them scrolls sideways (screenshots in test-results/screenshots/).
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { validateConfig } from '../../config/load.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { launchChromium, listen, signIn as signInAs } from './chromium.js';

const shots = path.resolve('test-results/screenshots');

describe('console for daily use in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let base = '';
  let serviceId = '';
  let checkId = '';
  let incidentId = '';
  let tcp: Server;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    tcp = createServer((s) => s.end());
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const t = testConfig({ severity: 'P3' });
    serviceId = t.serviceId;
    checkId = `${serviceId}-port`;
    const raw = JSON.parse(JSON.stringify(t.config)) as {
      contacts: { id: string; roles?: string[] }[];
      checks: unknown[];
    };
    const roles: Record<string, string[]> = {
      kari: ['admin'],
      ola: ['responder'],
      ingrid: ['communicator'],
      per: [],
    };
    for (const c of raw.contacts) c.roles = roles[c.id];
    raw.checks = [
      {
        id: checkId,
        name: 'Data-sync host port with a rather long descriptive name for narrow screens',
        service: `${serviceId}-host`,
        kind: 'tcp',
        host: '127.0.0.1',
        port: (tcp.address() as AddressInfo).port,
        interval: '2s',
        timeout: '1s',
      },
    ];
    [h, browser] = await Promise.all([
      startHarness({ config: validateConfig(raw, 'console-daily'), monitors: true }),
      launchChromium(),
    ]);
    base = await listen(h.app);
    const declared = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('ola'),
      payload: {
        service: serviceId,
        reason: 'Institusjonene får ikke hentet XML-eksporten: ssh-tilkoblingen til w3prod-datasync02 henger',
        skipVerify: true,
      },
    });
    expect(declared.statusCode, declared.body).toBe(201);
    incidentId = declared.json().incident.id;
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await h?.close();
    await new Promise((r) => tcp.close(r));
  });

  /** A browser signed in as the contact, optionally as a 390 px phone. */
  const signIn = (contact: string, phone = false): Promise<Page> =>
    signInAs(
      browser,
      base,
      contact,
      contexts,
      phone ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true } : {},
    );

  const noSideScroll = async (page: Page, name: string) => {
    await page.screenshot({ path: path.join(shots, `${name}-390.png`), fullPage: true });
    const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
    expect(width, `${name}: scrollWidth`).toBeLessThanOrEqual(390);
  };

  it('a responder may not publish a status message: a 403 page says which role it needs', async () => {
    const page = await signIn('ola');
    expect(await page.locator('#roles').innerText()).toBe('(responder)');
    await page.goto(`${base}/console/incidents/${incidentId}`);
    expect(await page.locator('form[action$="/status"] .role-hint').innerText()).toBe(
      'Needs the communicator role; you have responder.',
    );
    expect(await page.locator('form[action$="/notes"] .role-hint').count()).toBe(0);
    await page.getByLabel('Text (empty: the standard text for the state)').fill('We are looking into it.');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/status') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Publish' }).click(),
    ]);
    expect(response.status()).toBe(403);
    await page.waitForLoadState();
    expect(await page.locator('h1').innerText()).toBe('Forbidden');
    expect(await page.locator('.banner').innerText()).toBe(
      'Publishing a status message needs the communicator role; Ola Hansen has the role responder.',
    );
    const view = (await h.app.inject({ url: `/api/incidents/${incidentId}`, headers: h.auth('per') })).json();
    expect(view.status.filter((m: { author: string }) => m.author === 'ola')).toEqual([]);
  });

  it('a communicator publishes the status message, and the public page shows it', async () => {
    const page = await signIn('ingrid');
    await page.goto(`${base}/console/incidents/${incidentId}`);
    await page.getByLabel('Public status message').selectOption('identified');
    await page
      .getByLabel('Text (empty: the standard text for the state)')
      .fill('Eksporten er stanset av en brannmurendring; vi ruller den tilbake.');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.waitForURL(/done=published/);
    expect(await page.getByRole('status').innerText()).toBe('Status message published.');
    const view = (await h.app.inject({ url: `/api/incidents/${incidentId}`, headers: h.auth('per') })).json();
    expect(view.status.at(-1)).toMatchObject({ state: 'identified', author: 'ingrid' });
    await page.goto(`${base}/status`);
    expect(await page.locator('main').innerText()).toContain(
      'Eksporten er stanset av en brannmurendring; vi ruller den tilbake.',
    );
  });

  it('history: filters and search from the record store, nb and en, no sideways scroll at 390 px', async () => {
    const page = await signIn('per', true);
    await page.goto(`${base}/console/history`);
    expect(await page.locator('h2').innerText()).toBe('Incident history');
    await page.getByLabel('Search reason and notes').fill('XML-eksporten');
    await page.getByLabel('Service', { exact: true }).selectOption(serviceId);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/q=XML-eksporten/);
    const rows = page.locator('#history tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().innerText()).toContain('FS → Canvas integration');
    await noSideScroll(page, 'console-history');

    await page.getByLabel('Severity').selectOption('P0');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/severity=P0/);
    expect(await page.locator('#history-empty').innerText()).toBe('No incidents match.');

    await page.goto(`${base}/console/history?lang=nb&state=triggered`);
    expect(await page.locator('html').getAttribute('lang')).toBe('nb');
    expect(await page.locator('h2').innerText()).toBe('Hendelseshistorikk');
    expect(await page.locator('#history tbody tr').count()).toBe(1);
    await noSideScroll(page, 'console-history-nb');

    await page.goto(`${base}/console/history?from=2026-13-45`);
    expect(await page.getByRole('alert').innerText()).toMatch(/^Opened from: expected a date/);
  });

  it('monitors: live state and next probe; an admin pauses and resumes; no sideways scroll at 390 px', async () => {
    const page = await signIn('kari', true);
    const row = page.locator(`#monitors tr[data-check="${checkId}"]`);
    await eventually(
      async () => {
        await page.goto(`${base}/console/monitors`);
        const text = (await row.count()) ? await row.innerText() : '';
        return /healthy/.test(text) && /\bok\b/.test(text) && /in \d/.test(text) ? true : undefined;
      },
      20_000,
      'the monitor healthy with a next probe',
    );
    await noSideScroll(page, 'console-monitors');

    await row.getByLabel('Reason').fill('patching the data-sync host');
    await row.getByLabel('Pause for').selectOption('1h');
    await row.getByRole('button', { name: 'Pause' }).click();
    await page.waitForURL(/done=paused/);
    await eventually(
      async () => {
        await page.goto(`${base}/console/monitors`);
        return (await row.innerText()).includes('patching the data-sync host') ? true : undefined;
      },
      10_000,
      'the pause shown',
    );
    await noSideScroll(page, 'console-monitors-paused');
    await row.getByRole('button', { name: 'Resume' }).click();
    await page.waitForURL(/done=resumed/);
    await eventually(
      async () => {
        await page.goto(`${base}/console/monitors?lang=nb`);
        return (await row.getByRole('button', { name: 'Pause' }).count()) === 1 ? true : undefined;
      },
      10_000,
      'the pause lifted',
    );
    expect(await page.locator('h2').innerText()).toBe('Overvåking');
  });

  it('monitors: a responder sees no pause forms, and a pause posted anyway gets a 403 page', async () => {
    const page = await signIn('ola');
    await page.goto(`${base}/console/monitors`);
    expect(await page.locator('main').innerText()).toContain(
      'Pausing and resuming (maintenance) needs the admin role.',
    );
    expect(await page.getByRole('button', { name: 'Pause' }).count()).toBe(0);
    // With the session's own CSRF token (from the logout form), so only the role can refuse it.
    const csrf = await page.locator('form[action="/logout"] input[name=_csrf]').inputValue();
    const r = await page.request.post(`${base}/console/monitors/${checkId}/pause`, {
      form: { _csrf: csrf, for: '1h', reason: 'sneaky' },
      headers: { origin: base },
    });
    expect(r.status()).toBe(403);
    expect(await r.text()).toContain(
      'Pausing a monitor (maintenance) needs the admin role; Ola Hansen has the role responder.',
    );
    const monitor = (await h.app.inject({ url: `/api/monitors/${checkId}`, headers: h.auth('per') })).json();
    expect(monitor.pausedUntil).toBeNull();
  });

  it('the incident page (facts, actions, pages, timeline) fits a 390 px phone', async () => {
    const note = `Sjekket brannmurloggen: ${'regel-'.repeat(30)}endret 01:10 UTC`;
    expect(
      (
        await h.app.inject({
          method: 'POST',
          url: `/api/incidents/${incidentId}/notes`,
          headers: h.auth('ola'),
          payload: { text: note },
        })
      ).statusCode,
    ).toBe(200);
    const page = await signIn('ola', true);
    await page.goto(`${base}/console?lang=nb`);
    expect(await page.locator('h2').innerText()).toBe('Åpne hendelser');
    expect(await page.locator('#open-incidents tbody tr').count()).toBe(1);
    await noSideScroll(page, 'console-open-nb');
    await page.goto(`${base}/console/incidents/${incidentId}`);
    await page.locator('#timeline td.detail', { hasText: 'brannmurloggen' }).waitFor();
    await noSideScroll(page, 'console-incident');
  });

  it('postmortems page and its filters fit a 390 px phone', async () => {
    const page = await signIn('per', true);
    await page.goto(`${base}/console/postmortems`);
    expect(await page.locator('h2').innerText()).toBe('Postmortems');
    await page.getByRole('link', { name: 'overdue' }).click();
    await page.waitForURL(/state=overdue/);
    await noSideScroll(page, 'console-postmortems');
  });
});
