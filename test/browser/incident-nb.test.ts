/**
 * The console's incident page in Norwegian (bokmål), in Debian's Chromium against the real stack and
 * SMTP: asked for with `?lang=nb` or by the browser's language (the login page too), its facts,
 * forms, buttons and the answers to them are in nb, the countdown too, and a 390 px phone does not
 * scroll sideways. A
 * responder acknowledges and snoozes for a few seconds through the snooze form: the page says so in
 * nb (the timeline's entries stay as recorded), and when the snooze is over the incident is
 * triggered again and the acknowledger is paged again. An admin force-resolves it from the nb form,
 * and the postmortem page is in nb too: a follow-up is marked done from it. Screenshots in
 * test-results/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { validateConfig } from '../../config/load.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { launchChromium, listen, signIn as signInAs } from './chromium.js';

const shots = path.resolve('test-results/screenshots');

describe('the incident page in nb, and a snooze from it, in Chromium', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let h: Harness;
  let browser: Browser;
  let base = '';
  let incidentId = '';
  const contexts: BrowserContext[] = [];
  const toKari = (m: { to: string[] }) => m.to.includes('kari@test.local');

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    smtp = await startSmtpServer();
    const t = testConfig({ levelTimeout: '10m' });
    const raw = JSON.parse(JSON.stringify(t.config)) as { contacts: { id: string; roles?: string[] }[] };
    const roles: Record<string, string[]> = { kari: ['admin'], ola: ['responder'], ingrid: [], per: [] };
    for (const c of raw.contacts) c.roles = roles[c.id];
    [h, browser] = await Promise.all([
      startHarness({ config: validateConfig(raw, 'incident-nb'), smtpUrl: smtp.url }),
      launchChromium(),
    ]);
    base = await listen(h.app);
    const declared = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('ola'),
      payload: {
        service: t.serviceId,
        reason: 'Eksporten til Canvas har stanset for alle institusjonene siden natt til torsdag',
        skipVerify: true,
      },
    });
    expect(declared.statusCode, declared.body).toBe(201);
    incidentId = declared.json().incident.id;
    await smtp.waitFor(toKari, 30_000);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await h?.close();
    await smtp?.close();
  });

  /** A 390 px phone signed in as the contact. */
  const signIn = (contact: string): Promise<Page> =>
    signInAs(browser, base, contact, contexts, {
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 1,
      isMobile: true,
    });

  const noSideScroll = async (page: Page, name: string) => {
    await page.screenshot({ path: path.join(shots, `${name}-390.png`), fullPage: true });
    const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
    expect(width, `${name}: scrollWidth`).toBeLessThanOrEqual(390);
  };

  it('?lang=nb, or a Norwegian browser: labels, buttons and the countdown in nb; no sideways scroll at 390 px', async () => {
    const page = await signIn('ola');
    await page.goto(`${base}/console/incidents/${incidentId}?lang=nb`);
    expect(await page.locator('html').getAttribute('lang')).toBe('nb');
    expect(await page.getByRole('button', { name: 'Kvitter' }).count()).toBe(1);
    expect(await page.locator('form[action*="/acknowledge"]').innerText()).toContain(
      'Stopp eskaleringen: du tar saken.',
    );
    for (const label of [
      'Notat til tidslinjen',
      'Løs (sjekkene må så bestå)',
      'Alvorlighet (nå P1)',
      'Tilkall en til (varsles nå)',
      'Tvangsløs nå, uten bevis fra sjekkene (hvorfor?)',
    ])
      expect(await page.getByLabel(label).count(), label).toBe(1);
    // Ola is a responder: the communicator's form says he may not publish, in nb.
    expect(await page.locator('form[action*="/status"] .role-hint').innerText()).toBe(
      'Krever rollen communicator; du har responder.',
    );
    expect(await page.locator('#status-state option').allInnerTexts()).toEqual([
      'Undersøker',
      'Årsak funnet',
      'Overvåker',
      'Løst',
    ]);
    const headings = await page.locator('main h3').allInnerTexts();
    expect(headings).toEqual(['Varslet', 'Offentlige driftsmeldinger', 'Tidslinje']);
    expect(await page.locator('#paged tbody tr').first().innerText()).toContain('nivå 1');
    // The countdown to the next escalation, ticked by console.js, in nb.
    await eventually(
      async () =>
        /— om \d+ min \d+ s: /.test(await page.locator('#next-escalation').innerText()) || undefined,
      5_000,
      'the countdown in nb',
    );
    const main = await page.locator('main').innerText();
    for (const en of ['Acknowledge', 'Timeline', 'Add note', 'Next escalation', 'Needs the'])
      expect(main, en).not.toContain(en);
    await noSideScroll(page, 'console-incident-nb');
    // Posted anyway: the 403 page says in nb what is missing.
    await page.getByLabel('Tekst (tom: standardteksten for tilstanden)').fill('Vi ser på det.');
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/status') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Publiser' }).click(),
    ]);
    expect(refused.status()).toBe(403);
    await page.waitForLoadState();
    expect(await page.locator('html').getAttribute('lang')).toBe('nb');
    expect(await page.locator('h1').innerText()).toBe('Ingen tilgang');
    expect(await page.locator('.banner').innerText()).toBe(
      'Å publisere en driftsmelding krever rollen communicator; Ola Hansen har rollen responder.',
    );

    // A Norwegian browser, sent to the login page by the incident's link: nb from the start.
    const context = await browser.newContext({ locale: 'nb-NO', viewport: { width: 390, height: 844 } });
    contexts.push(context);
    const norwegian = await context.newPage();
    await norwegian.goto(`${base}/console/incidents/${incidentId}`);
    await norwegian.waitForURL(/\/login\?next=/);
    expect(await norwegian.locator('h1').innerText()).toBe('Hendelseskonsoll');
    await norwegian.getByLabel('Tilgangsnøkkel').fill('token-feil');
    await norwegian.getByRole('button', { name: 'Logg inn' }).click();
    expect(await norwegian.getByRole('alert').innerText()).toBe('Ukjent eller tilbakekalt nøkkel.');
    await noSideScroll(norwegian, 'console-login-nb');
    await norwegian.getByLabel('Tilgangsnøkkel').fill('token-ola');
    await norwegian.getByRole('button', { name: 'Logg inn' }).click();
    await norwegian.waitForURL(`${base}/console/incidents/${incidentId}`);
    expect(await norwegian.locator('html').getAttribute('lang')).toBe('nb');
    expect(await norwegian.getByRole('button', { name: 'Kvitter' }).count()).toBe(1);
    // … and the link to English wins over the browser's language.
    await norwegian.getByRole('link', { name: 'English' }).click();
    await norwegian.waitForURL(/lang=en/);
    expect(await norwegian.getByRole('button', { name: 'Acknowledge' }).count()).toBe(1);
  });

  it('acknowledge and a 6 s snooze from the nb form: said in nb, then triggered and paged again', async () => {
    const page = await signIn('kari');
    await page.goto(`${base}/console/incidents/${incidentId}?lang=nb`);
    await page.getByRole('button', { name: 'Kvitter' }).click();
    await page.waitForURL(/done=acknowledged&lang=nb/);
    expect(await page.getByRole('status').innerText()).toBe('Kvittert: eskaleringen er stoppet.');
    expect(await page.locator('#state').innerText()).toBe('kvittert');
    expect(await page.locator('#next-escalation').innerText()).toBe('ingen planlagt');

    const before = smtp.messages.filter(toKari).length;
    await page.getByLabel('Utsett til (et UTC-tidspunkt, eller en varighet som 30m; høyst 24 t)').fill('6s');
    const asked = Date.now();
    await page.getByRole('button', { name: 'Utsett' }).click();
    await page.waitForURL(/done=snoozed&lang=nb/);
    expect(await page.getByRole('status').innerText()).toBe(
      'Utsatt: når utsettelsen er over, varsles det igjen, med mindre hendelsen er løst.',
    );
    expect(await page.locator('#snoozed').innerText()).toMatch(
      /^til \d{4}-\d\d-\d\d \d\d:\d\d UTC .* av Kari Nordmann$/,
    );
    // The timeline's entry is the record, as written.
    const line = page.locator('#timeline tbody tr', { hasText: 'snoozed until' });
    expect(await line.locator('td[data-label="Hva"]').innerText()).toBe('snoozed');
    expect(await line.locator('td[data-label="Detaljer"]').innerText()).toMatch(
      /^kari snoozed until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC; then it is paged again unless resolved$/,
    );
    await noSideScroll(page, 'console-incident-snoozed-nb');

    // When the snooze is over, Kari (who acknowledged, and is level 1) is paged again.
    const again = (await smtp.waitForCount(toKari, before + 1, 60_000)).at(-1)!;
    expect(again.subject).toMatch(/level 1 page \(snooze over\)$/);
    expect(again.receivedAt.getTime()).toBeGreaterThanOrEqual(Math.floor(asked / 1000) * 1000 + 5_000);
    await eventually(
      async () => {
        await page.goto(`${base}/console/incidents/${incidentId}?lang=nb`);
        return (await page.locator('#state').innerText()) === 'utløst' || undefined;
      },
      15_000,
      'triggered again',
    );
    expect(await page.locator('form[action*="/acknowledge"]').innerText()).toContain(
      'Stopp eskaleringen: du tar saken.',
    );
    expect(await page.locator('#snooze-until').count()).toBe(0);
    expect(
      await page.locator('#timeline tbody tr', { hasText: 'is over and it is not resolved' }).count(),
    ).toBe(1);
  });

  it('force-resolved from the nb form, and the postmortem page in nb: a follow-up marked done from it', async () => {
    const page = await signIn('kari');
    await page.goto(`${base}/console/incidents/${incidentId}?lang=nb`);
    await page
      .getByLabel('Tvangsløs nå, uten bevis fra sjekkene (hvorfor?)')
      .fill('Eksporten er flyttet til en ny vert');
    await page.getByRole('button', { name: 'Tvangsløs' }).click();
    await page.waitForURL(/done=force-resolved&lang=nb/);
    expect(await page.getByRole('status').innerText()).toBe(
      'Løst uten bevis fra sjekkene; etterarbeidet starter.',
    );
    expect(await page.locator('.banner.info').innerText()).toBe(
      'Denne hendelsen er løst; her kan ingenting mer gjøres.',
    );
    expect(
      await page.getByLabel('Er problemet tilbake? Gjenåpne det som en ny hendelse som varsler nå').count(),
    ).toBe(1);
    expect(await page.getByRole('button', { name: 'Gjenåpne' }).count()).toBe(1);

    await eventually(
      async () =>
        (
          await h.app.inject({
            url: `/api/incidents/${incidentId}/postmortem`,
            headers: { ...h.auth('per'), accept: 'application/json' },
          })
        ).statusCode === 200 || undefined,
      30_000,
      'the postmortem started',
    );
    const follow = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${incidentId}/follow-ups`,
      headers: h.auth('kari'),
      payload: { title: 'Varsle når eksporten stopper', owner: 'ola', dueDate: '2099-01-31' },
    });
    expect(follow.statusCode, follow.body).toBe(201);
    await page.goto(`${base}/console/incidents/${incidentId}?lang=nb`);
    await page.getByRole('link', { name: 'Etterarbeidet' }).click();
    await page.waitForURL(/\/postmortem\?lang=nb$/);
    expect(await page.locator('main h1').innerText()).toBe('Etterarbeid: FS → Canvas integration');
    expect(await page.locator('main h2').allInnerTexts()).toEqual(['Oppfølgingsoppgaver', 'Utkast']);
    const row = page.locator('#follow-ups tbody tr', { hasText: 'Varsle når eksporten stopper' });
    expect(await row.locator('td[data-label="Frist"]').innerText()).toBe('2099-01-31');
    await noSideScroll(page, 'console-postmortem-nb');
    await row.getByRole('button', { name: 'Merk som ferdig' }).click();
    await page.waitForURL(/done=f1&lang=nb/);
    expect(await page.getByRole('status').innerText()).toBe('Oppfølging f1 er merket som ferdig.');
    expect(await row.locator('td[data-label="Tilstand"]').innerText()).toMatch(/^ferdig .* av kari$/);
  });
});
