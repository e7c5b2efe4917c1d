/**
 * A mail the workflow wrote whole (a page to a contact without rules, a resolved notice) through the
 * one outbound port, `deliver` with kind email, against the real SMTP server and the real record
 * store: it arrives exactly as `sendEmail` sends it (the same text with the signed one-click link in
 * its place, the same HTML part with the Acknowledge button, or the green Resolved card), it is in
 * the shared sent ledger as an email, and a retry after a lost reply (on another host, whose own
 * ledger folder is empty) sends nothing a second time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { createAckLinks } from '../../activities/ack-links.js';
import { createEmailNotifier } from '../../activities/notifiers/email.js';
import type { Delivery } from '../../activities/deliver.js';
import { pageMail, resolvedMail } from '../../domain/templates.js';
import { buildIncidentView, buildOpenIncidentView, people } from '../helpers/incident-fixture.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { freshStore, type TestStore } from '../helpers/store.js';

describe('deliver: email written whole by the workflow', () => {
  let smtp: TestSmtpServer;
  let store: TestStore;
  let dir: string;
  const ackLinks = createAckLinks({
    secret: randomBytes(32).toString('base64url'),
    baseUrl: 'https://incidents.example',
  });
  const links = {
    incidentUrl: 'https://incidents.example/api/incidents/inc-1',
    consoleUrl: 'https://incidents.example/console/incidents/inc-1',
  };
  /** One host: its own mail transport and ledger folder, the shared record store. */
  const host = (name: string) => {
    const email = createEmailNotifier({
      smtpUrl: smtp.url,
      outboxDir: join(dir, name, 'outbox'),
      ledgerDir: join(dir, name, 'sent'),
      from: 'Incidents <incidents@example.test>',
      log: () => {},
    });
    const activities = createActivities({
      email,
      env: {},
      ackLinks,
      records: store.records,
      workerName: name,
      log: () => {},
    });
    return { activities, close: () => email.close() };
  };
  const asDelivery = (
    key: string,
    mail: { subject: string; text: string },
    kind: 'page' | 'resolved',
  ): Delivery => ({
    kind: 'email',
    idempotencyKey: key,
    to: people.owner.email,
    recipient: { id: people.owner.id, name: people.owner.name },
    page: {
      incidentId: 'inc-1',
      title: mail.subject.replace(/^\[[^\]]*\]\s*/, ''),
      text: mail.text,
      severity: 'P1',
      service: 'fs',
      consoleUrl: links.consoleUrl,
    },
    mail: { subject: mail.subject, kind },
    ackLink: kind === 'page',
  });
  /** The signed link differs per signing; everything else must not. */
  const unsigned = (s: string | undefined) => (s ?? '').replace(/\/ack\/[A-Za-z0-9_.-]+/g, '/ack/<token>');

  beforeAll(async () => {
    smtp = await startSmtpServer();
    store = await freshStore();
    dir = await mkdtemp(join(tmpdir(), 'deliver-email-'));
  });
  afterAll(async () => {
    await smtp?.close();
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a page goes as sendEmail sent it: same subject, text with the one-click link, same HTML', async () => {
    const a = host('host-a');
    const view = buildOpenIncidentView(1);
    const m = pageMail(view, { level: 1, cycle: 0, reason: 'initial' }, people.owner, links, {
      kind: 'nobody',
    });
    const viaSendEmail = await a.activities.sendEmail({
      idempotencyKey: 'wf/run/page-1/owner-old',
      to: [people.owner],
      subject: m.subject,
      text: m.text,
      ackLink: { incidentId: 'inc-1', recipientId: people.owner.id },
    });
    const viaDeliver = await a.activities.deliver(asDelivery('wf/run/page-1/owner', m, 'page'));
    a.close();
    expect(viaSendEmail.duplicate).toBe(false);
    expect(viaDeliver).toMatchObject({ kind: 'email', status: 'accepted', duplicate: false });

    const [old, now] = await smtp.waitForCount((x) => x.to.includes(people.owner.email), 2);
    expect(now!.subject).toBe(m.subject);
    expect(now!.subject).toBe(old!.subject);
    expect(now!.to).toEqual([people.owner.email]);
    expect(unsigned(now!.text)).toBe(unsigned(old!.text));
    expect(unsigned(now!.html)).toBe(unsigned(old!.html));
    // The signed link where the page has its place for it, and as the HTML's Acknowledge button.
    const link = / {2}- one click: (https:\/\/incidents\.example\/ack\/\S+)/.exec(now!.text)?.[1];
    expect(link).toBeDefined();
    expect(ackLinks.verify(link!.split('/ack/')[1]!)).toMatchObject({
      ok: true,
      claims: { incidentId: 'inc-1', recipientId: people.owner.id },
    });
    expect(now!.html).toContain(`data-role="ack" href="${link}"`);
    expect(now!.text).not.toContain('\nAcknowledge: ');
    // The signing secret is not in what the workflow hands over.
    expect(JSON.stringify(asDelivery('k', m, 'page'))).not.toContain('/ack/');

    const row = await store.records.ledgerGet('wf/run/page-1/owner');
    expect(row).toMatchObject({ channel: 'email', messageId: now!.messageId });
  });

  it('the resolved notice: the green Resolved card; a retry after a lost reply sends nothing again', async () => {
    const view = buildIncidentView();
    const m = resolvedMail(view, people.owner, links);
    const d = { ...asDelivery('wf/run/resolved/owner', m, 'resolved'), ackLink: undefined };
    const a = host('host-c');
    const first = await a.activities.deliver(d);
    a.close();
    expect(first).toMatchObject({ kind: 'email', duplicate: false });
    const got = await smtp.waitFor((x) => x.subject === m.subject);
    expect(got.text).toBe(m.text);
    expect(got.html).toContain('data-role="kind"');
    expect(got.html).toMatch(/data-role="kind"[^>]*>Resolved</);
    expect(got.html).not.toContain('data-role="ack"');

    // Temporal never heard of the send (the worker died): the retry runs on another host, whose own
    // ledger folder has nothing. The shared ledger has the row, so nothing goes out again.
    const b = host('host-d');
    const retry = await b.activities.deliver(d);
    b.close();
    expect(retry).toMatchObject({ kind: 'email', duplicate: true, messageId: got.messageId });
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.messages.filter((x) => x.subject === m.subject)).toHaveLength(1);
    const ledger = await store.db.query<{ channel: string; worker: string }>(
      'SELECT channel, worker FROM sent_ledger WHERE idempotency_key = $1',
      ['wf/run/resolved/owner'],
    );
    expect(ledger.rows).toEqual([{ channel: 'email', worker: 'host-c' }]);
  });
});
