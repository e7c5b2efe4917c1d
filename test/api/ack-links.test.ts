/**
 * One-click acknowledge links: signing and verification, the link in a real page mail, and the
 * pages for valid, forged, tampered, malformed, expired, replayed and foreign links against a real
 * Temporal dev server. Only the POST of a valid, unused link changes anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAckLinks } from '../../activities/ack-links.js';
import { createActivities } from '../../activities/index.js';
import type { OutgoingMail } from '../../activities/notifiers/email.js';
import { insertAckUrl } from '../../domain/templates.js';
import type { IncidentView } from '../../domain/incident.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';

const secret = 'a-test-secret-of-enough-length';
const base = 'https://incidents.example.edu';

describe('ack link signing', () => {
  const links = createAckLinks({ secret, baseUrl: `${base}/` });

  it('binds incident, recipient and expiry, and verifies its own tokens', () => {
    const url = links.url('fs-canvas.0b6f7c1e-2d3a-4e5f-8a9b-0c1d2e3f4a5b', 'kari');
    expect(url).toMatch(/^https:\/\/incidents\.example\.edu\/ack\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    const v = links.verify(url.split('/ack/')[1]!);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.claims).toMatchObject({
      incidentId: 'fs-canvas.0b6f7c1e-2d3a-4e5f-8a9b-0c1d2e3f4a5b',
      recipientId: 'kari',
    });
    expect(v.claims.expiresAt - v.claims.issuedAt).toBe(24 * 60 * 60 * 1000);
  });

  it('rejects another key, a changed payload or signature, garbage and expired tokens', () => {
    const token = links.sign('svc.1', 'kari');
    const [payload, sig] = token.split('.') as [string, string];
    expect(
      createAckLinks({ secret: 'another-secret-of-enough-length', baseUrl: base }).verify(token),
    ).toEqual({
      ok: false,
      reason: 'forged',
    });
    const otherPayload = Buffer.from(
      Buffer.from(payload, 'base64url').toString().replace('~kari~', '~ola~'),
    ).toString('base64url');
    expect(links.verify(`${otherPayload}.${sig}`)).toEqual({ ok: false, reason: 'forged' });
    expect(links.verify(`${payload}.${sig.slice(0, -2)}AA`)).toMatchObject({ ok: false, reason: 'forged' });
    for (const junk of ['', 'x', 'a.b', `${payload}.${sig}.x`, '<script>', '../../etc/passwd'])
      expect(links.verify(junk)).toEqual({ ok: false, reason: 'malformed' });
    const past = createAckLinks({ secret, baseUrl: base, now: () => Date.now() - 25 * 60 * 60 * 1000 });
    expect(links.verify(past.sign('svc.1', 'kari'))).toMatchObject({ ok: false, reason: 'expired' });
    expect(() => createAckLinks({ secret: 'short', baseUrl: base })).toThrow(/16 characters/);
    expect(() => links.sign('svc.1', 'kari~x')).toThrow();
  });

  it('signs receipt links for their own purpose: an ack token is no receipt, nor the reverse', () => {
    const url = links.receiptUrl('svc.r1', 'kari', 'sms');
    expect(url).toMatch(new RegExp(`^${base}/api/receipts/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}$`));
    const token = url.split('/').pop()!;
    expect(links.verifyReceipt(token)).toEqual({
      ok: true,
      claims: { incidentId: 'svc.r1', recipientId: 'kari', channel: 'sms' },
    });
    expect(links.verifyReceipt(links.sign('svc.r1', 'kari'))).toMatchObject({ ok: false, reason: 'forged' });
    expect(links.verify(token)).toMatchObject({ ok: false, reason: 'forged' });
    const old = createAckLinks({ secret, baseUrl: base, now: () => Date.now() - 8 * 24 * 60 * 60 * 1000 });
    expect(links.verifyReceipt(old.receiptUrl('svc.r1', 'kari', 'sms').split('/').pop()!)).toEqual({
      ok: false,
      reason: 'expired',
    });
    expect(links.verifyReceipt('garbage')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('puts the link where the page mail offers acknowledging, once', () => {
    const text = [
      'Hi Kari,',
      '',
      'Acknowledge, so the escalation stops:',
      '  - with the API:',
      '    curl -X POST …',
      '',
    ].join('\n');
    const out = insertAckUrl(text, `${base}/ack/t`);
    expect(out).toContain(
      `Acknowledge, so the escalation stops:\n  - one click: ${base}/ack/t\n  - or with the API:\n`,
    );
    expect(insertAckUrl(out, `${base}/ack/t`)).toBe(out);
    expect(insertAckUrl('No section here.\n', `${base}/ack/t`)).toBe(
      `No section here.\n\nAcknowledge with one click: ${base}/ack/t\n`,
    );
  });

  it('is added by the sendEmail activity only for pages, and only with a key', async () => {
    const sent: OutgoingMail[] = [];
    const email = {
      send: async (m: OutgoingMail) => (
        sent.push(m),
        { transport: 'smtp' as const, messageId: 'x', duplicate: false }
      ),
    };
    const mail: OutgoingMail = {
      idempotencyKey: 'k',
      to: [{ email: 'kari@test.local' }],
      subject: 's',
      text: 'Acknowledge, so the escalation stops:\n  - with the API:\n',
    };
    await createActivities({ email, env: {}, ackLinks: links }).sendEmail({
      ...mail,
      ackLink: { incidentId: 'svc.1', recipientId: 'kari' },
    });
    await createActivities({ email, env: {}, ackLinks: links }).sendEmail(mail);
    await createActivities({ email, env: {} }).sendEmail({
      ...mail,
      ackLink: { incidentId: 'svc.1', recipientId: 'kari' },
    });
    expect(sent[0]!.text).toMatch(/one click: https:\/\/incidents\.example\.edu\/ack\/\S+/);
    expect(sent[0]).not.toHaveProperty('ackLink');
    expect(sent[1]!.text).toBe(mail.text);
    expect(sent[2]!.text).toBe(mail.text);
  });
});

describe('ack link pages', () => {
  let smtp: TestSmtpServer;
  let h: Harness;
  let serviceId: string;
  let incidentId: string;
  let token: string;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    const t = testConfig({ levelTimeout: '10m' });
    serviceId = t.serviceId;
    h = await startHarness({ config: t.config, smtpUrl: smtp.url });
  });
  afterAll(async () => {
    await h?.close();
    await smtp?.close();
  });

  const view = async () =>
    (
      await h.app.inject({ method: 'GET', url: `/api/incidents/${incidentId}`, headers: h.auth('per') })
    ).json() as IncidentView;
  const acks = async () => (await view()).timeline.filter((e) => e.kind === 'acknowledged');
  const open = (method: 'GET' | 'POST', t: string, headers: Record<string, string> = {}) =>
    h.app.inject({ method, url: `/ack/${t}`, headers });

  it('puts a signed link into the page mail; opening it only asks for confirmation', async () => {
    const declared = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('per'),
      payload: { service: serviceId, reason: 'export unreachable', skipVerify: true },
    });
    expect(declared.statusCode).toBe(201);
    incidentId = declared.json().incident.id;
    const mail = await smtp.waitFor((m) => m.to.includes('kari@test.local'), 15_000);
    const link = /one click: (\S+)/.exec(mail.text)?.[1];
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:3000\/ack\/[A-Za-z0-9_.-]+$/);
    expect(mail.text).toContain('  - or with the API:');
    token = link!.split('/ack/')[1]!;

    // A mail scanner opening the link (twice) changes nothing.
    for (let i = 0; i < 2; i++) {
      const r = await open('GET', token);
      expect(r.statusCode).toBe(200);
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(r.body).toContain('Acknowledge this incident?');
      expect(r.body).toContain('You are acknowledging as Kari Nordmann.');
      expect(r.body).toMatch(
        new RegExp(`<form method="post" action="/ack/${token.replace(/[.]/g, '\\.')}">`),
      );
    }
    expect(await acks()).toHaveLength(0);
    expect((await view()).state).toBe('triggered');
  });

  it('refuses forged, tampered, malformed and expired links with a page that says why', async () => {
    const forged = createAckLinks({ secret: 'not-the-real-secret-at-all', baseUrl: base }).sign(
      incidentId,
      'kari',
    );
    const [payload, sig] = token.split('.') as [string, string];
    const asOla = Buffer.from(
      Buffer.from(payload, 'base64url').toString().replace('~kari~', '~ola~'),
    ).toString('base64url');
    const expired = createAckLinks({
      secret: h.ackLinkSecret,
      baseUrl: base,
      now: () => Date.now() - 25 * 60 * 60 * 1000,
    }).sign(incidentId, 'kari');
    const cases: [string, number, RegExp][] = [
      [forged, 403, /signature does not match/],
      [`${asOla}.${sig}`, 403, /signature does not match/],
      ['not-a-token', 400, /not an acknowledge link/],
      [encodeURIComponent('<script>alert(1)</script>'), 400, /not an acknowledge link/],
      [expired, 410, /has expired/],
    ];
    for (const [t, status, why] of cases) {
      for (const method of ['GET', 'POST'] as const) {
        const r = await open(method, t);
        expect(r.statusCode, `${method} ${t}`).toBe(status);
        expect(r.headers['content-type']).toMatch(/^text\/html/);
        expect(r.body).toMatch(why);
        expect(r.body).toContain('Nothing was changed.');
        expect(r.body).not.toContain('<script>alert');
      }
    }
    const nb = await open('GET', expired, { 'accept-language': 'nb' });
    expect(nb.statusCode).toBe(410);
    expect(nb.body).toContain('Lenken er utløpt');
    expect(await acks()).toHaveLength(0);
    expect((await view()).state).toBe('triggered');
  });

  it('acknowledges as the recipient on POST; a replay says it was used and changes nothing', async () => {
    const r = await open('POST', token);
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('Acknowledged');
    const v = await view();
    expect(v.state).toBe('acknowledged');
    expect(v.acknowledgedBy).toBe('kari');
    expect(await acks()).toHaveLength(1);

    for (const method of ['POST', 'GET'] as const) {
      const again = await open(method, token);
      expect(again.statusCode).toBe(409);
      expect(again.body).toContain('Already acknowledged');
      expect(again.body).toMatch(/You acknowledged this incident at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
      expect(again.body).toContain('This link has been used; nothing was changed.');
    }
    expect(await acks()).toHaveLength(1);
    expect((await view()).acknowledgedAt).toBe(v.acknowledgedAt);
  });

  it("says who acknowledged when another recipient's link is used, and that a closed incident is closed", async () => {
    const links = createAckLinks({ secret: h.ackLinkSecret, baseUrl: base });
    const ola = links.sign(incidentId, 'ola');
    const r = await open('POST', ola);
    expect(r.statusCode).toBe(409);
    expect(r.body).toContain('Kari Nordmann acknowledged this incident at');
    expect(await acks()).toHaveLength(1);

    const resolved = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${incidentId}/resolve`,
      headers: h.auth('kari'),
      payload: {},
    });
    expect(resolved.statusCode).toBe(200);
    await eventually(async () => (await view()).state === 'resolved', 15_000, 'resolved');
    const closed = await open('POST', links.sign(incidentId, 'ingrid'));
    expect(closed.statusCode).toBe(409);
    expect(closed.body).toContain('This incident is already resolved. Nothing was changed.');

    const unknown = await open(
      'GET',
      links.sign(`${serviceId}.00000000-0000-4000-8000-000000000000`, 'kari'),
    );
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).toContain('does not exist');
  });

  it('acknowledges exactly once when one link is POSTed five times at once', async () => {
    const declared = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('per'),
      payload: { service: `${serviceId}-host`, reason: 'host down', skipVerify: true },
    });
    expect(declared.statusCode).toBe(201);
    const id = declared.json().incident.id as string;
    const links = createAckLinks({ secret: h.ackLinkSecret, baseUrl: base });
    const link = links.sign(id, 'kari');
    await eventually(async () => (await h.incidents.get(id)).state === 'triggered', 15_000, 'the first page');
    const answers = await Promise.all(Array.from({ length: 5 }, () => open('POST', link)));
    const timeline = (await h.incidents.get(id)).timeline;
    const acked = timeline.filter((e) => e.kind === 'acknowledged');
    console.log(
      'statuses:',
      answers.map((a) => a.statusCode).join(' '),
      '| acknowledgements in the timeline:',
      acked.length,
    );
    expect(acked).toHaveLength(1);
    expect(acked[0]!.actor).toBe('kari');
    for (const a of answers) expect([200, 409]).toContain(a.statusCode);
    expect(answers.filter((a) => a.statusCode === 200).length).toBeGreaterThanOrEqual(1);
    // A later POST of the same link is refused as used.
    const again = await open('POST', link);
    expect(again.statusCode).toBe(409);
    expect((await h.incidents.get(id)).timeline.filter((e) => e.kind === 'acknowledged')).toHaveLength(1);
  });
});
