/**
 * Fault drill: two worker processes on one task queue, each with its own DATA_DIR (two hosts), share
 * the record store's sent ledger. The worker that sends the level-1 page is killed with `kill -9` in
 * the window the shared ledger exists for: the SMTP server has accepted the mail and the worker has
 * written the ledger row, but Temporal never heard that the activity completed. Temporal times the
 * attempt out and the workflow retries the page on the other worker, which finds the ledger row and
 * does not send it again. Every (level, recipient) page arrives exactly once.
 *
 * To hit that window deterministically, the SMTP server holds its answer to the page's DATA (so the
 * test knows which worker is sending it: each worker has its own SMTP port), the test cuts that
 * worker's connection to Temporal (a TCP proxy that closes it and forwards nothing more), releases the
 * 250, waits for the row to appear in `sent_ledger`, and kills the worker: its completion never left
 * the proxy and dies with it.
 *
 * The contrast: the surviving worker's own DATA_DIR/sent has no entry for the page, so the per-host
 * ledger this replaced would have sent it a second time — shown by running the email notifier on a
 * copy of that folder.
 */
import { afterAll, describe, expect, it, inject } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { temporal } from '@temporalio/proto';
import type { IncidentView } from '../../domain/incident.js';
import { createEmailNotifier } from '../../activities/notifiers/email.js';
import { pageKey, startStack, tally, type Stack } from '../helpers/stack.js';
import { testConfig } from '../helpers/config.js';
import { eventually } from '../helpers/harness.js';
import { freshStore, type TestStore } from '../helpers/store.js';
import { startWorkerProcess, type Proc } from '../helpers/processes.js';
import { startHoldingSmtpServer, type HoldingSmtpServer } from '../helpers/holding-smtp.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';

const levelTimeoutMs = 8000;
const email = (id: string) => `${id}@test.local`;
const ledgerFile = (dataDir: string, key: string) =>
  path.join(dataDir, 'sent', `${createHash('sha256').update(key, 'utf8').digest('hex')}.json`);

