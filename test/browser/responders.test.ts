/**
 * Adding a responder from the console, in Debian's Chromium against the real stack and SMTP: a
 * person without a role is refused with a 403 page naming the responder role; a responder picks a
 * contact from the incident page, who is paged at once, shows in the page's Paged table, and the
 * timeline names who added whom.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { validateConfig } from '../../config/load.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { launchChromium, listen, signIn as signInAs } from './chromium.js';

describe('add responder in Chromium', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let h: Harness;
  let browser: Browser;
  let base = '';
  let incidentId = '';
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    smtp = await startSmtpServer();
    const t = testConfig({ levelTimeout: '10m' });
    const raw = JSON.parse(JSON.stringify(t.config)) as { contacts: { id: string; roles?: string[] }[] };
    const roles: Record<string, string[]> = { kari: ['admin'], ola: ['responder'], ingrid: [], per: [] };
    for (const c of raw.contacts) c.roles = roles[c.id];
    [h, browser] = await Promise.all([
      startHarness({ config: validateConfig(raw, 'responders'), smtpUrl: smtp.url }),
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
    await smtp.waitFor((m) => m.to.includes('kari@test.local'), 30_000);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await h?.close();
    await smtp?.close();
  });

  const signIn = (contact: string): Promise<Page> => signInAs(browser, base, contact, contexts);

  it('someone without a role is refused with a 403 page naming the responder role', async () => {
    const page = await signIn('per');
    await page.goto(`${base}/console/incidents/${incidentId}`);
    await page.getByLabel('Add responder (paged now)').selectOption('ingrid');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/responders') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Add responder' }).click(),
    ]);
    expect(response.status()).toBe(403);
    await page.waitForLoadState();
    expect(await page.locator('h1').innerText()).toBe('Forbidden');
    expect(await page.locator('.banner').innerText()).toMatch(/^Adding a responder needs the responder role/);
    expect(smtp.messages.some((m) => m.to.includes('ingrid@test.local'))).toBe(false);
  });

  it('a responder adds Ingrid: she is paged at once, listed as paged, and the timeline names him', async () => {
    const page = await signIn('ola');
    await page.goto(`${base}/console/incidents/${incidentId}`);
    // Kari, paged at level 1, is not offered.
    const offered = await page.locator('#responder-contact option').allInnerTexts();
    expect(offered).not.toContain('Kari Nordmann');
    expect(offered).toContain('Ingrid Berg');
    await page.getByLabel('Add responder (paged now)').selectOption('ingrid');
    await page.getByLabel('Why them (optional)').fill('she knows the export job');
    await page.getByRole('button', { name: 'Add responder' }).click();
    await page.waitForURL(/done=responder-added/);
    expect(await page.getByRole('status').innerText()).toBe(
      'Responder added: they are paged now, and told when it is resolved.',
    );
    const mail = await smtp.waitFor((m) => m.to.includes('ingrid@test.local'), 30_000);
    expect(mail.text).toContain(
      'Ola Hansen added you as a responder to this incident: she knows the export job',
    );
    expect(mail.text).toMatch(/one click: \S+\/ack\//);
    await eventually(
      async () => {
        await page.reload();
        return (await page.locator('#paged').innerText()).includes('Ingrid Berg');
      },
      15_000,
      'Ingrid in the Paged table',
    );
    expect(await page.locator('#paged tr', { hasText: 'Ingrid Berg' }).innerText()).toContain(
      'added as a responder',
    );
    expect(await page.locator('#responder-contact option').allInnerTexts()).not.toContain('Ingrid Berg');
    const view = (await h.app.inject({ url: `/api/incidents/${incidentId}`, headers: h.auth('per') })).json();
    expect(view.timeline.find((e: { kind: string }) => e.kind === 'responder')).toMatchObject({
      actor: 'ola',
      detail: 'ola added Ingrid Berg as a responder: she knows the export job',
    });
  });
});
