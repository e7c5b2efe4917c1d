/**
 * Every outbound message through the one port (`deliver`, patched 'deliver-everywhere'), on a real
 * dev server and worker with the real record store and SMTP server:
 * - a contact without notification rules is paged by email through `deliver`: the same mail as
 *   before (the one-click link, the HTML Acknowledge button), the same timeline line, the attempt in
 *   the incident's deliveries (channel email, outcome sent) and the page in the shared sent ledger;
 * - the resolved notice goes through `deliver` from the hand-off workflow: queued in the incident's
 *   deliveries, in the sent ledger as an email;
 * - a hand-off started by an older incident run (mails, not deliveries) goes through `deliver` too,
 *   under the same keys;
 * - the histories name `deliver` and no `sendEmail`, carry the marker, and replay; a hand-off
 *   history recorded with `sendEmail` (before the marker) still replays.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import type { IncidentView } from '../../domain/incident.js';
import { deliveryWorkflow } from '../../workflows/delivery.js';

const eventType = temporal.api.enums.v1.EventType;
type History = temporal.api.history.v1.IHistory;

/** Activity types scheduled and patch markers recorded in a history. */
function commandsOf(h: History) {
  const activities: string[] = [];
  const markers: string[] = [];
  for (const e of h.events ?? []) {
    if (e.eventType === eventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
      activities.push(e.activityTaskScheduledEventAttributes?.activityType?.name ?? '');
    if (e.eventType === eventType.EVENT_TYPE_MARKER_RECORDED) {
      const id = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
      if (id) markers.push((JSON.parse(Buffer.from(id).toString('utf8')) as { id: string }).id);
    }
  }
  return { activities, markers };
}

const replay = (h: History, id: string) =>
  Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, h, id);

/** RECORD_DELIVER_HISTORY=<dir> keeps this run's histories as replay fixtures (test/fixtures/). */
function keep(workflowId: string, file: string) {
  const dir = process.env.RECORD_DELIVER_HISTORY;
  if (!dir) return;
  const json = execFileSync(inject('temporalCli'), [
    'workflow',
    'show',
    '--address',
    inject('temporalAddress'),
    '-w',
    workflowId,
    '--output',
    'json',
  ]);
  writeFileSync(path.join(dir, file), json);
}