describe('drill: two workers share the sent ledger; one is killed between send and completion', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'drill-shared-ledger-'));
  const workers: Proc[] = [];
  const proxies: TcpProxy[] = [];
  let smtp: HoldingSmtpServer | undefined;
  let contrastSmtp: TestSmtpServer | undefined;
  let store: TestStore | undefined;
  let api: Stack | undefined;

  afterAll(async () => {
    await api?.close();
    for (const w of workers) await w.stop(5000);
    for (const p of proxies) await p.close();
    await store?.close();
    await smtp?.close();
    await contrastSmtp?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('the retry on the other worker finds the ledger row: every page is delivered exactly once', async () => {
    smtp = await startHoldingSmtpServer({ listeners: 2 });
    store = await freshStore();
    const { config, serviceId } = testConfig({ levelTimeout: `${levelTimeoutMs / 1000}s` });
    const configPath = path.join(tmp, 'config.yaml');
    writeFileSync(configPath, stringify(config));
    const taskQueue = `drill-shared-ledger-${randomUUID()}`;
    const dataDirs = ['host-a', 'host-b'].map((h) => path.join(tmp, h));
    for (const d of dataDirs) mkdirSync(d);
    for (let i = 0; i < 2; i++) proxies.push(await startTcpProxy(inject('temporalAddress')));
    workers.push(
      ...(await Promise.all(
        [0, 1].map((i) =>
          startWorkerProcess({
            configPath,
            temporalAddress: proxies[i]!.address,
            taskQueue,
            dataDir: dataDirs[i]!,
            smtpUrl: smtp!.urls[i],
            databaseUrl: store!.url,
          }),
        ),
      )),
    );
    api = await startStack({ config, taskQueue, databaseUrl: store.url });
    const stack = api;
    const db = store.db;

    // ---- the level-1 page: accepted by the server, in the ledger, never reported to Temporal ----
    const held = smtp.holdNext(60_000);
    const declaring = stack.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: stack.auth('kari'),
      payload: { service: serviceId, reason: 'the export server does not answer', skipVerify: true },
    });
    const hold = await held;
    expect(hold.mail.to).toEqual([email('kari')]);
    expect(hold.mail.subject).toMatch(/level 1 page$/);
    const v = smtp.ports.indexOf(hold.mail.port);
    const victim = workers[v]!;
    const survivor = workers[1 - v]!;
    proxies[v]!.cut();
    hold.release();
    const row = await eventually(
      async () => {
        const r = await db.query<{ idempotency_key: string; worker: string; sent_at: Date }>(
          'SELECT idempotency_key, worker, sent_at FROM sent_ledger',
        );
        return r.rows[0];
      },
      10_000,
      'the ledger row of the level-1 page',
    );
    const rowSeenAt = Date.now();
    const killed = await victim.kill9();
    const killedAt = Date.now();
    expect(killed.signal).toBe('SIGKILL');
    const key = row.idempotency_key;
    expect(key).toMatch(/\/page-1\/kari$/);
    // The row was written by the worker that sent the mail, and that worker said it sent it.
    expect(row.worker).toBe(`${hostname()}:${victim.pid}`);
    await eventually(
      async () => /email: sent/.test(victim.output()),
      2000,
      "the victim's 'email: sent' line",
    );

    const declared = await declaring;
    expect(declared.statusCode, declared.body).toBe(201);
    const id = (declared.json() as { incident: IncidentView }).incident.id;
    const workflowId = (declared.json() as { incident: IncidentView }).incident.workflowId;
    expect(key.startsWith(`${workflowId}/`)).toBe(true);

    // ---- Temporal retries the page on the surviving worker --------------------------------------
    const timeline = async () =>
      (
        await db.query<{ kind: string; detail: string; at: Date }>(
          'SELECT kind, detail, at FROM timeline_events WHERE incident_id = $1 ORDER BY seq',
          [id],
        )
      ).rows;
    const kariPaged = await eventually(
      async () =>
        (await timeline()).find((e) => e.kind === 'paged' && e.detail.includes(`<${email('kari')}>`)),
      90_000,
      'the retried level-1 page in the timeline',
    );
    const retriedAt = kariPaged.at.getTime();

    // The rest of the chain escalates on the survivor, once each.
    await eventually(
      async () => (await timeline()).filter((e) => e.kind === 'paged').length === 4,
      60_000,
      'four pages in the timeline',
    );
    // Stragglers (a page sent twice) would arrive now.
    await new Promise((r) => setTimeout(r, 3000));

    const mails = smtp.messages.filter((m) => m.text.includes(id));
    expect(tally(mails.map(pageKey))).toEqual({
      'level 1 page → kari@test.local': 1,
      'level 2 page → ola@test.local': 1,
      'level 3 page → ingrid@test.local': 1,
      'final fallback page → per@test.local': 1,
    });
    expect(mails).toHaveLength(4);
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(4);
    // Kari's from the killed worker; everything after the kill from the survivor.
    expect(mails.map((m) => m.port)).toEqual([smtp.ports[v], ...Array(3).fill(smtp.ports[1 - v])]);
    // Not sent again: the retry found the shared ledger entry the dead worker wrote.
    expect(kariPaged.detail).toMatch(/by email \(already sent\) \(attempt 2\)$/);

    const events = await timeline();
    const kariLines = events.filter((e) => e.detail.includes(`<${email('kari')}>`));
    expect(kariLines.map((e) => e.kind)).toEqual(['page-failed', 'paged']);
    expect(kariLines[0]!.detail).toMatch(/^attempt 1 to email .* failed: .*timeout.*; retrying in/i);
    expect(events.filter((e) => e.kind === 'page-failed')).toHaveLength(1);
    const attempts = await db.query<{ recipient_id: string; outcome: string }>(
      'SELECT recipient_id, outcome FROM delivery_attempts WHERE incident_id = $1 ORDER BY seq',
      [id],
    );
    expect(attempts.rows.filter((a) => a.recipient_id === 'kari').map((a) => a.outcome)).toEqual([
      'failed',
      'duplicate',
    ]);
    expect(attempts.rows.filter((a) => a.outcome === 'sent').map((a) => a.recipient_id)).toEqual([
      'ola',
      'ingrid',
      'per',
    ]);

    // The shared ledger: one row per page, the first by the dead worker, the rest by the survivor.
    const ledger = await db.query<{ idempotency_key: string; worker: string }>(
      'SELECT idempotency_key, worker FROM sent_ledger ORDER BY sent_at',
    );
    expect(ledger.rows.map((r) => r.worker)).toEqual([
      `${hostname()}:${victim.pid}`,
      ...Array(3).fill(`${hostname()}:${survivor.pid}`),
    ]);

    // ---- the contrast: the per-host ledger would have paged Kari twice ---------------------------
    expect(existsSync(ledgerFile(dataDirs[v]!, key))).toBe(true);
    expect(existsSync(ledgerFile(dataDirs[1 - v]!, key))).toBe(false);
    contrastSmtp = await startSmtpServer();
    const replay = async (from: string) => {
      const copy = path.join(tmp, `copy-of-${path.basename(from)}`);
      if (existsSync(path.join(from, 'sent')))
        cpSync(path.join(from, 'sent'), path.join(copy, 'sent'), { recursive: true });
      const notifier = createEmailNotifier({
        smtpUrl: contrastSmtp!.url,
        outboxDir: path.join(copy, 'outbox'),
        ledgerDir: path.join(copy, 'sent'),
        from: 'Incident Orchestrator <incidents@test.local>',
        log: () => undefined,
      });
      try {
        return await notifier.send({
          idempotencyKey: key,
          to: [{ name: 'Kari Nordmann', email: email('kari') }],
          subject: hold.mail.subject,
          text: 'the retry, with only this host’s ledger',
        });
      } finally {
        notifier.close();
      }
    };
    // The dead worker's own folder would have stopped it; the survivor's folder does not.
    expect((await replay(dataDirs[v]!)).duplicate).toBe(true);
    expect((await replay(dataDirs[1 - v]!)).duplicate).toBe(false);
    expect(contrastSmtp.messages.map((m) => m.to)).toEqual([[email('kari')]]);
    const survivorSent = existsSync(path.join(dataDirs[1 - v]!, 'sent'))
      ? readdirSync(path.join(dataDirs[1 - v]!, 'sent')).length
      : 0;

    // No workflow failed; the incident waits at the end of its chain for someone to acknowledge.
    const handle = stack.client.workflow.getHandle(workflowId);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    const eventType = temporal.api.enums.v1.EventType;
    const history = ((await handle.fetchHistory()).events ?? []).map(
      (e) => eventType[e.eventType ?? 0] ?? '',
    );
    expect(history.filter((t) => /WORKFLOW_EXECUTION_(FAILED|TERMINATED)/.test(t))).toEqual([]);
    expect(history.filter((t) => t === 'EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT').length).toBeGreaterThanOrEqual(
      1,
    );
    expect(survivor.running()).toBe(true);

    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      `[drill shared-ledger] worker ${v === 0 ? 'A' : 'B'} (pid ${victim.pid}) killed ${killedAt - rowSeenAt} ms after ` +
        `its ledger row appeared (mail accepted, completion never reached Temporal); the retry ran on ` +
        `the other worker ${s(retriedAt - killedAt)} after the kill and found the row: ` +
        `${mails.length} pages, ${Object.values(tally(mails.map(pageKey))).join('/')} mail(s) each; ` +
        `the survivor's own DATA_DIR/sent had ${survivorSent} entries and none for the page: ` +
        `with the per-host ledger, Kari would have been paged twice (replayed: sent again)`,
    );
  }, 180_000);
});
