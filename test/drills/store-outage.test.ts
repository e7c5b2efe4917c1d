/**
 * Fault drill: the record store (a real PostgreSQL server of its own) is killed with `kill -9` for
 * 60 s (DRILL_STORE_DOWN_MS) while an incident escalates. Pages and escalation must not wait for the
 * store: level 2 and level 3 are paged on time during the outage, an acknowledgement and notes
 * through the API still go to Temporal, reads answer 503 with a JSON message, the public board serves
 * its last good copy, and /readyz names the store. Once PostgreSQL is back (same data), the workflow's
 * retried record writes bring the store up to date: every timeline event is there exactly once, and
 * no sequence number is missing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import type { IncidentView } from '../../domain/incident.js';
import { createDatabase, startPostgres, type PostgresServer } from '../../scripts/postgres.js';
import { migrate } from '../../store/db.js';
import { pageKey, startStack, tally, type Stack } from '../helpers/stack.js';
import { testConfig } from '../helpers/config.js';
import { eventually } from '../helpers/harness.js';
import { startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../helpers/smtp-server.js';

const levelTimeoutMs = 20_000;
const downMs = Number(process.env.DRILL_STORE_DOWN_MS ?? 60_000);
/** How late a page may arrive against the escalation schedule. */
const lateLimitMs = 5_000;
/** How long the store may take to catch up once it is back. */
const catchUpMs = 30_000;

const people = [
  { level: 1, id: 'kari', name: 'Kari Nordmann' },
  { level: 2, id: 'ola', name: 'Ola Hansen' },
  { level: 3, id: 'ingrid', name: 'Ingrid Berg' },
] as const;
const email = (id: string) => `${id}@test.local`;

