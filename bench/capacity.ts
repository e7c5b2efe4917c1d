/**
 * 4. Capacity: open incidents waiting on escalation timers (a 6 h level timeout), held by one worker.
 * Incidents are opened the way monitors and the API open them (`reportIncident`, update-with-start),
 * 32 at a time, up to 10,000 or until this benchmark's share of the 10-minute budget is spent; every
 * one pages level 1 and then waits on its timer. Measured from /proc: the worker's RSS with them
 * open, against an idle worker (the baseline, `ctx.idle()`); the start-up time of a fresh worker (spawn → polling)
 * with them open, against the idle worker's; and what a fresh worker pays to bring an incident back
 * (an acknowledge that has to replay its history) against an acknowledge on a worker that has it
 * cached. Whatever was not created in time is extrapolated, and labelled so.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { reportIncident } from '../client/incidents.js';
import { acknowledgeUpdate, parseIncidentId } from '../workflows/definitions.js';
import {
  connectClient,
  cpuSeconds,
  genConfig,
  ids,
  percentile,
  round,
  roundSummary,
  row,
  sleep,
  startWorker,
  summarize,
  type BenchContext,
  type BenchOptions,
  type BenchResult,
  type WorkerChild,
} from './lib.js';

/** Median RSS over `seconds` (sampled every second: it swings with garbage collection). */
async function rssOver(worker: WorkerChild, seconds: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    samples.push(worker.memory().rss);
  }
  return percentile(samples, 50);
}

