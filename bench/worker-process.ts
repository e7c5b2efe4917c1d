/**
 * A worker in its own process for the benchmarks (bench/lib.ts `startWorker` forks it), so its CPU
 * and memory can be read from /proc without the load generator mixed in. By default it is the
 * shipped worker (`createIncidentWorker`, the options of worker/create.ts); a benchmark may ask for
 * the bench-only baseline activities, a compressed watch cycle, or a larger activity slot count.
 */
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import type { WatchInput } from '../activities/monitor.js';
import { createEmailNotifier } from '../activities/notifiers/email.js';
import { runProbe } from '../activities/probes/index.js';
import type { Config, ProbeCheck } from '../domain/config-schema.js';
import { createIncidentWorker } from '../worker/create.js';

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
  /** Worker.create's activity slots (the SDK's default is 100). */
  maxConcurrentActivityTaskExecutions?: number;
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
  const deps: ActivityDeps = {
    email,
    env: process.env,
    incidents: { client, config, taskQueue: spec.taskQueue, publicBaseUrl: 'http://127.0.0.1:3000' },
  };
  const shipped = !spec.benchActivities && !spec.watchMaxRunMs && !spec.maxConcurrentActivityTaskExecutions;
  let worker: Worker;
  if (shipped) {
    worker = await createIncidentWorker({
      connection,
      namespace: 'default',
      taskQueue: spec.taskQueue,
      deps,
      workflowBundle: { codePath: spec.bundlePath },
      shutdownGraceTime: '2 seconds',
    });
  } else {
    const activities = createActivities(deps);
    const { watchCheck } = activities;
    const compressed = spec.watchMaxRunMs;
    worker = await Worker.create({
      // The options of worker/create.ts, plus what the benchmark asked for.
      connection,
      namespace: 'default',
      taskQueue: spec.taskQueue,
      activities: {
        ...activities,
        ...(compressed
          ? { watchCheck: (input: WatchInput) => watchCheck({ ...input, maxRunMs: compressed }) }
          : {}),
        ...(spec.benchActivities
          ? {
              /** The baseline "one activity per probe": a single probe, its result into history. */
              benchProbeOnce: (check: ProbeCheck) => runProbe(check, { env: process.env }),
            }
          : {}),
      },
      workflowBundle: { codePath: spec.bundlePath },
      shutdownGraceTime: '2 seconds',
      ...(spec.maxConcurrentActivityTaskExecutions
        ? { maxConcurrentActivityTaskExecutions: spec.maxConcurrentActivityTaskExecutions }
        : {}),
    });
  }
  const createdAt = Date.now();
  const running = worker.run();
  const readyAt = Date.now();
  const ready: WorkerReady = {
    scriptAt,
    connectedAt,
    createdAt,
    readyAt,
    maxCachedWorkflows: worker.options.maxCachedWorkflows,
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
