/**
 * Builds the worker from its dependencies, so `worker/main.ts`, the tests and the benchmarks create
 * it the same way. Two Temporal workers in one process:
 * - the main one (task queue `<taskQueue>`): every workflow and the short activities (pages, chat,
 *   verification probes, incident reports);
 * - the probe one (`<taskQueue>-probes`): the probe shards' long-lived `probeShard` activities (and
 *   `watchCheck`, one per check, for monitors started before the shards), each holding an activity
 *   slot for up to an hour. Kept apart so the probe loops never take the slots a page needs.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, secretResolverOf, type ActivityDeps } from '../activities/index.js';
import { createMonitorActivities } from '../activities/monitor.js';
import { createMonitorStatus } from '../store/monitor-status.js';
import { probeTaskQueue } from '../workflows/monitor.js';
import type { Tracing } from '../config/tracing.js';

const require = createRequire(import.meta.url);

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A pre-built bundle (tests build it once); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  /** Probe loops that can run at once (one per monitored check; they mostly sleep). Default 5,000. */
  probeSlots?: number;
  /**
   * OpenTelemetry (config/tracing.ts): workflow and activity spans on the main worker. Its workflow
   * interceptors must be in the bundle, so a traced worker loads dist/workflow-bundle-traced.js (or
   * bundles at start) instead of the plain bundle. The probe loops are not traced: each is an
   * hour-long activity, and their results reach the monitor workflows, which are.
   */
  tracing?: Tracing;
  /** Workflows kept in memory between tasks (default `defaultCachedWorkflows`; WORKER_CACHED_WORKFLOWS). */
  maxCachedWorkflows?: number;
  /** The workers' identity in Temporal (default pid@host); tests running two in one process set it. */
  identity?: string;
  /** Extra options for the main worker (benchmarks). */
  mainOptions?: Partial<WorkerOptions>;
}

export interface IncidentWorker {
  /** Runs both workers until `shutdown()`; rejects if either fails. */
  run(): Promise<void>;
  /** Graceful: running activities finish (within the grace time). */
  shutdown(): void;
  /** The main worker's state (the probe worker follows it). */
  getState(): ReturnType<Worker['getState']>;
  main: Worker;
  probes: Worker;
}

/**
 * Workflows the main worker keeps in memory between their tasks. Each costs ~0.3 MiB; a monitor or a
 * quiet incident that is not kept is replayed from its (short) history at its next task. The SDK's
 * default grows with the heap limit (thousands), so 1,000 idle monitors held ~300 MiB more than this
 * (benchmark 7: 667 vs 359 MiB worker RSS at 1,000 checks).
 */
export const defaultCachedWorkflows = 250;

/** This module runs compiled (dist/, `npm run build`) rather than as TypeScript through tsx. */
const compiled = import.meta.url.endsWith('.js');

export function workflowsPath(): string {
  return require.resolve(compiled ? '../workflows/index.js' : '../workflows/index.ts');
}

/**
 * The workflow bundle `npm run build` made (dist/workflow-bundle.js; with the OpenTelemetry workflow
 * interceptors, dist/workflow-bundle-traced.js), when running compiled.
 */
export function prebuiltWorkflowBundle(traced = false): { codePath: string } | undefined {
  if (!compiled) return undefined;
  const codePath = fileURLToPath(
    new URL(traced ? '../workflow-bundle-traced.js' : '../workflow-bundle.js', import.meta.url),
  );
  return existsSync(codePath) ? { codePath } : undefined;
}

export async function createIncidentWorker(o: CreateWorkerOptions): Promise<IncidentWorker> {
  const shutdownGraceTime = o.shutdownGraceTime ?? '10 seconds';
  const bundle = o.tracing ? prebuiltWorkflowBundle(true) : (o.workflowBundle ?? prebuiltWorkflowBundle());
  const main = await Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue,
    activities: createActivities(o.deps),
    ...(bundle ? { workflowBundle: bundle } : { workflowsPath: workflowsPath() }),
    shutdownGraceTime,
    maxCachedWorkflows: o.maxCachedWorkflows ?? defaultCachedWorkflows,
    ...(o.identity ? { identity: o.identity } : {}),
    ...(o.tracing ? { plugins: [o.tracing.workerPlugin] } : {}),
    ...o.mainOptions,
  });
  const probes = await Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: probeTaskQueue(o.taskQueue),
    activities: createMonitorActivities({
      env: o.deps.env,
      secrets: secretResolverOf(o.deps),
      status: o.deps.records ? createMonitorStatus(o.deps.records.db) : undefined,
    }),
    ...(o.identity ? { identity: o.identity } : {}),
    maxConcurrentActivityTaskExecutions: o.probeSlots ?? 5000,
    // Probe loops mostly sleep and keep their progress in monitor_status: cancel them at once on
    // shutdown (the shard is retried, on another worker or after the restart) rather than holding
    // the process for the whole grace time.
    shutdownGraceTime: 0,
  });
  return {
    main,
    probes,
    run: async () => {
      await Promise.all([main.run(), probes.run()]);
    },
    getState: () => main.getState(),
    shutdown: () => {
      for (const w of [main, probes]) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}