describe('drill: kill -9 the record store for a minute mid-incident', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'drill-store-outage-'));
  let pgServer: PostgresServer | undefined;
  let smtp: TestSmtpServer | undefined;
  let stack: Stack | undefined;

  afterAll(async () => {
    // The database must be up for the worker's and the API's pools to close cleanly.
    // (scripts/postgres.ts's stop() only knows a server that exited by itself, not a killed one.)
    if (pgServer && (pgServer.proc.exitCode !== null || pgServer.proc.signalCode !== null))
      await pgServer.start().catch(() => undefined);
    await stack?.close();
    await smtp?.close();
    await pgServer?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it(
    'escalates on time while the store is down, and afterwards every event is recorded exactly once',
    async () => {
      pgServer = await startPostgres();
      const databaseUrl = await createDatabase(pgServer.url, 'drill_store_outage');
      await migrate(databaseUrl);
      smtp = await startSmtpServer();
      const { config, serviceId } = testConfig({ levelTimeout: `${levelTimeoutMs / 1000}s` });
      stack = await startStack({
        config,
        worker: true,
        smtpUrl: smtp.url,
        databaseUrl,
        dataDir: path.join(tmp, 'data'),
      });
      const api = stack;
      const req = (method: 'GET' | 'POST', url: string, payload?: object) =>
        api.app.inject({ method, url, headers: api.auth('kari'), ...(payload ? { payload } : {}) });

      const declared = await req('POST', '/api/incidents', {
        service: serviceId,
        reason: 'the export server does not answer',
        skipVerify: true,
      });
      expect(declared.statusCode).toBe(201);
      const id = (declared.json() as { incident: IncidentView }).incident.id;
      const pageMail = (who: string) => (m: ReceivedMail) => m.text.includes(id) && m.to.includes(email(who));

      // Level 1 is paged and its delivery is in the store: the incident waits for level 2 now.
      const before = await eventually(
        async () => {
          const v = await api.incidents.get(id);
          return v.timeline.some((e) => e.kind === 'paged' && e.detail.includes(email('kari'))) &&
            v.nextEscalationAt
            ? v
            : undefined;
        },
        20_000,
        'level 1 paged and recorded',
      );
      expect(before.state).toBe('triggered');
      const level2Due = Date.parse(before.nextEscalationAt!);
      // The public board has been read once: during the outage it serves that copy, marked stale.
      const board = await req('GET', '/api/status');
      expect(board.statusCode).toBe(200);
      expect((board.json() as { stale: boolean }).stale).toBe(false);

      await pgServer.kill();
      const killedAt = Date.now();
      const upAgainAt = killedAt + downMs;
      expect(pgServer.proc.exitCode ?? pgServer.proc.signalCode).not.toBeNull();

      // ---- during the outage ----------------------------------------------------------------------
      // Reads come from the store: a 503 with a JSON message, not a 500 and not a hang.
      const readStarted = Date.now();
      const read = await req('GET', `/api/incidents/${id}`);
      const readMs = Date.now() - readStarted;
      expect(read.statusCode, read.body).toBe(503);
      expect(read.headers['content-type']).toMatch(/application\/json/);
      expect(read.json()).toMatchObject({ statusCode: 503, error: 'store_unavailable' });
      expect((read.json() as { message: string }).message).toMatch(/record store/);
      const list = await req('GET', '/api/incidents');
      expect(list.statusCode, list.body).toBe(503);
      expect(list.json()).toMatchObject({ error: 'store_unavailable' });
      const stale = await req('GET', '/api/status');
      expect(stale.statusCode, stale.body).toBe(200);
      expect((stale.json() as { stale: boolean }).stale).toBe(true);
      const ready = await api.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({ status: 'unavailable', temporal: 'reachable', store: 'unreachable' });

      // Escalation goes on without the store: level 2, and (if the outage lasts that long) level 3.
      const arrivals: { level: number; id: string; at: number; due: number }[] = [];
      for (const p of people.slice(1)) {
        const due = level2Due + (p.level - 2) * levelTimeoutMs;
        // Leave room for the acknowledgement and the notes before the store comes back.
        if (due + lateLimitMs > upAgainAt - 8_000) break;
        const m = await smtp.waitFor(pageMail(p.id), due - Date.now() + lateLimitMs + 5_000);
        arrivals.push({ level: p.level, id: p.id, at: m.receivedAt.getTime(), due });
      }
      if (downMs >= 2 * levelTimeoutMs + 10_000) expect(arrivals.map((a) => a.id)).toEqual(['ola', 'ingrid']);
      for (const a of arrivals) expect(a.at - a.due, `level ${a.level} lateness`).toBeLessThan(lateLimitMs);
      expect(Date.now()).toBeLessThan(upAgainAt);

      // Staff act through the API: the updates go to Temporal; the read-your-writes wait on the store
      // gives up after a while and must not fail the request.
      const notes = ['checked the firewall: port 22 is closed', 'the change from 14:02 is being rolled back'];
      const timed = async (url: string, payload?: object) => {
        const t = Date.now();
        const r = await req('POST', url, payload);
        return { r, ms: Date.now() - t };
      };
      const note1 = await timed(`/api/incidents/${id}/notes`, { text: notes[0] });
      expect(note1.r.statusCode, note1.r.body).toBe(200);
      const ack = await timed(`/api/incidents/${id}/acknowledge`);
      expect(ack.r.statusCode, ack.r.body).toBe(200);
      expect(ack.r.json()).toMatchObject({ id, state: 'acknowledged' });
      const note2 = await timed(`/api/incidents/${id}/notes`, { text: notes[1] });
      expect(note2.r.statusCode, note2.r.body).toBe(200);
      // The workflow itself knows (its query answers without the store).
      const live = await api.client.workflow.getHandle(before.workflowId).query<IncidentView>('view');
      expect(live.state).toBe('acknowledged');
      expect(live.acknowledgedBy).toBe('kari');
      const stillDown = await req('GET', `/api/incidents/${id}`);
      expect(stillDown.statusCode).toBe(503);

      // Wait out the rest of the outage; nobody else is paged once it is acknowledged.
      await new Promise((r) => setTimeout(r, Math.max(0, upAgainAt - Date.now())));

      // ---- the store is back ------------------------------------------------------------------------
      await pgServer.start();
      const restartedAt = Date.now();
      const outageMs = restartedAt - killedAt;

      const paged = [...new Set(smtp.messages.filter((m) => m.text.includes(id)).map((m) => m.to[0]!))];
      const pagedIds = people.filter((p) => paged.includes(email(p.id))).map((p) => p.id);
      // What happened, as (kind, detail) lines: each must be in the store exactly once.
      const expected: Record<string, number> = {
        detected: 1,
        verified: 1,
        status: 1,
        paged: pagedIds.length,
        escalated: pagedIds.length - 1,
        acknowledged: 1,
        note: notes.length,
      };
      const lines = async () => {
        const r = await api.records.db.query<{ seq: string; kind: string; detail: string }>(
          'SELECT seq, kind, detail FROM timeline_events WHERE incident_id = $1 ORDER BY seq',
          [id],
        );
        return r.rows;
      };
      const rows = await eventually(
        async () => {
          const r = await lines();
          const got = tally(r.map((x) => x.kind));
          return Object.entries(expected).every(([k, n]) => (got[k] ?? 0) >= n) ? r : undefined;
        },
        catchUpMs,
        'every timeline event in the store',
      );
      const caughtUpMs = Date.now() - restartedAt;
      // Stragglers (a write retried once more) would land now.
      await new Promise((r) => setTimeout(r, 3000));
      const final = await lines();
      expect(final).toEqual(rows);

      expect(tally(final.map((x) => x.kind))).toEqual(expected);
      const byLine = tally(final.map((x) => `${x.kind}: ${x.detail}`));
      const repeated = Object.entries(byLine).filter(([, n]) => n > 1);
      expect(repeated).toEqual([]);
      for (const p of people.filter((x) => pagedIds.includes(x.id)))
        expect(
          final.filter((x) => x.kind === 'paged' && x.detail.includes(`${p.name} <${email(p.id)}>`)),
          `level ${p.level} paged`,
        ).toHaveLength(1);
      for (const n of notes) expect(final.filter((x) => x.kind === 'note' && x.detail === n)).toHaveLength(1);
      expect(final.filter((x) => x.kind === 'acknowledged')[0]!.detail).toMatch(/acknowledged by kari/);
      // No event lost: the visible lines and the page decisions (their own table) use every sequence.
      const decided = await api.records.db.query<{ seq: string; recipient_id: string }>(
        'SELECT seq, recipient_id FROM pages WHERE incident_id = $1 ORDER BY seq',
        [id],
      );
      expect(decided.rows.map((x) => x.recipient_id)).toEqual(pagedIds);
      const seqs = [...final.map((x) => Number(x.seq)), ...decided.rows.map((x) => Number(x.seq))].sort(
        (a, b) => a - b,
      );
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));

      // Every page was delivered once, and only to who was due before the acknowledgement.
      const mails = smtp.messages.filter((m) => m.text.includes(id));
      expect(tally(mails.map(pageKey))).toEqual(
        Object.fromEntries(
          people
            .filter((p) => pagedIds.includes(p.id))
            .map((p) => [`level ${p.level} page → ${email(p.id)}`, 1]),
        ),
      );
      expect(mails.some((m) => m.to.includes(email('per')))).toBe(false);

      // The store's view agrees with the workflow, and reads answer again.
      const after = await req('GET', `/api/incidents/${id}`);
      expect(after.statusCode).toBe(200);
      const view = after.json() as IncidentView;
      expect(view.state).toBe('acknowledged');
      expect(view.paged.map((p) => `${p.level}:${p.recipient.id}`)).toEqual(
        people.filter((p) => pagedIds.includes(p.id)).map((p) => `${p.level}:${p.id}`),
      );
      const readyAgain = await api.app.inject({ method: 'GET', url: '/readyz' });
      expect(readyAgain.json()).toMatchObject({ status: 'ready', store: 'reachable' });
      // The decisions (view.paged[].at) were on schedule too, not only the mail.
      const decisionLate = view.paged
        .slice(1)
        .map((p, i) => Date.parse(p.at) - (Date.parse(view.paged[i]!.at) + levelTimeoutMs));
      for (const l of decisionLate) expect(l).toBeLessThan(lateLimitMs);

      // No workflow of this drill failed or was terminated, and the worker never stopped.
      const handle = api.client.workflow.getHandle(before.workflowId);
      expect((await handle.describe()).status.name).toBe('RUNNING');
      const history = await handle.fetchHistory();
      const eventType = temporal.api.enums.v1.EventType;
      const failures = (history.events ?? [])
        .map((e) => eventType[e.eventType ?? 0] ?? '')
        .filter((t) => /FAILED|TERMINATED|TIMED_OUT/.test(t));
      expect(failures).toEqual([]);
      const statuses: string[] = [];
      for await (const w of api.client.workflow.list({ query: `TaskQueue = "${api.taskQueue}"` }))
        statuses.push(w.status.name);
      expect(statuses.length).toBeGreaterThan(0);
      expect(statuses.filter((s) => s !== 'RUNNING' && s !== 'COMPLETED')).toEqual([]);
      expect(api.workerError()).toBeUndefined();

      const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      console.log(
        `[drill store-outage] store down ${s(outageMs)}; ` +
          arrivals.map((a) => `level ${a.level} page ${s(a.at - a.due)} late`).join(', ') +
          ` (decisions ${decisionLate.map(s).join(', ')} late); first read while down ${readMs} ms (503); ` +
          `note ${note1.ms} ms, acknowledge ${ack.ms} ms, note ${note2.ms} ms while down; ` +
          `${final.length} timeline events + ${decided.rowCount} page decisions recorded once each, ` +
          `all in the store ${s(caughtUpMs)} after the restart`,
      );
    },
    downMs + 150_000,
  );
});
