/**
 * The API (and optionally an in-process worker) against a Temporal server and task queue the test
 * chooses — a private dev server, or the shared one with a worker running in another process. The
 * harness (harness.ts) always uses the shared server and a random task queue; this is for the drills.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { Client, Connection, type WorkflowClientInterceptor } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../domain/config-schema.js';
import { createEmailNotifier } from '../../activities/notifiers/email.js';
import { createIncidentWorker, type IncidentWorker } from '../../worker/create.js';
import { createIncidentService, type IncidentService } from '../../api/incident-service.js';
import { buildApp } from '../../api/app.js';
import type { RateLimits } from '../../api/plugins/security.js';
import { openDb } from '../../store/db.js';
import { createRecords, type Records } from '../../store/records.js';
import { freshStore } from './store.js';
import type { Tracing } from '../../config/tracing.js';

// Drills take Temporal away on purpose: the SDK's retry warnings ("poll retried 6 times") are
// expected then. Import this module before harness.ts so that this runtime is the one installed.
try {
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });
} catch {
  // already installed in this process
}

export interface Stack {
  records: Records;
  app: FastifyInstance;
  client: Client;
  connection: Connection;
  incidents: IncidentService;
  taskQueue: string;
  address: string;
  /** The in-process worker, when started. */
  worker?: IncidentWorker;
  /** Set when the in-process worker stopped with an error (it should never, whatever the server does). */
  workerError(): unknown;
  /** Errors the Temporal client raised (before the API turned them into HTTP answers), for diagnosis. */
  temporalErrors: TemporalError[];
  auth(contactId: string): { authorization: string };
  close(): Promise<void>;
}

export interface TemporalError {
  op: string;
  at: number;
  name: string;
  /** gRPC status code, where there is one. */
  code?: number;
  message: string;
}

/** Records every error of the calls the API makes (queries, updates, update-with-start, describe). */
function errorRecorder(into: TemporalError[]): WorkflowClientInterceptor {
  const wrap =
    <I, O>(op: string) =>
    async (input: I, next: (input: I) => Promise<O>): Promise<O> => {
      try {
        return await next(input);
      } catch (e) {
        const err = e as {
          name?: string;
          code?: number;
          message?: string;
          cause?: { code?: number; details?: string; message?: string };
        };
        const cause = err.cause?.details ?? err.cause?.message;
        into.push({
          op,
          at: Date.now(),
          name: err.name ?? 'Error',
          code: err.code ?? err.cause?.code,
          message: `${err.message}${cause && cause !== err.message ? `: ${cause}` : ''}`.slice(0, 300),
        });
        throw e;
      }
    };
  return {
    query: wrap('query'),
    startUpdate: wrap('startUpdate'),
    startUpdateWithStart: wrap('startUpdateWithStart'),
    describe: wrap('describe'),
  };
}

export async function startStack(o: {
  config: Config;
  /** Defaults to the shared test server. */
  address?: string;
  /** Defaults to a fresh random queue. */
  taskQueue?: string;
  /** Run a worker in this process too (default false: the API only). */
  worker?: boolean;
  smtpUrl?: string;
  /** Outbox and sent-mail ledger of the in-process worker; a temporary folder by default. */
  dataDir?: string;
  callTimeoutMs?: number;
  rateLimits?: Partial<RateLimits>;
  /** The record store's database (drills that share or kill it); a fresh one by default. */
  databaseUrl?: string;
  /** OpenTelemetry on the client, the worker and the app, as api/server.ts and worker/main.ts wire it. */
  tracing?: Tracing;
}): Promise<Stack> {
  const address = o.address ?? inject('temporalAddress');
  const taskQueue = o.taskQueue ?? `drill-${randomUUID()}`;
  const tmp = o.dataDir ? undefined : mkdtempSync(path.join(tmpdir(), 'incident-drill-'));
  const dataDir = o.dataDir ?? tmp!;
  // Lazy, as in api/server.ts: the API process does not need Temporal to start, and reconnects.
  const connection = Connection.lazy({ address });
  const temporalErrors: TemporalError[] = [];
  const client = new Client({
    connection,
    namespace: 'default',
    interceptors: { workflow: [...(o.tracing?.clientInterceptors ?? []), errorRecorder(temporalErrors)] },
  });

  let nativeConnection: NativeConnection | undefined;
  let worker: IncidentWorker | undefined;
  let running: Promise<void> | undefined;
  let workerError: unknown;
  const own = o.databaseUrl ? undefined : await freshStore();
  const db = own?.db ?? openDb(o.databaseUrl!, { connectTimeoutMs: 2_000 });
  const records = createRecords(db);
  const email = createEmailNotifier({
    smtpUrl: o.smtpUrl,
    outboxDir: path.join(dataDir, 'outbox'),
    ledgerDir: path.join(dataDir, 'sent'),
    from: 'Incident Orchestrator <incidents@test.local>',
    log: () => undefined,
  });
  if (o.worker) {
    nativeConnection = await NativeConnection.connect({ address });
    worker = await createIncidentWorker({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue,
      deps: {
        email,
        env: process.env,
        incidents: { client, config: o.config, taskQueue, publicBaseUrl: 'http://127.0.0.1:3000' },
        records,
        log: () => undefined,
      },
      workflowBundle: { codePath: inject('workflowBundlePath') },
      shutdownGraceTime: '2 seconds',
      tracing: o.tracing,
    });
    running = worker.run().catch((e: unknown) => {
      workerError = e;
    });
  }

  const incidents = createIncidentService({
    client,
    connection,
    config: o.config,
    records,
    taskQueue,
    publicBaseUrl: 'http://127.0.0.1:3000',
    callTimeoutMs: o.callTimeoutMs,
  });
  const app = await buildApp({
    config: o.config,
    incidents,
    staffTokens: new Map(o.config.contacts.map((c) => [`token-${c.id}`, c.id])),
    rateLimits: o.rateLimits,
    records,
    tracing: o.tracing,
  });

  return {
    app,
    client,
    connection,
    incidents,
    records,
    taskQueue,
    address,
    worker,
    workerError: () => workerError,
    temporalErrors,
    auth: (id) => ({ authorization: `Bearer token-${id}` }),
    async close() {
      await app.close();
      if (worker) {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
      }
      await nativeConnection?.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
      email.close();
      await db.end().catch(() => undefined);
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/**
 * A page mail's `(step, recipient)` key — the step label ends the subject (`… — level 2 page`,
 * `… — level 1 page (repeat 1)`, `… — final fallback page`) — or undefined for other mail.
 */
export function pageKey(m: { subject: string; to: string[] }): string | undefined {
  const step = m.subject.split(' — ').pop() ?? '';
  return /^(level \d+ page|final fallback page)/.test(step) ? `${step} → ${m.to.join(',')}` : undefined;
}

/** How many of each. */
export function tally(keys: readonly (string | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) if (k !== undefined) out[k] = (out[k] ?? 0) + 1;
  return out;
}
