/**
 * Status page subscribers, end to end on the real stack (Temporal dev server, worker, PostgreSQL
 * record store, API, a real SMTP server): with the example configuration's services, contacts,
 * policies and its 25 subscribing institutions, an incident's public status message reaches all 25
 * by email within a minute of publication, and so does the resolution; each mail carries a signed
 * unsubscribe link. A retry mails nobody twice (the shared sent ledger), and an unsubscribed
 * institution gets nothing more.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../config/load.js';
import type { Config } from '../../domain/config-schema.js';
import { createEmailNotifier } from '../../activities/notifiers/email.js';
import { createSubscriberLinks } from '../../activities/subscriber-links.js';
import { createSubscriberRecords } from '../../store/subscribers.js';
import { createSubscriberNotices } from '../../worker/subscriber-notices.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../helpers/smtp-server.js';
import { startHttpService, type HttpService } from '../helpers/http-service.js';

const component = 'Student system → Canvas integration';

describe('subscribers of the example configuration', () => {
  let h: Harness;
  let smtp: TestSmtpServer;
  let config: Config;
  let serviceId: string;
  let notices: ReturnType<typeof createSubscriberNotices>;
  let mailer: ReturnType<typeof createEmailNotifier>;
  let second: ReturnType<typeof createEmailNotifier> | undefined;
  let tmp: string;
  let hook: HttpService;
  let links: ReturnType<typeof createSubscriberLinks>;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    hook = await startHttpService({ status: 204 });
    const example = loadConfigFile(path.join(import.meta.dirname, '../../config/example.yaml'));
    // The example's services under ids of this test's own (workflow ids are per namespace), without
    // its probes of hosts that do not exist here (a resolve is then taken on the responder's word).
    const suffix = randomUUID().slice(0, 8);
    const rename = (id: string) => `${id}-${suffix}`;
    serviceId = rename('fs-canvas');
    config = {
      ...example,
      services: example.services.map((s) => ({ ...s, id: rename(s.id), dependsOn: s.dependsOn.map(rename) })),
      checks: [],
      integrations: [],
      maintenance: [],
    };
    expect(config.services.find((s) => s.id === serviceId)?.subscribers.filter((s) => s.email)).toHaveLength(
      25,
    );
    h = await startHarness({ config, smtpUrl: smtp.url });
    // The worker signs with ACK_LINK_SECRET, as the API that verifies does.
    links = createSubscriberLinks({ secret: h.ackLinkSecret, baseUrl: 'http://127.0.0.1:3000' });
    tmp = mkdtempSync(path.join(tmpdir(), 'subscribers-'));
    mailer = createEmailNotifier({
      smtpUrl: smtp.url,
      outboxDir: path.join(tmp, 'outbox'),
      ledgerDir: path.join(tmp, 'sent'),
      from: 'Status <status@test.local>',
      log: () => undefined,
    });
    // A webhook subscriber too (a local receiver: http, so straight into the store, past the
    // API's https-only check, and the loop allowed to post over http).
    await createSubscriberRecords(h.store.records.db).subscribe({
      component: serviceId,
      kind: 'webhook',
      address: `${hook.url}/status-hook`,
    });
    // What worker/main.ts runs: the loop over the record store.
    notices = createSubscriberNotices({
      config: () => config,
      subscribers: createSubscriberRecords(h.store.records.db),
      records: h.store.records,
      email: mailer,
      links,
      publicBaseUrl: 'http://127.0.0.1:3000',
      allowHttpWebhooks: true,
      log: () => undefined,
    });
    notices.start(2_000);
  }, 60_000);
  afterAll(async () => {
    await notices?.stop();
    mailer?.close();
    second?.close();
    await h?.close();
    await smtp?.close();
    await hook?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const institutions = () =>
    config.services.find((s) => s.id === serviceId)!.subscribers.map((s) => s.email!.toLowerCase());
  const toSubscribers = (subject: RegExp) => (m: ReceivedMail) =>
    subject.test(m.subject) && m.to.some((t) => institutions().includes(t.toLowerCase()));

  it('mails the public message to all 25 within a minute, then the resolution, each with an unsubscribe link', async () => {
    const declared = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('kari'),
      payload: { service: serviceId, reason: 'the nightly FS export did not arrive', skipVerify: true },
    });
    expect(declared.statusCode).toBe(201);
    const id = declared.json().incident.id as string;
    // P1 publishes its first public message by itself once verified.
    const published = await eventually(
      async () => (await h.incidents.get(id)).status[0],
      20_000,
      'the public message',
    );
    const updates = await smtp.waitForCount(toSubscribers(/^\[Investigating\] /), 25, 60_000);
    const publishedAt = Date.parse(published.at);
    const latest = Math.max(...updates.map((m) => m.receivedAt.getTime()));
    console.log(
      `25 status mails, the last ${((latest - publishedAt) / 1000).toFixed(1)} s after publication`,
    );
    expect(latest - publishedAt).toBeLessThan(60_000);
    expect(new Set(updates.flatMap((m) => m.to.map((t) => t.toLowerCase())))).toEqual(
      new Set(institutions()),
    );
    const first = updates[0]!;
    expect(first.subject).toBe(`[Investigating] ${component}`);
    expect(first.text).toContain(published.message);
    const unsubscribe = /Unsubscribe: (\S+)/.exec(first.text)?.[1];
    expect(unsubscribe).toMatch(
      /^http:\/\/127\.0\.0\.1:3000\/subscriptions\/unsubscribe\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/,
    );
    expect(first.headers['list-unsubscribe']).toBe(`<${unsubscribe}>`);
    expect(first.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(links.verifyUnsubscribe(unsubscribe!.split('/unsubscribe/')[1]!)).toEqual({
      component: serviceId,
      kind: 'email',
      address: first.to[0]!.toLowerCase(),
    });
    // Nobody's secret is in the workflow's history: the links are signed outside it.
    const history = JSON.stringify(await h.client.workflow.getHandle(`incident-${serviceId}`).fetchHistory());
    expect(history).not.toContain(h.ackLinkSecret);
    expect(history).not.toContain('/subscriptions/unsubscribe/');

    // A retry on another worker (the notice marked undone, as if the first died before finishing;
    // a mailer with a ledger of its own on this host): the shared sent ledger mails nobody twice.
    await notices.stop();
    await h.store.records.db.query('DELETE FROM subscriber_notices WHERE incident_id = $1', [id]);
    second = createEmailNotifier({
      smtpUrl: smtp.url,
      outboxDir: path.join(tmp, 'outbox2'),
      ledgerDir: path.join(tmp, 'sent2'),
      from: 'Status <status@test.local>',
      log: () => undefined,
    });
    notices = createSubscriberNotices({
      config: () => config,
      subscribers: createSubscriberRecords(h.store.records.db),
      records: h.store.records,
      email: second,
      links,
      publicBaseUrl: 'http://127.0.0.1:3000',
      allowHttpWebhooks: true,
      log: () => undefined,
    });
    expect(await notices.tick()).toMatchObject({ sent: 0, failed: 0, notices: 1 });
    expect(smtp.messages.filter(toSubscribers(/^\[Investigating\] /))).toHaveLength(25);
    notices.start(2_000);

    // The first institution unsubscribes (the API's POST of the link) and gets no resolution mail.
    const gone = await h.app.inject({ method: 'POST', url: new URL(unsubscribe!).pathname });
    expect(gone.statusCode).toBe(200);

    const resolved = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${id}/resolve`,
      headers: h.auth('kari'),
      payload: { note: 'the firewall rule is back' },
    });
    expect(resolved.statusCode).toBe(200);
    const closed = await eventually(
      async () => {
        const v = await h.incidents.get(id);
        return v.state === 'resolved' && v;
      },
      20_000,
      'resolved',
    );
    const resolutions = await smtp.waitForCount(toSubscribers(/^\[Resolved\] /), 24, 60_000);
    const closedAt = Date.parse(closed.resolvedAt ?? closed.closedAt!);
    const last = Math.max(...resolutions.map((m) => m.receivedAt.getTime()));
    console.log(`24 resolution mails, the last ${((last - closedAt) / 1000).toFixed(1)} s after resolution`);
    expect(last - closedAt).toBeLessThan(60_000);
    expect(resolutions[0]!.subject).toBe(`[Resolved] ${component}`);
    expect(resolutions[0]!.text).toContain(`${component} is working normally again`);
    expect(
      resolutions.some((m) => m.to.map((t) => t.toLowerCase()).includes(first.to[0]!.toLowerCase())),
    ).toBe(false);
    // The webhook subscriber got each, as JSON with its own unsubscribe link.
    await eventually(async () => hook.requests.length >= 2, 15_000, 'two webhook notices');
    const posts = hook.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(hook.requests.every((r) => r.url === '/status-hook' && r.method === 'POST')).toBe(true);
    // Every published message, then the resolution. No "monitoring": no probe is configured, so
    // nothing proved that a fix is in place (#13 item 3).
    expect(posts.map((p) => [p.type, p.state])).toEqual([
      ['incident.status', 'investigating'],
      ['incident.resolved', 'resolved'],
    ]);
    expect(posts[0]).toMatchObject({
      component: { id: serviceId, name: component },
      incident: id,
      state: 'investigating',
      message: published.message,
      unsubscribeUrl: expect.stringMatching(/\/subscriptions\/unsubscribe\//),
    });
    // Once each: a further look sends nothing.
    await new Promise((r) => setTimeout(r, 4_500));
    expect(smtp.messages.filter(toSubscribers(/^\[Resolved\] /))).toHaveLength(24);
    expect(hook.requests).toHaveLength(2);
    expect(smtp.messages.filter(toSubscribers(/^\[Monitoring\] /))).toHaveLength(0);
  }, 180_000);
});
