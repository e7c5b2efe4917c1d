/**
 * A real stack for a test: a worker on its own task queue against the shared dev server, the API app
 * with a real Temporal client, and mail going to wherever the test points it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../domain/config-schema.js';
import { createEmailNotifier } from '../../activities/notifiers/email.js';
import { createIncidentWorker } from '../../worker/create.js';
import { createIncidentService, type IncidentService } from '../../api/incident-service.js';
import { buildApp } from '../../api/app.js';
import type { OidcSettings } from '../../api/oidc.js';
import type { RateLimits } from '../../api/plugins/security.js';
import { createAckLinks } from '../../activities/ack-links.js';
import { createPostmortemService } from '../../api/postmortem-service.js';
import { reconcileMonitors } from '../../client/monitors.js';
import { monitorWorkflowId } from '../../workflows/monitor.js';
import { freshStore, type TestStore } from './store.js';

// The SDK's INFO lines drown test output; warnings and errors still show.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed in this process
}

export interface Harness {
  app: FastifyInstance;
  client: Client;
  incidents: IncidentService;
  taskQueue: string;
  outboxDir: string;
  /** The key the worker signs one-click acknowledge links with (and the app verifies them with). */
  ackLinkSecret: string;
  /** The test's own record store (a fresh database on the run's PostgreSQL). */
  store: TestStore;
  /** Bearer header for a contact id (every contact in the config gets a token). */
  auth(contactId: string): { authorization: string };
  close(): Promise<void>;
}

export async function startHarness(o: {
  config: Config;
  smtpUrl?: string;
  worker?: boolean;
  /** Start a monitor workflow per configured check (what the worker does at start). */
  monitors?: boolean;
  rateLimits?: Partial<RateLimits>;
  /** Another Temporal server than the suite's dev server (the time-skipping test server). */
  temporalAddress?: string;
  /** OpenID Connect sign-in for the console. */
  oidc?: OidcSettings;
}): Promise<Harness> {
  const address = o.temporalAddress ?? inject('temporalAddress');
  const taskQueue = `test-${randomUUID()}`;
  const tmp = mkdtempSync(path.join(tmpdir(), 'incident-test-'));
  const outboxDir = path.join(tmp, 'outbox');
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const ackLinkSecret = randomBytes(32).toString('base64url');
  const store = await freshStore();
  const ackLinks = createAckLinks({ secret: ackLinkSecret, baseUrl: 'http://127.0.0.1:3000' });
  const email = createEmailNotifier({
    smtpUrl: o.smtpUrl,
    outboxDir,
    ledgerDir: path.join(tmp, 'sent'),
    from: 'Incident Orchestrator <incidents@test.local>',
    log: () => undefined,
  });

  let nativeConnection: NativeConnection | undefined;
  let running: Promise<void> | undefined;
  let worker: Awaited<ReturnType<typeof createIncidentWorker>> | undefined;
  if (o.worker !== false) {
    nativeConnection = await NativeConnection.connect({ address });
    worker = await createIncidentWorker({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue,
      deps: {
        email,
        env: process.env,
        incidents: { client, config: o.config, taskQueue, publicBaseUrl: 'http://127.0.0.1:3000' },
        ackLinks,
        records: store.records,
        log: () => undefined,
      },
      workflowBundle: { codePath: inject('workflowBundlePath') },
      shutdownGraceTime: '2 seconds',
    });
    running = worker.run();
  }

  const shards = o.monitors ? (await reconcileMonitors(client, o.config, taskQueue)).shards : [];

  const tokens = new Map(o.config.contacts.map((c) => [`token-${c.id}`, c.id]));
  const incidents = createIncidentService({
    client,
    connection,
    config: o.config,
    records: store.records,
    taskQueue,
    publicBaseUrl: 'http://127.0.0.1:3000',
  });
  const postmortems = createPostmortemService({
    client,
    config: o.config,
    taskQueue,
    records: store.records,
  });
  const app = await buildApp({
    config: o.config,
    incidents,
    postmortems,
    staffTokens: tokens,
    ackLinks,
    calendarSecret: ackLinkSecret,
    rateLimits: o.rateLimits,
    records: store.records,
    ...(o.oidc ? { oidc: o.oidc } : {}),
  });

  return {
    app,
    client,
    incidents,
    taskQueue,
    outboxDir,
    ackLinkSecret,
    store,
    auth: (id) => ({ authorization: `Bearer token-${id}` }),
    async close() {
      await app.close();
      if (o.monitors)
        for (const id of new Set([
          ...o.config.checks.map((c) => monitorWorkflowId(c.id)),
          ...shards,
          // Shards a later reconcile of the test started (a changed configuration).
          ...(await runningShards(client, taskQueue)),
        ]))
          await client.workflow
            .getHandle(id)
            .terminate('test finished')
            .catch(() => undefined);
      // Workers before connections, or the run hangs at the end.
      if (worker) {
        worker.shutdown();
        await running;
      }
      await nativeConnection?.close();
      await connection.close();
      email.close();
      await store.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

async function runningShards(client: Client, taskQueue: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const w of client.workflow.list({
      query: `WorkflowType = 'probeShardWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'`,
    }))
      out.push(w.workflowId);
  } catch {
    // visibility unavailable: the ids from the first reconcile still go
  }
  return out;
}

/** Polls until `fn` returns a truthy value, or fails with the last value seen. */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
  );
}
