/**
 * A worker in its own process for the benchmarks (bench/lib.ts `startWorker` forks it), so its CPU
 * and memory can be read from /proc without the load generator mixed in. It is the shipped worker
 * (`createIncidentWorker`: the main worker and the probe-loop worker); a benchmark may add the
 * bench-only baseline activities, or ask for a probe loop that returns after seconds, not an hour.
 */
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { createMonitorActivities, type ProbeShardRun, type WatchInput } from '../activities/monitor.js';
import { createEmailNotifier } from '../activities/notifiers/email.js';
import { openDb } from '../store/db.js';
import { createRecords } from '../store/records.js';
import { runProbe } from '../activities/probes/index.js';
import type { Config, ProbeCheck } from '../domain/config-schema.js';
import { createIncidentWorker, type IncidentWorker } from '../worker/create.js';
import { probeTaskQueue } from '../workflows/monitor.js';

export interface WorkerSpec {
  address: string;
  taskQueue: string;
  bundlePath: string;
  configPath: string;
  outboxDir: string;
  ledgerDir: string;
  smtpUrl?: string;
  /** Add the bench's baseline activities (`benchProbeOnce`) to the shipped ones. */
  benchActivities?: boolean;
  /** Make every `watchCheck` return after this long instead of the hour built into the monitor. */
  watchMaxRunMs?: number;
  /** Probe loops the probe-loop worker runs at once (createIncidentWorker's `probeSlots`). */
  probeSlots?: number;
}

export interface WorkerReady {
  /** Date.now() when this script's first line ran (module loading by node + tsx before it). */
  scriptAt: number;
  connectedAt: number;
  createdAt: number;
  /** Date.now() once `run()` started polling. */
  readyAt: number;
  maxCachedWorkflows?: number;
}

const scriptAt = Date.now();
const spec = JSON.parse(readFileSync(process.env.BENCH_WORKER_SPEC!, 'utf8')) as WorkerSpec;

async function main() {
  // ERROR: terminating a monitor whose probe loop is running makes the SDK warn, on purpose here.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });
  const connection = await NativeConnection.connect({ address: spec.address });
  const clientConnection = await Connection.connect({ address: spec.address });
  const client = new Client({ connection: clientConnection, namespace: 'default' });
  const connectedAt = Date.now();
  const config = JSON.parse(readFileSync(spec.configPath, 'utf8')) as Config;
  const email = createEmailNotifier({
    smtpUrl: spec.smtpUrl,
    outboxDir: spec.outboxDir,
    ledgerDir: spec.ledgerDir,
    from: 'Incident Orchestrator <incidents@bench.local>',
    log: () => undefined,
  });
  // The record store the bench's run started (bench/run.ts sets DATABASE_URL for every process).
  const records = process.env.DATABASE_URL ? createRecords(openDb(process.env.DATABASE_URL)) : undefined;
  const deps: ActivityDeps = {
    email,
    env: process.env,
    records,
    log: () => undefined,
    incidents: { client, config, taskQueue: spec.taskQueue, publicBaseUrl: 'http://127.0.0.1:3000' },
  };
  const benchActivities = spec.benchActivities
    ? {
        /** The baseline "one activity per probe": a single probe, its result into history. */
        benchProbeOnce: (check: ProbeCheck) => runProbe(check, { env: process.env }),
      }
    : {};
  let worker: Pick<IncidentWorker, 'run' | 'shutdown' | 'main'>;
  if (!spec.watchMaxRunMs) {
    // The shipped worker (main + probe-loop workers), with the bench's extra activities if asked.
    worker = await createIncidentWorker({
      connection,
      namespace: 'default',
      taskQueue: spec.taskQueue,
      deps,
      workflowBundle: { codePath: spec.bundlePath },
      shutdownGraceTime: '2 seconds',
      ...(spec.probeSlots ? { probeSlots: spec.probeSlots } : {}),
      ...(spec.benchActivities
        ? { mainOptions: { activities: { ...createActivities(deps), ...benchActivities } } }
        : {}),
    });
  } else {
    // What worker/create.ts builds, but the probe loop returns after `watchMaxRunMs` instead of an
    // hour (createIncidentWorker has no hook for that).
    const compressed = spec.watchMaxRunMs;
    const { watchCheck, probeShard } = createMonitorActivities({ env: process.env });
    const main = await Worker.create({
      connection,
      namespace: 'default',
      taskQueue: spec.taskQueue,
      activities: { ...createActivities(deps), ...benchActivities },
      workflowBundle: { codePath: spec.bundlePath },
      shutdownGraceTime: '2 seconds',
    });
    const probes = await Worker.create({
      connection,
      namespace: 'default',
      taskQueue: probeTaskQueue(spec.taskQueue),
      activities: {
        watchCheck: (input: WatchInput) => watchCheck({ ...input, maxRunMs: compressed }),
        probeShard: (input: ProbeShardRun) => probeShard({ ...input, maxRunMs: compressed }),
      },
      maxConcurrentActivityTaskExecutions: spec.probeSlots ?? 5000,
      shutdownGraceTime: '2 seconds',
    });
    worker = {
      main,
      run: async () => {
        await Promise.all([main.run(), probes.run()]);
      },
      shutdown: () => {
        for (const w of [main, probes]) if (w.getState() === 'RUNNING') w.shutdown();
      },
    };
  }
  const createdAt = Date.now();
  const running = worker.run();
  const readyAt = Date.now();
  const ready: WorkerReady = {
    scriptAt,
    connectedAt,
    createdAt,
    readyAt,
    maxCachedWorkflows: worker.main.options.maxCachedWorkflows,
  };
  process.send?.({ type: 'ready', ready });

  process.on('message', (m: { type: string }) => {
    if (m.type === 'stop') worker.shutdown();
    if (m.type === 'heap') {
      const mu = process.memoryUsage();
      const mib = (x: number) => Math.round((x / 1024 / 1024) * 10) / 10;
      process.send?.({
        type: 'heap',
        heap: {
          rss: mib(mu.rss),
          heapUsed: mib(mu.heapUsed),
          heapTotal: mib(mu.heapTotal),
          external: mib(mu.external),
          arrayBuffers: mib(mu.arrayBuffers),
        },
      });
    }
  });
  // The parent going away is a stop too.
  process.on('disconnect', () => worker.shutdown());

  await running;
  email.close();
  await clientConnection.close();
  await connection.close();
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error('[bench worker] fatal:', e);
  process.exit(1);
});
