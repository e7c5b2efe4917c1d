/**
 * The container health checks of docker-compose.yml (exit 0 healthy, 1 not, with one line saying why):
 *
 *   node dist/deploy/healthcheck.js worker  this container's worker polls its task queue
 *   node dist/deploy/healthcheck.js api      GET /readyz answers 200 (Temporal reachable)
 *
 * The worker has no HTTP port: it is healthy when Temporal lists a poller of this host (the SDK's
 * default identity is `<pid>@<hostname>`, and a container's hostname is its own) on the workflow task
 * queue that polled in the last two minutes. Connection settings are the worker's own (TEMPORAL_*).
 */
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { Connection } from '@temporalio/client';
import { temporalConnectConfig } from '../config/runtime.js';
import { taskQueueDefault } from '../workflows/definitions.js';

const maxPollAgeMs = 2 * 60_000;

export async function workerHealthy(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const { connectionOptions, namespace } = temporalConnectConfig(env);
  const taskQueue = env.TEMPORAL_TASK_QUEUE || taskQueueDefault;
  const connection = await Connection.connect({ ...connectionOptions, connectTimeout: 5_000 });
  try {
    const r = await connection.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
    });
    const suffix = `@${os.hostname()}`;
    const now = Date.now();
    const ours = (r.pollers ?? []).filter((p) => (p.identity ?? '').endsWith(suffix));
    const recent = ours.some((p) => {
      const s = p.lastAccessTime?.seconds;
      const seconds = typeof s === 'number' ? s : Number(s ?? 0);
      return now - seconds * 1000 < maxPollAgeMs;
    });
    if (recent) return undefined;
    return ours.length === 0
      ? `no worker of ${os.hostname()} polls task queue "${taskQueue}"`
      : `the worker of ${os.hostname()} has not polled "${taskQueue}" for over ${maxPollAgeMs / 60_000} minutes`;
  } finally {
    await connection.close();
  }
}

export async function apiHealthy(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const port = env.PORT || '3000';
  const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5_000) });
  return res.status === 200 ? undefined : `GET /readyz answered ${res.status}`;
}

async function main(which: string | undefined) {
  const check = which === 'worker' ? workerHealthy : which === 'api' ? apiHealthy : undefined;
  if (!check) {
    console.error('usage: healthcheck.ts worker|api');
    process.exit(2);
  }
  let problem: string | undefined;
  try {
    problem = await check();
  } catch (e) {
    problem = (e as Error).message.split('\n')[0];
  }
  if (problem) {
    console.error(`unhealthy: ${problem}`);
    process.exit(1);
  }
  console.log('healthy');
  process.exit(0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main(process.argv[2]);
