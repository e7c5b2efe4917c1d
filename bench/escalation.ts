/**
 * 3. Escalation lateness with 1,000 incidents escalating at once. Every incident is started with the
 * input the API would give it (`buildIncidentInput`, skipVerify) and a start delay aimed at one
 * common instant, so all of them page level 1 together and all their level-1 timers (5 s) run out
 * together. For each incident: deadline = the level-1 page time (`view.paged[0].at`) + the level
 * timeout; lateness = when the workflow recorded the level-2 page (`view.paged[1].at`) and when the
 * level-2 mail was written (the sent-mail ledger's `sentAt`) minus that deadline.
 * Baseline, same run, same worker: as many bare workflows sleeping the same 5 s, started the same
 * way; lateness = the time the workflow woke minus (its start + 5 s).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowStartOptions } from '@temporalio/client';
import type { IncidentView } from '../domain/incident.js';
import { buildIncidentInput } from '../domain/model.js';
import {
  incidentServiceKey,
  incidentSeverityKey,
  incidentStateKey,
  incidentWorkflowId,
  viewQuery,
} from '../workflows/definitions.js';
import {
  connectClient,
  cpuSeconds,
  genConfig,
  ids,
  pool,
  round,
  roundSummary,
  row,
  sleep,
  startWorker,
  summarize,
  until,
  type BenchContext,
  type BenchOptions,
  type BenchResult,
} from './lib.js';

const levelTimeoutMs = 5_000;

/** Starts `n` workflows so that each begins at `at` (or at once, if creating them took longer). */
export async function startAt(
  client: Client,
  n: number,
  at: number,
  opts: (i: number) => WorkflowStartOptions & { workflowType: string },
): Promise<{ late: number; createMs: number }> {
  let late = 0;
  const t0 = Date.now();
  await pool(
    Array.from({ length: n }, (_, i) => i),
    32,
    async (i) => {
      const { workflowType, ...o } = opts(i);
      const delay = at - Date.now();
      if (delay < 50) late++;
      await client.workflow.start(workflowType, { ...o, ...(delay >= 50 ? { startDelay: delay } : {}) });
    },
  );
  return { late, createMs: Date.now() - t0 };
}

interface LedgerEntry {
  idempotencyKey: string;
  sentAt: string;
}

export function readLedger(dir: string): LedgerEntry[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return files.map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as LedgerEntry);
}

/** Mails in the ledger, by listing it (cheap: this runs on the machine being measured). */
const mailsSent = (dir: string) => {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.json')).length;
  } catch {
    return 0;
  }
};