export async function capacityBench(ctx: BenchContext, o: BenchOptions): Promise<BenchResult> {
  const target = o.quick ? 1000 : 10_000;
  // What the phases after creation need: drain, settle, acks, a restart.
  const reserveMs = 35_000;
  const budgetMs = o.quick
    ? 20_000
    : Math.max(30_000, Math.min(240_000, ctx.deadline - Date.now() - reserveMs));
  const concurrency = 32;
  const ackSamples = o.quick ? 30 : 100;
  const taskQueue = `bench-cap-${randomUUID().slice(0, 8)}`;
  const services = ids('cap', target);
  const config = genConfig({ services, levelTimeouts: ['6h', '6h'] });
  const ledgerDir = path.join(ctx.tmpDir, `${taskQueue}-sent`);
  const pages = () => {
    try {
      return readdirSync(ledgerDir).length;
    } catch {
      return 0;
    }
  };
  const { client, connection } = await connectClient(ctx.address);
  let worker = await startWorker(ctx, { taskQueue, config, ledgerDir });
  try {
    // ---- baselines: this worker's start-up with nothing open; the run's idle worker's RSS ------------
    const idleStartupMs = worker.startupMs;
    const idleStartup = worker.startup;
    const maxCached = worker.ready.maxCachedWorkflows;
    // A worker just started still carries ~60 MiB of start-up garbage for ~20 s: the RSS baseline is
    // the run's idle worker, settled (ctx.idle(), measured meanwhile in its own process).
    const idle = await ctx.idle();
    const idleRss = idle.rssMiB;
    const idleHeap = idle.heapMiB;
    // The fresh worker below is read 2–5 s after it starts: compare it with this one at that age.
    await sleep(Math.max(0, worker.ready.readyAt + 2000 - Date.now()));
    const youngIdleRss = await rssOver(worker, 3);
    ctx.log(`worker started in ${idleStartupMs} ms (cache ${maxCached} workflows); idle RSS ${idleRss} MiB`);

    // ---- open incidents until the target or the budget ------------------------------------------------
    const opened: string[] = [];
    const curve: { seconds: number; open: number; rssMiB: number }[] = [];
    const t0 = Date.now();
    const cpu0 = { worker: worker.cpuSeconds(), server: cpuSeconds(ctx.serverPid) };
    let next = 0;
    let stop = false;
    const sampler = (async () => {
      while (!stop) {
        await sleep(5000);
        curve.push({
          seconds: round((Date.now() - t0) / 1000, 1),
          open: opened.length,
          rssMiB: round(worker.memory().rss, 1),
        });
      }
    })();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < target && Date.now() - t0 < budgetMs) {
          const service = services[next++]!;
          const r = await reportIncident({ client, config, taskQueue }, service, {
            eventId: randomUUID(),
            source: 'api',
            actor: 'kari',
            reason: 'bench: capacity',
            skipVerify: true,
          });
          opened.push(r.id);
        }
      }),
    );
    const createdMs = Date.now() - t0;
    const created = opened.length;
    // Every one pages level 1; then it only waits on its timer.
    const drainDeadline = Date.now() + 60_000;
    while (pages() < created && Date.now() < drainDeadline) await sleep(200);
    const drainedMs = Date.now() - t0;
    stop = true;
    await sampler;
    const cpu1 = { worker: worker.cpuSeconds(), server: cpuSeconds(ctx.serverPid) };
    const rate = created / (drainedMs / 1000);
    ctx.log(
      `${created} incidents open in ${createdMs} ms, all paged after ${drainedMs} ms (${round(rate, 1)}/s)`,
    );

    await sleep(2000);
    const loadedRss = await rssOver(worker, 5);
    const loadedPeak = worker.memory().peak;
    const loadedHeap = await worker.heap();
    ctx.log(`worker with ${created} open: ${round(loadedRss, 1)} MiB`);

    // Acknowledge on the worker that has them cached (the most recent ones are surely in its cache).
    const ack = async (id: string) => {
      const { workflowId, runId } = parseIncidentId(id)!;
      const t = performance.now();
      await client.workflow
        .getHandle(workflowId, runId)
        .executeUpdate(acknowledgeUpdate, { args: [{ actor: 'kari' }] });
      return performance.now() - t;
    };
    const recent = opened.slice(-ackSamples * 2);
    const warmAcks: number[] = [];
    for (let i = 0; i < ackSamples; i++) warmAcks.push(await ack(recent[i * 2]!));

    // ---- a fresh worker, with them open ------------------------------------------------------------------
    await worker.stop();
    worker = await startWorker(ctx, { taskQueue, config, ledgerDir });
    const freshStartupMs = worker.startupMs;
    await sleep(2000);
    const freshRss = await rssOver(worker, 3);
    // Acknowledge incidents it has never seen: each is replayed from its history first.
    const coldAcks: number[] = [];
    for (let i = 0; i < ackSamples; i++) coldAcks.push(await ack(recent[i * 2 + 1]!));
    ctx.log(`fresh worker: started in ${freshStartupMs} ms, ${round(freshRss, 1)} MiB`);

    const cached = Math.min(created, maxCached ?? created);
    const perCachedMiB = (loadedRss - idleRss) / Math.max(1, cached);
    const full = created >= target;
    const extrapolated = {
      createSecondsFor10k: round(target / rate, 0),
      rssMiBAt10kDefaultCache:
        maxCached !== undefined && created >= maxCached
          ? round(loadedRss, 1)
          : round(idleRss + perCachedMiB * Math.min(target, maxCached ?? target), 1),
      rssMiBAt10kAllCached: round(idleRss + perCachedMiB * target, 1),
    };
    const warm = summarize(warmAcks);
    const cold = summarize(coldAcks);
    const bench = `4 capacity (${created.toLocaleString('en-US')} open)`;
    return {
      name: 'capacity',
      title: `Capacity: ${created} open incidents waiting on escalation timers`,
      rows: [
        row({
          bench,
          metric: `incidents opened and paged (budget ${round(budgetMs / 1000, 0)} s)`,
          value: created,
          unit: '',
          baselineLabel: 'target',
          baseline: target,
        }),
        row({ bench, metric: 'open → paged rate', value: rate, unit: '/s' }),
        row({
          bench,
          metric: 'worker RSS, incidents open',
          value: loadedRss,
          unit: 'MiB',
          baselineLabel: 'idle worker',
          baseline: idleRss,
        }),
        row({
          bench,
          metric: 'fresh worker start-up (spawn → polling)',
          value: freshStartupMs,
          unit: 'ms',
          baselineLabel: 'idle worker start-up',
          baseline: idleStartupMs,
        }),
        row({
          bench,
          metric: 'fresh worker RSS (2–5 s old), incidents open',
          value: freshRss,
          unit: 'MiB',
          baselineLabel: 'idle worker, same age',
          baseline: youngIdleRss,
        }),
        row({
          bench,
          metric: 'acknowledge on a fresh worker (replay), p50',
          value: cold.p50,
          unit: 'ms',
          baselineLabel: 'cached on the worker',
          baseline: warm.p50,
        }),
        ...(full
          ? []
          : [
              row({
                bench,
                metric: `EXTRAPOLATED: time to open and page ${target.toLocaleString('en-US')}`,
                value: extrapolated.createSecondsFor10k,
                unit: 's',
                note: 'at the measured rate',
              }),
              row({
                bench,
                metric: `EXTRAPOLATED: worker RSS at ${target.toLocaleString('en-US')} open`,
                value: extrapolated.rssMiBAt10kDefaultCache,
                unit: 'MiB',
                baselineLabel: 'idle worker',
                baseline: idleRss,
                note: `the sticky cache holds at most ${maxCached} workflows: beyond that, RSS stays flat and evicted incidents are replayed when their timer fires`,
              }),
            ]),
      ],
      details: {
        target,
        created,
        budgetMs,
        createdMs,
        allPagedAfterMs: drainedMs,
        openToPagedPerSecond: round(rate, 2),
        concurrency,
        maxCachedWorkflows: maxCached,
        cachedAfterCreation: cached,
        rssMiB: {
          idle: round(idleRss, 1),
          idleSameAgeAsFresh: round(youngIdleRss, 1),
          withIncidentsOpen: round(loadedRss, 1),
          peakWhileCreating: round(loadedPeak, 1),
          freshWorkerWithIncidentsOpen: round(freshRss, 1),
        },
        rssPerCachedIncidentKiB: round(perCachedMiB * 1024, 1),
        heapMiB: { idle: idleHeap, withIncidentsOpen: loadedHeap },
        startupMs: { idle: idleStartup, freshWithIncidentsOpen: worker.startup },
        cpuSecondsWhileCreating: {
          worker: round(cpu1.worker - cpu0.worker),
          temporalServer: round(cpu1.server - cpu0.server),
        },
        ackMs: { cachedOnWorker: roundSummary(warm), freshWorkerReplay: roundSummary(cold) },
        rssCurve: curve,
        extrapolated: full ? 'not needed: the target was reached' : extrapolated,
      },
    };
  } finally {
    await worker.stop();
    await connection.close();
  }
}
