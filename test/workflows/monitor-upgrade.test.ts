/**
 * The upgrade to probe shards, live: a monitor started by the workflow code of the last commit
 * before them (20418b4: its workflows/ and domain/, test/fixtures/before-shards-workflows.tar.gz)
 * runs its own probe loop; a worker with today's code takes over, the next reconcile names the monitor's shard, and the monitor hands its probing
 * to the shard (its own loop ends) and still opens exactly one incident when the check goes down.
 * Its mixed history (old loop, then the marker and shard signals) replays against today's bundle.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { validateConfig } from '../../config/load.js';
import { monitorConfigFor, reconcileMonitors } from '../../client/monitors.js';
import { createIncidentWorker } from '../../worker/create.js';
import { createEmailNotifier } from '../../activities/notifiers/email.js';
import { configureSignal, monitorStateQuery, monitorWorkflowId } from '../../workflows/monitor.js';
import type { Config } from '../../domain/config-schema.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';

describe('upgrade to probe shards', () => {
  let oldBundle = '';
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'old-workflows-'));
    // `git archive --format=tar.gz 20418b4 workflows domain`, kept so a clone without history works.
    execFileSync('tar', ['-xzf', path.resolve('test/fixtures/before-shards-workflows.tar.gz'), '-C', dir]);
    // The old sources resolve their packages from this checkout's node_modules.
    symlinkSync(path.resolve('node_modules'), path.join(dir, 'node_modules'), 'dir');
    const { code } = await bundleWorkflowCode({
      workflowsPath: path.join(dir, 'workflows/index.ts'),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error: (m) => console.error(m), log() {} },
    });
    oldBundle = code;
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let h: Harness | undefined;
  afterAll(async () => {
    await h?.close();
  });

  it('a monitor of the old code hands its probing to its shard at the next reconcile and still opens one incident', async () => {
    let probes = 0;
    const server = net.createServer((s) => {
      probes++;
      s.on('error', () => undefined);
      s.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const prefix = `up-${randomUUID().slice(0, 8)}`;
    const config = validateConfig(
      {
        contacts: [{ id: 'kari', name: 'Kari Nordmann', email: 'kari@test.local' }],
        policies: [
          { id: 'p', levels: [{ notify: ['kari'], ackTimeout: '10m' }], acknowledgementTimeout: '10m' },
        ],
        services: [{ id: `${prefix}-s`, name: 'Export', owner: 'kari', policy: 'p', severity: 'P3' }],
        checks: [
          {
            id: `${prefix}-tcp`,
            service: `${prefix}-s`,
            kind: 'tcp',
            host: '127.0.0.1',
            port,
            interval: '1s',
            timeout: '1s',
            failThreshold: 2,
          },
        ],
        incidents: { verifyAttempts: 1, verifyInterval: '1s' },
      },
      'upgrade',
    ) as Config;
    const checkId = config.checks[0]!.id;
    h = await startHarness({ config, worker: false });
    const { client, taskQueue } = h;
    const startWorker = async (bundle: { code: string } | { codePath: string }, name: string) => {
      const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
      const email = createEmailNotifier({
        outboxDir: path.join(dir, name, 'outbox'),
        ledgerDir: path.join(dir, name, 'sent'),
        from: 'Incident Orchestrator <incidents@test.local>',
        log: () => undefined,
      });
      const worker = await createIncidentWorker({
        connection,
        namespace: 'default',
        taskQueue,
        deps: {
          email,
          env: process.env,
          incidents: { client, config, taskQueue, publicBaseUrl: 'http://127.0.0.1:3000' },
          records: h!.store.records,
          log: () => undefined,
        },
        workflowBundle: bundle,
        shutdownGraceTime: '1 second',
        identity: name,
      });
      const running = worker.run();
      return {
        stop: async () => {
          worker.shutdown();
          await running;
          await connection.close();
          email.close();
        },
      };
    };
    const monitorId = monitorWorkflowId(checkId);
    const monitor = client.workflow.getHandle(monitorId);
    const pending = async () =>
      ((await monitor.describe()).raw.pendingActivities ?? []).map((a) => a.activityType?.name);
    let shards: string[] = [];
    const old = await startWorker({ code: oldBundle }, 'old');
    let current: Awaited<ReturnType<typeof startWorker>> | undefined;
    try {
      // What the old reconcile did: the monitor with its configuration, no shard.
      const mc = monitorConfigFor(config, config.checks[0]!);
      await client.workflow.signalWithStart('monitorWorkflow', {
        workflowId: monitorId,
        taskQueue,
        args: [{ config: mc }],
        signal: configureSignal,
        signalArgs: [mc],
      });
      await eventually(async () => probes >= 2, 20_000, 'the old loop probes');
      expect(await pending()).toEqual(['watchCheck']);
      await old.stop();

      // Today's worker takes over; until the next reconcile the monitor keeps its own loop.
      current = await startWorker({ codePath: inject('workflowBundlePath') }, 'current');
      const n = probes;
      await eventually(async () => probes >= n + 2, 30_000, 'the old loop probes on the new worker');
      expect(await pending()).toEqual(['watchCheck']);

      shards = (await reconcileMonitors(client, config, taskQueue, { shards: 2 })).shards;
      // The old loop learns of its cancellation at its next heartbeat (throttled to 0.8 × 60 s); the
      // monitor stops waiting for it at once and the shard probes meanwhile.
      await eventually(async () => (await pending()).length === 0, 70_000, 'the monitor’s own loop ends');
      const [shard] = shards;
      expect(
        ((await client.workflow.getHandle(shard!).describe()).raw.pendingActivities ?? []).map(
          (a) => a.activityType?.name,
        ),
      ).toEqual(['probeShard']);
      const m = probes;
      await eventually(async () => probes >= m + 2, 20_000, 'the shard probes');

      // Down: one incident, from the shard's signal.
      await new Promise<void>((r) => server.close(() => r()));
      const failing = await eventually(async () => {
        const s = await monitor.query(monitorStateQuery);
        return s.health === 'failing' && s.incident ? s : undefined;
      }, 20_000);
      expect(failing.incident!.service).toBe(`${prefix}-s`);
      const history = await monitor.fetchHistory();
      const opened = (history.events ?? []).filter(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'openIncidentForCheck',
      );
      expect(opened).toHaveLength(1);
      const signalled = (history.events ?? []).filter(
        (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'probeChanged',
      );
      expect(signalled).toHaveLength(1);
      await expect(
        Worker.runReplayHistory(
          { workflowBundle: { codePath: inject('workflowBundlePath') } },
          history,
          monitorId,
        ),
      ).resolves.toBeUndefined();
    } finally {
      for (const id of [monitorId, ...shards])
        await client.workflow
          .getHandle(id)
          .terminate('test finished')
          .catch(() => undefined);
      await current?.stop();
      if (server.listening) await new Promise<void>((r) => server.close(() => r()));
    }
  }, 180_000);
});