export async function escalationBench(ctx: BenchContext, o: BenchOptions): Promise<BenchResult> {
  const n = o.quick ? 200 : 1000;
  const taskQueue = `bench-esc-${randomUUID().slice(0, 8)}`;
  const services = ids('esc', n);
  const config = genConfig({ services, levelTimeouts: [`${levelTimeoutMs / 1000}s`, '1h', '1h'] });
  const ledgerDir = path.join(ctx.tmpDir, `${taskQueue}-sent`);
  const worker = await startWorker(ctx, { taskQueue, config, ledgerDir });
  const { client, connection } = await connectClient(ctx.address);
  // Time to create them all before the common instant (bare starts run at ~250/s here).
  const lead = () => Date.now() + 2_000 + Math.ceil(n / 150) * 1000;
  /** Workflows of a type still running on this task queue (one visibility query, no long polls). */
  const running = (type: string) =>
    client.workflow
      .count(`WorkflowType = '${type}' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'`)
      .then((r) => r.count);
  try {
    // ---- baseline: bare timers ---------------------------------------------------------------------
    const sleepAt = lead();
    const sleepers = await startAt(client, n, sleepAt, (i) => ({
      workflowType: 'benchSleepWorkflow',
      workflowId: `bench-sleep-${taskQueue}-${i}`,
      taskQueue,
      args: [levelTimeoutMs],
    }));
    ctx.log(`${n} sleepers created in ${sleepers.createMs} ms (${sleepers.late} after the common instant)`);
    // Wait without long-polling 1,000 results (that load would land on the server being measured).
    await sleep(Math.max(0, sleepAt + levelTimeoutMs - Date.now()));
    await until(async () => (await running('benchSleepWorkflow')) === 0, 240_000, 'the sleepers', 500);
    const sleepResults = await pool(
      Array.from({ length: n }, (_, i) => i),
      64,
      (i) =>
        client.workflow.getHandle(`bench-sleep-${taskQueue}-${i}`).result() as Promise<{
          startedAt: number;
          wokeAt: number;
        }>,
    );
    const timerLateness = sleepResults.map((r) => r.wokeAt - (r.startedAt + levelTimeoutMs));
    const sleepFirstStart = Math.min(...sleepResults.map((r) => r.startedAt));
    const sleepSpreadMs = Math.max(...sleepResults.map((r) => r.startedAt)) - sleepFirstStart;
    ctx.log(
      `bare timers: p50 ${summarize(timerLateness).p50} ms late; starts spread over ${sleepSpreadMs} ms`,
    );
    await sleep(1000);

    // ---- incidents -----------------------------------------------------------------------------------
    const cpu0 = { worker: worker.cpuSeconds(), server: cpuSeconds(ctx.serverPid) };
    const incidentAt = lead();
    const created = await startAt(client, n, incidentAt, (i) => {
      const service = services[i]!;
      const input = buildIncidentInput(
        config,
        service,
        {
          eventId: randomUUID(),
          source: 'api',
          actor: 'kari',
          reason: 'bench: escalation',
          skipVerify: true,
        },
        { publicBaseUrl: 'http://127.0.0.1:3000' },
      );
      return {
        workflowType: 'incidentWorkflow',
        workflowId: incidentWorkflowId(service),
        taskQueue,
        args: [input],
        typedSearchAttributes: [
          { key: incidentServiceKey, value: service },
          { key: incidentSeverityKey, value: input.severity },
          { key: incidentStateKey, value: 'verifying' },
        ],
      };
    });
    ctx.log(`${n} incidents created in ${created.createMs} ms (${created.late} after the common instant)`);
    await until(() => Date.now() >= incidentAt, 120_000, 'the common instant', 50);
    // Only this benchmark's incidents write to this ledger: n level-1 pages and n level-2 pages.
    await until(() => mailsSent(ledgerDir) >= 2 * n, 240_000, 'every level-2 page', 250);
    const cpu1 = { worker: worker.cpuSeconds(), server: cpuSeconds(ctx.serverPid) };

    const entries = readLedger(ledgerDir);
    const ledger = new Map(entries.map((e) => [e.idempotencyKey, Date.parse(e.sentAt)]));
    const lastSent = (part: string) =>
      Math.max(...entries.filter((e) => e.idempotencyKey.includes(part)).map((e) => Date.parse(e.sentAt)));
    const level1 = lastSent('/page-1/');
    const level2 = lastSent('/page-2/');
    ctx.log(
      `every level-1 page written ${level1 - incidentAt} ms, every level-2 page ${level2 - incidentAt} ms after the common instant`,
    );
    const views = await pool(services, 32, (s) =>
      client.workflow.getHandle(incidentWorkflowId(s)).query(viewQuery),
    );
    const wfLateness: number[] = [];
    const mailLateness: number[] = [];
    const firstPages: number[] = [];
    for (const v of views as IncidentView[]) {
      const [p1, p2] = v.paged;
      if (!p1 || !p2) throw new Error(`${v.id}: expected two pages, got ${v.paged.length}`);
      const deadline = Date.parse(p1.at) + levelTimeoutMs;
      firstPages.push(Date.parse(p1.at));
      wfLateness.push(Date.parse(p2.at) - deadline);
      const runId = v.id.slice(v.id.indexOf('.') + 1);
      const sent = ledger.get(`${v.workflowId}/${runId}/page-2/${p2.recipient.id}`);
      if (sent === undefined) throw new Error(`${v.id}: no ledger entry for the level-2 page`);
      mailLateness.push(sent - deadline);
    }
    const firstPageSpreadMs = Math.max(...firstPages) - Math.min(...firstPages);
    const t = summarize(timerLateness);
    const w = summarize(wfLateness);
    const m = summarize(mailLateness);
    const bench = `3 escalation lateness (${n})`;
    const baselineLabel = 'bare 5 s timer';
    return {
      name: 'escalation',
      title: `Escalation lateness, ${n} incidents escalating at once (level timeout 5 s)`,
      rows: [
        row({
          bench,
          metric: 'level-2 mail sent, p50',
          value: m.p50,
          unit: 'ms',
          baselineLabel,
          baseline: t.p50,
        }),
        row({
          bench,
          metric: 'level-2 mail sent, p99',
          value: m.p99,
          unit: 'ms',
          baselineLabel,
          baseline: t.p99,
        }),
        row({
          bench,
          metric: 'level-2 mail sent, max',
          value: m.max,
          unit: 'ms',
          baselineLabel,
          baseline: t.max,
        }),
        row({
          bench,
          metric: 'escalation in workflow, p50',
          value: w.p50,
          unit: 'ms',
          baselineLabel,
          baseline: t.p50,
        }),
        row({
          bench,
          metric: 'escalation in workflow, p99',
          value: w.p99,
          unit: 'ms',
          baselineLabel,
          baseline: t.p99,
        }),
      ],
      details: {
        incidents: n,
        levelTimeoutMs,
        lateness: {
          mailMs: roundSummary(m),
          workflowMs: roundSummary(w),
          bareTimerMs: roundSummary(t),
        },
        level1PagesSpreadMs: firstPageSpreadMs,
        allLevel1PagesWrittenAfterMs: level1 - incidentAt,
        allLevel2PagesWrittenAfterMs: level2 - incidentAt,
        incidentsCreatedMs: created.createMs,
        incidentsStartedLate: created.late,
        sleepersCreatedMs: sleepers.createMs,
        sleeperStartsSpreadMs: sleepSpreadMs,
        cpuSecondsDuringIncidents: {
          worker: round(cpu1.worker - cpu0.worker),
          temporalServer: round(cpu1.server - cpu0.server),
        },
        workerRssMiB: round(worker.memory().rss, 1),
      },
    };
  } finally {
    await worker.stop();
    await connection.close();
  }
}
