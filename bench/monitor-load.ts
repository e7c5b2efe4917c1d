/**
 * 7. One worker running 1,000 monitors at a 30 s interval: `tcp` checks, each against its own
 * listener on 127.0.0.1 (so we can count which monitors really probe). The shipped worker
 * (`createIncidentWorker`: the main worker and the probe-loop worker, one process). Worker CPU
 * seconds per minute and RSS read from /proc; baseline = an idle shipped worker (`ctx.idle()`,
 * measured once per run in its own process while the first benchmarks run).
 *
 * Also: a page must not wait for the monitors. Incidents are declared on monitored services before
 * the monitors start and again while they run; declared → level-1 page written, both ways.
 */
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { reportIncident } from '../client/incidents.js';
import { reconcileMonitors } from '../client/monitors.js';
import { incidentWorkflowId } from '../workflows/definitions.js';
import { monitorWorkflowId } from '../workflows/monitor.js';
import {
  connectClient,
  cpuSeconds,
  genConfig,
  ids,
  percentile,
  pool,
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

interface Listeners {
  ports: number[];
  counts: number[];
  close(): Promise<void>;
}

async function listen(n: number): Promise<Listeners> {
  const counts = new Array<number>(n).fill(0);
  const servers = await Promise.all(
    Array.from(
      { length: n },
      (_, i) =>
        new Promise<net.Server>((resolve, reject) => {
          const s = net.createServer((socket) => {
            counts[i]!++;
            socket.on('error', () => undefined);
            socket.end();
          });
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  return {
    ports: servers.map((s) => (s.address() as net.AddressInfo).port),
    counts,
    close: async () => {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    },
  };
}

interface Window {
  seconds: number;
  workerCpuSecondsPerMinute: number;
  serverCpuSecondsPerMinute: number;
  /** Median of the samples (every 2 s): RSS swings with garbage collection. */
  rssMiB: number;
  rssMaxMiB: number;
  probes: number;
  probesPerMinute: number;
}

/** Watches the worker (and the Temporal server) for `seconds`, sampling RSS every 2 s. */
async function measure(
  ctx: BenchContext,
  worker: WorkerChild,
  seconds: number,
  listeners?: Listeners,
): Promise<Window> {
  const probes0 = listeners ? listeners.counts.reduce((a, b) => a + b, 0) : 0;
  const cpu0 = worker.cpuSeconds();
  const srv0 = cpuSeconds(ctx.serverPid);
  const t0 = Date.now();
  const rss: number[] = [];
  while (Date.now() - t0 < seconds * 1000) {
    await sleep(Math.min(2000, seconds * 1000 - (Date.now() - t0)));
    rss.push(worker.memory().rss);
  }
  const minutes = (Date.now() - t0) / 60_000;
  const probes = (listeners ? listeners.counts.reduce((a, b) => a + b, 0) : 0) - probes0;
  return {
    seconds: round(minutes * 60, 1),
    workerCpuSecondsPerMinute: round((worker.cpuSeconds() - cpu0) / minutes, 3),
    serverCpuSecondsPerMinute: round((cpuSeconds(ctx.serverPid) - srv0) / minutes, 3),
    rssMiB: round(percentile(rss, 50), 1),
    rssMaxMiB: round(Math.max(...rss), 1),
    probes,
    probesPerMinute: round(probes / minutes, 1),
  };
}

export async function monitorLoadBench(ctx: BenchContext, o: BenchOptions): Promise<BenchResult> {
  const n = o.quick ? 200 : 1000;
  const intervalS = 30;
  const warmSeconds = o.quick ? 10 : 20;
  // A multiple of the interval, so that every monitor's probes fall into it the same number of times.
  const loadSeconds = o.quick ? 60 : 90;
  const pageSamples = 5;
  const taskQueue = `bench-mon-${randomUUID().slice(0, 8)}`;
  const listeners = await listen(n);
  const services = ids('mon', n);
  const config = genConfig({
    services,
    levelTimeouts: ['1h'],
    checks: services.map((s, i) => ({
      id: `${s}-tcp`,
      service: s,
      kind: 'tcp',
      host: '127.0.0.1',
      port: listeners.ports[i],
      interval: `${intervalS}s`,
      timeout: '5s',
    })),
  });
  const ledgerDir = path.join(ctx.tmpDir, `${taskQueue}-sent`);
  /** Level-1 pages of `service`'s incidents in the worker's sent-mail ledger. */
  const pagesWritten = (service: string) => {
    try {
      return readdirSync(ledgerDir)
        .filter((f) => f.endsWith('.json'))
        .map(
          (f) =>
            (JSON.parse(readFileSync(path.join(ledgerDir, f), 'utf8')) as { idempotencyKey: string })
              .idempotencyKey,
        )
        .filter((k) => k.startsWith(`${incidentWorkflowId(service)}/`) && k.includes('/page-1/')).length;
    } catch {
      return 0;
    }
  };
  /** Declares an incident on a service; ms until its level-1 page was written (undefined: not in 20 s). */
  const declare = async (service: string): Promise<number | undefined> => {
    const t = Date.now();
    await reportIncident({ client, config, taskQueue }, service, {
      eventId: randomUUID(),
      source: 'api',
      actor: 'kari',
      reason: 'bench: a page while the monitors run',
      skipVerify: true,
    });
    while (Date.now() - t < 20_000) {
      if (pagesWritten(service) > 0) return Date.now() - t;
      await sleep(25);
    }
    return undefined;
  };
  const declareSeveral = async (from: number, spreadMs: number) => {
    const out: (number | undefined)[] = [];
    for (let i = 0; i < pageSamples; i++) {
      out.push(await declare(services[from + i]!));
      await sleep(spreadMs);
    }
    return out;
  };
  const { client, connection } = await connectClient(ctx.address);
  const worker = await startWorker(ctx, { taskQueue, config, ledgerDir });
  let shards: string[] = [];
  try {
    // Pages with no monitor running (the services' monitors are not started yet).
    const quietPages = await declareSeveral(0, 200);

    const t0 = Date.now();
    shards = (await reconcileMonitors(client, config, taskQueue)).shards;
    const reconcileMs = Date.now() - t0;
    ctx.log(`${n} monitors started by reconcileMonitors in ${reconcileMs} ms`);
    const before = [...listeners.counts];
    await sleep(warmSeconds * 1000);
    const [loaded, busyPages] = await Promise.all([
      measure(ctx, worker, loadSeconds, listeners),
      declareSeveral(pageSamples, ((loadSeconds - 10) * 1000) / pageSamples),
    ]);
    const probed = listeners.counts.filter((c, i) => c > before[i]!).length;
    const heap = await worker.heap();
    // Baseline: the run's idle worker (bench/lib.ts measureIdleWorker), measured meanwhile.
    const idle = await ctx.idle();
    const pagesMs = (xs: (number | undefined)[]) => xs.filter((x): x is number => x !== undefined);
    const quiet = summarize(pagesMs(quietPages));
    const busy = summarize(pagesMs(busyPages));
    ctx.log(
      `${probed}/${n} monitors probed; ${loaded.probesPerMinute} probes/min; ${loaded.workerCpuSecondsPerMinute} CPU s/min; ${loaded.rssMiB} MiB; pages ${busy.n}/${pageSamples} sent, p50 ${busy.p50} ms`,
    );

    const bench = `7 ${n} monitors @${intervalS}s`;
    const baselineLabel = 'idle worker';
    const expectedPerMinute = (n * 60) / intervalS;
    return {
      name: 'monitors',
      title: `CPU and memory of one worker running ${n} monitors at a ${intervalS} s interval`,
      rows: [
        row({
          bench,
          metric: 'worker CPU',
          value: loaded.workerCpuSecondsPerMinute,
          unit: 's/min',
          baselineLabel,
          baseline: idle.cpuSecondsPerMinute,
        }),
        row({
          bench,
          metric: 'worker RSS',
          value: loaded.rssMiB,
          unit: 'MiB',
          baselineLabel,
          baseline: idle.rssMiB,
        }),
        row({
          bench,
          metric: 'probes',
          value: loaded.probesPerMinute,
          unit: '/min',
          baselineLabel: `expected ${n}×60/${intervalS}`,
          baseline: expectedPerMinute,
        }),
        row({
          bench,
          metric: `monitors that probed in the ${loadSeconds} s window`,
          value: probed,
          unit: '',
          baselineLabel: 'monitors configured',
          baseline: n,
        }),
        row({
          bench,
          metric: `declared → level-1 page, p50 (${busy.n}/${pageSamples} sent)`,
          value: busy.p50,
          unit: 'ms',
          baselineLabel: 'no monitors running',
          baseline: quiet.p50,
        }),
      ],
      details: {
        monitors: n,
        intervalSeconds: intervalS,
        reconcileMs,
        warmSeconds,
        idleWorker: idle,
        loaded: { ...loaded, monitorsProbedInWindow: probed, heapMiB: heap },
        expectedProbesPerMinute: expectedPerMinute,
        pageMs: {
          noMonitors: { samples: quietPages, summary: roundSummary(quiet) },
          monitorsRunning: { samples: busyPages, summary: roundSummary(busy) },
        },
        workerStartupMs: worker.startup,
      },
    };
  } finally {
    await worker.stop();
    await pool([...services.map((s) => monitorWorkflowId(`${s}-tcp`)), ...shards], 64, (id) =>
      client.workflow
        .getHandle(id)
        .terminate('bench finished')
        .catch(() => undefined),
    );
    await connection.close();
    await listeners.close();
  }
}
