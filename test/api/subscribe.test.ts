/**
 * Subscribing from the status page, against the real API and record store: bad input is a 400 JSON
 * naming the field (or the form again with what was typed), subscriptions are rate-limited per
 * address like the report form, a filled honeypot changes nothing, an email subscription is
 * double opt-in (the worker mails a signed confirmation link — to a real SMTP server here — and the
 * address gets nothing until the link's POST), a forged link changes nothing, and a webhook is
 * subscribed at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmailNotifier } from '../../activities/notifiers/email.js';
import { createSubscriberLinks } from '../../activities/subscriber-links.js';
import { parseEmail, parseWebhookUrl } from '../../domain/subscribers.js';
import { createSubscriberRecords } from '../../store/subscribers.js';
import { createSubscriberNotices } from '../../worker/subscriber-notices.js';
import { testConfig } from '../helpers/config.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';

describe('subscription input (table)', () => {
  it.each([
    ['lms-admin@uib.example', 'lms-admin@uib.example'],
    ['  Lms-Admin@UiB.Example ', 'lms-admin@uib.example'],
    ['not-an-email', undefined],
    ['a@b', undefined],
    ['Kari <kari@uib.example>', undefined],
    ['kari@uib.example, ola@uib.example', undefined],
    [`${'x'.repeat(250)}@uib.example`, undefined],
  ])('email %j → %j', (raw, expected) => expect(parseEmail(raw)).toBe(expected));

  it.each([
    ['https://hooks.example.org/status', true],
    ['http://hooks.example.org/status', false],
    ['https://127.0.0.1/x', false],
    ['https://[::1]/x', false],
    ['https://localhost/x', false],
    ['https://metadata.internal/x', false],
    ['https://user:pw@hooks.example.org/x', false],
    ['not a url', false],
  ])('webhook %j accepted: %s', (raw, ok) => expect('url' in parseWebhookUrl(raw)).toBe(ok));
});

describe('subscribe endpoints', () => {
  let h: Harness;
  let smtp: TestSmtpServer;
  let tmp: string;
  let serviceId: string;
  const component = 'Student system → Canvas integration';

  beforeAll(async () => {
    smtp = await startSmtpServer();
    const t = testConfig();
    serviceId = t.serviceId;
    h = await startHarness({
      config: t.config,
      worker: false,
      rateLimits: { reports: { max: 4, timeWindow: 60_000 } },
    });
    tmp = mkdtempSync(path.join(tmpdir(), 'subscribe-'));
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await smtp?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const post = (payload: Record<string, string>, ip = '198.51.100.7') =>
    h.app.inject({ method: 'POST', url: '/api/subscriptions', payload, remoteAddress: ip });
  const rows = async () =>
    (
      await h.store.records.db.query(
        'SELECT kind, address, confirmed_at FROM subscriptions ORDER BY created_at',
      )
    ).rows;

  it('answers bad input with a 400 naming the field, and changes nothing', async () => {
    const bad = await post({ component: serviceId, email: 'not-an-email' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/^application\/json/);
    expect(bad.json()).toMatchObject({
      statusCode: 400,
      message: 'email: not an email address',
      field: 'email',
    });
    expect((await post({ component: 'nope', email: 'a@uib.example' })).json()).toMatchObject({
      message: 'component: unknown component "nope"',
      field: 'component',
    });
    expect((await post({ component: serviceId })).json()).toMatchObject({ field: 'email' });
    expect((await post({ component: serviceId, webhook: 'http://127.0.0.1:9/x' })).json()).toMatchObject({
      statusCode: 400,
      message: 'webhook: must be an https:// URL',
      field: 'webhook',
    });
    const wrongType = await h.app.inject({
      method: 'POST',
      url: '/api/subscriptions',
      payload: { component: 1 },
    });
    expect(wrongType.statusCode).toBe(400);
    expect(await rows()).toEqual([]);
  });

  it('is double opt-in by email: a signed confirmation mail, nothing until its link is POSTed', async () => {
    const r = await post({ component, email: 'LMS-Admin@uib.example' }, '198.51.100.20');
    expect(r.statusCode).toBe(202);
    expect(r.json()).toEqual({ status: 'confirmation_sent', component });
    expect(await rows()).toMatchObject([
      { kind: 'email', address: 'lms-admin@uib.example', confirmed_at: null },
    ]);

    // The worker's loop sends the confirmation (the API has no mail transport).
    const mailer = createEmailNotifier({
      smtpUrl: smtp.url,
      outboxDir: path.join(tmp, 'outbox'),
      ledgerDir: path.join(tmp, 'sent'),
      from: 'Status <status@test.local>',
      log: () => undefined,
    });
    const subscribers = createSubscriberRecords(h.store.records.db);
    const notices = createSubscriberNotices({
      config: () => h.incidents.temporal.config,
      subscribers,
      records: h.store.records,
      email: mailer,
      links: createSubscriberLinks({ secret: h.ackLinkSecret, baseUrl: 'http://127.0.0.1:3000' }),
      publicBaseUrl: 'http://127.0.0.1:3000',
      log: () => undefined,
    });
    expect(await notices.tick()).toMatchObject({ confirmations: 1 });
    expect(await notices.tick()).toMatchObject({ confirmations: 0 });
    mailer.close();
    const mail = await smtp.waitFor((m) => m.to.includes('lms-admin@uib.example'), 10_000);
    expect(mail.subject).toBe(`Confirm your subscription to ${component}`);
    const link = /Confirm the subscription: (\S+)/.exec(mail.text)?.[1];
    expect(link).toMatch(
      /^http:\/\/127\.0\.0\.1:3000\/subscriptions\/confirm\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/,
    );
    expect(await subscribers.active([serviceId])).toEqual([]);

    // Subscribing again within the hour asks for no second mail (nobody can mail-bomb an address).
    expect((await post({ component, email: 'lms-admin@uib.example' }, '198.51.100.21')).statusCode).toBe(202);
    expect(await subscribers.confirmationsDue()).toEqual([]);

    const pathname = new URL(link!).pathname;
    const forged = await h.app.inject({ method: 'POST', url: `${pathname.slice(0, -3)}AAA` });
    expect(forged.statusCode).toBe(400);
    // Opening the link (a mail scanner) only asks.
    const opened = await h.app.inject({ method: 'GET', url: pathname });
    expect(opened.statusCode).toBe(200);
    expect(opened.body).toContain(`<form method="post" action="${pathname}`);
    expect(await subscribers.active([serviceId])).toEqual([]);
    const confirmed = await h.app.inject({ method: 'POST', url: pathname });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.body).toContain(`You will get an email when the status of ${component} changes.`);
    expect(await subscribers.active([serviceId])).toMatchObject([
      { kind: 'email', address: 'lms-admin@uib.example' },
    ]);
  });

  it('subscribes a webhook at once, ignores a filled honeypot, and limits subscriptions per address', async () => {
    const ip = '203.0.113.9';
    const hook = await post({ component: serviceId, webhook: 'https://hooks.example.org/status' }, ip);
    expect(hook.statusCode).toBe(201);
    expect(hook.json()).toMatchObject({ status: 'subscribed', component });
    const bot = await post({ component: serviceId, email: 'bot@spam.example', website: 'http://spam' }, ip);
    expect(bot.statusCode).toBe(202);
    expect((await rows()).map((r) => r.address)).not.toContain('bot@spam.example');
    expect((await post({ component: serviceId, email: 'b@uib.example' }, ip)).statusCode).toBe(202);
    expect((await post({ component: serviceId, email: 'c@uib.example' }, ip)).statusCode).toBe(202);
    const limited = await post({ component: serviceId, email: 'd@uib.example' }, ip);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json()).toMatchObject({ statusCode: 429, error: 'rate_limited' });
    expect((await rows()).map((r) => r.address)).not.toContain('d@uib.example');
    // Another address is not held up.
    expect((await post({ component: serviceId, email: 'd@uib.example' }, '203.0.113.10')).statusCode).toBe(
      202,
    );
  });

  it('offers the form on the status page; a bad address gets the form again with what was typed', async () => {
    const pageHtml = (await h.app.inject({ method: 'GET', url: '/status?lang=en' })).body;
    expect(pageHtml).toContain(
      '<form class="card" id="subscribe" method="post" action="/status/subscribe?lang=en">',
    );
    expect(pageHtml).toContain(`<option value="${serviceId}"`);
    const form = (body: string) =>
      h.app.inject({
        method: 'POST',
        url: '/status/subscribe?lang=en',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: body,
        remoteAddress: '192.0.2.44',
      });
    const bad = await form(`component=${serviceId}&email=kari%40nowhere&website=`);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('email: not an email address');
    expect(bad.body).toContain('value="kari@nowhere"');
    expect(bad.body).toContain('aria-invalid="true"');
    const ok = await form(`component=${serviceId}&email=form%40uib.example&website=`);
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('Check your inbox');
    expect((await rows()).map((r) => r.address)).toContain('form@uib.example');
  });
});