describe('every message through deliver', () => {
  let smtp: TestSmtpServer;
  let h: Harness;
  let serviceId: string;

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

  const post = (url: string, payload: object, who: string) =>
    h.app.inject({ method: 'POST', url, payload, headers: h.auth(who) });
  const view = async (id: string) =>
    (await h.app.inject({ url: `/api/incidents/${id}`, headers: h.auth('per') })).json() as IncidentView;
  const ledger = async () =>
    (
      await h.store.db.query<{ idempotency_key: string; channel: string }>(
        'SELECT idempotency_key, channel FROM sent_ledger ORDER BY sent_at',
      )
    ).rows;

  it('a page without rules and the resolved notice: in the deliveries and the sent ledger, as email', async () => {
    const declared = await post(
      '/api/incidents',
      { service: serviceId, reason: 'exports are late', skipVerify: true },
      'kari',
    );
    expect(declared.statusCode, declared.body).toBe(201);
    const { id, workflowId } = (declared.json() as { incident: IncidentView }).incident;

    // The page, as before: the one-click link in the text and as the HTML button.
    const page = await smtp.waitFor((m) => m.to.includes('kari@test.local'), 30_000);
    expect(page.subject).toMatch(/level 1 page$/);
    const link = / {2}- one click: (\S+\/ack\/[A-Za-z0-9_.-]+)/.exec(page.text)?.[1];
    expect(link).toBeDefined();
    expect(page.html).toContain(`data-role="ack" href="${link}"`);
    let v = await eventually(
      async () => {
        const x = await view(id);
        return x.deliveries?.some((d) => d.recipientId === 'kari') ? x : undefined;
      },
      20_000,
      "Kari's delivery",
    );
    expect(v.timeline.map((e) => e.detail)).toContain(
      'level 1: paged Kari Nordmann <kari@test.local> by email',
    );
    expect(v.deliveries).toEqual([
      expect.objectContaining({
        channel: 'email',
        recipientId: 'kari',
        outcome: 'sent',
        detail: 'level 1: paged Kari Nordmann <kari@test.local> by email',
      }),
    ]);
    expect(await ledger()).toEqual([
      { idempotency_key: expect.stringMatching(/\/page-1\/kari$/), channel: 'email' },
    ]);

    // Acknowledged with the link from the mail, then resolved: Kari gets the resolved notice.
    const acked = await h.app.inject({ method: 'POST', url: `/ack/${link!.split('/ack/')[1]}` });
    expect(acked.statusCode, acked.body).toBe(200);
    const done = await post(`/api/incidents/${id}/force-resolve`, { reason: 'export job restarted' }, 'kari');
    expect(done.statusCode, done.body).toBe(200);
    const notice = await smtp.waitFor(
      (m) => m.to.includes('kari@test.local') && /RESOLVED/.test(m.subject),
      30_000,
    );
    expect(notice.html).toMatch(/data-role="kind"[^>]*>Resolved</);
    v = await eventually(
      async () => {
        const x = await view(id);
        return x.timeline.some((e) => e.kind === 'postmortem') ? x : undefined;
      },
      20_000,
      'the closed incident in the store',
    );
    expect(v.timeline.map((e) => e.detail)).toContain('resolved notice on its way to kari@test.local');
    // Queued at the hand-off, then its outcome from the hand-off workflow, after the incident closed.
    v = await eventually(
      async () => {
        const x = await view(id);
        return (x.deliveries?.length ?? 0) >= 3 ? x : undefined;
      },
      20_000,
      "the resolved notice's outcome in the deliveries",
    );
    expect(v.deliveries!.map((d) => `${d.recipientId}:${d.channel}:${d.outcome}`)).toEqual([
      'kari:email:sent',
      'kari:email:queued',
      'kari:email:sent',
    ]);
    expect(v.deliveries![1]!.detail).toBe(
      'resolved notice to Kari Nordmann <kari@test.local> by email queued',
    );
    expect(v.deliveries![2]!.detail).toBe('resolved notice sent to Kari Nordmann <kari@test.local> by email');
    // Not a second timeline line: the timeline said it is on its way.
    expect(v.timeline.map((e) => e.detail)).not.toContain(
      'resolved notice sent to Kari Nordmann <kari@test.local> by email',
    );
    // The page and the notice (the postmortem's draft to Kari, the owner, may be there as well).
    const rows = await eventually(
      async () => {
        const r = (await ledger()).filter((x) => /\/(page-1|resolved)\/kari$/.test(x.idempotency_key));
        return r.length === 2 ? r : undefined;
      },
      10_000,
      'the resolved notice in the sent ledger',
    );
    expect(rows[1]).toEqual({
      idempotency_key: expect.stringMatching(/\/resolved\/kari$/),
      channel: 'email',
    });
    expect(
      smtp.messages.filter((m) => m.to.includes('kari@test.local') && !/postmortem/i.test(m.subject)),
    ).toHaveLength(2);

    // The histories: deliver, never sendEmail, behind the marker; both replay.
    const incident = await h.client.workflow.getHandle(workflowId).fetchHistory();
    const child = h.client.workflow.getHandle(`resolved-notice-${id}`);
    expect(await child.result()).toEqual({ sent: ['kari@test.local'], failed: [] });
    const handOff = await child.fetchHistory();
    for (const hist of [incident, handOff]) {
      const c = commandsOf(hist);
      expect(c.activities).toContain('deliver');
      expect(c.activities).not.toContain('sendEmail');
      expect(c.markers).toContain('deliver-everywhere');
    }
    await replay(incident, workflowId);
    await replay(handOff, `resolved-notice-${id}`);
    keep(workflowId, 'deliver-everywhere.history.json');
    keep(`resolved-notice-${id}`, 'resolved-notice-deliver.child-history.json');
  }, 90_000);

  it('a resolved notice the mail server refuses for good: failed in the deliveries and said in the timeline', async () => {
    const declared = await post(
      '/api/incidents',
      { service: `${serviceId}-host`, reason: 'the host does not answer', skipVerify: true },
      'kari',
    );
    expect(declared.statusCode, declared.body).toBe(201);
    const { id } = (declared.json() as { incident: IncidentView }).incident;
    await smtp.waitFor(
      (m) => m.to.includes('kari@test.local') && /host does not answer|level 1/.test(m.subject + m.text),
      30_000,
    );
    await eventually(
      async () => (await view(id)).deliveries?.some((d) => d.outcome === 'sent'),
      20_000,
      'the page',
    );
    // The next message (the resolved notice) is refused at RCPT with a permanent 550.
    smtp.rejectNext(550, '5.1.1 mailbox unavailable', 'rcpt');
    const done = await post(`/api/incidents/${id}/force-resolve`, { reason: 'host replaced' }, 'kari');
    expect(done.statusCode, done.body).toBe(200);
    const v = await eventually(
      async () => {
        const x = await view(id);
        // The delivery row and the timeline line are two writes: wait for both.
        const f = x.deliveries?.find((d) => d.outcome === 'failed');
        return f && x.timeline.some((e) => e.detail === f.detail) ? x : undefined;
      },
      30_000,
      "the resolved notice's failure, in the deliveries and the timeline",
    );
    const failed = v.deliveries!.filter((d) => d.outcome === 'failed');
    expect(failed).toEqual([
      expect.objectContaining({
        channel: 'email',
        recipientId: 'kari',
        detail: expect.stringMatching(
          /^resolved notice to Kari Nordmann <kari@test\.local> could not be sent: .*550/,
        ),
      }),
    ]);
    expect(v.timeline.map((e) => e.detail)).toContain(failed[0]!.detail);
  }, 90_000);

  it("a hand-off an older run started (mails, not deliveries) goes through deliver under the mails' keys", async () => {
    const key = `incident-old/run-1/resolved/ola`;
    const handle = await h.client.workflow.start(deliveryWorkflow, {
      taskQueue: h.taskQueue,
      workflowId: `resolved-notice-old-${Date.now()}`,
      args: [
        {
          mails: [
            {
              idempotencyKey: key,
              to: [{ name: 'Ola Hansen', email: 'ola@test.local' }],
              subject: '[P1] Old service: RESOLVED after 5m',
              text: 'Hi Ola Hansen,\nIt is resolved.\n',
            },
          ],
        },
      ],
    });
    expect(await handle.result()).toEqual({ sent: ['ola@test.local'], failed: [] });
    const got = await smtp.waitFor((m) => m.subject === '[P1] Old service: RESOLVED after 5m');
    expect(got.text).toBe('Hi Ola Hansen,\nIt is resolved.\n');
    expect(got.html).toMatch(/data-role="kind"[^>]*>Resolved</);
    expect((await ledger()).find((r) => r.idempotency_key === key)).toEqual({
      idempotency_key: key,
      channel: 'email',
    });
    const hist = await handle.fetchHistory();
    expect(commandsOf(hist).activities).toEqual(['deliver']);
    await replay(hist, handle.workflowId);
  });

  it('a hand-off recorded with sendEmail, before the marker, still replays', async () => {
    const file = path.resolve('test/fixtures/resolved-notice-send-email.child-history.json');
    const hist = historyFromJSON(JSON.parse(readFileSync(file, 'utf8')));
    const c = commandsOf(hist);
    expect(c.activities).toEqual(['sendEmail']);
    expect(c.markers).toEqual([]);
    await expect(replay(hist, 'resolved-notice-send-email')).resolves.toBeUndefined();
  });

  it('the new hand-off history replays (fixture)', async () => {
    const file = path.resolve('test/fixtures/resolved-notice-deliver.child-history.json');
    const hist = historyFromJSON(JSON.parse(readFileSync(file, 'utf8')));
    expect(commandsOf(hist)).toEqual({ activities: ['deliver'], markers: ['deliver-everywhere'] });
    await expect(replay(hist, 'resolved-notice-deliver')).resolves.toBeUndefined();
  });
});
