/**
 * Probe shards on real parts (a Temporal dev server, real TCP listeners, the record store): many
 * checks' probe loops in a few long-lived activities, monitors told only of state changes, shards
 * that follow the configuration, and a shard that moves to the other worker when its worker goes.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { validateConfig } from '../../config/load.js';
import { reconcileMonitors } from '../../client/monitors.js';
import { createIncidentWorker } from '../../worker/create.js';
import { createEmailNotifier } from '../../activities/notifiers/email.js';
import { createMonitorStatus } from '../../store/monitor-status.js';
import { shardOf, shardWorkflowId } from '../../domain/probe-shards.js';
import { monitorStateQuery, monitorWorkflowId } from '../../workflows/monitor.js';
import { shardChecksQuery } from '../../workflows/probe-shard.js';
import type { Config } from '../../domain/config-schema.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';

interface Listener {
  port: number;
  probes: number;
  server: net.Server;
}

async function listen(port = 0): Promise<Listener> {
  const l: Listener = { port, probes: 0, server: net.createServer() };
  l.server.on('connection', (s) => {
    l.probes++;
    s.on('error', () => undefined);
    s.end();
  });
  await new Promise<void>((r) => l.server.listen(port, '127.0.0.1', r));
  l.port = (l.server.address() as net.AddressInfo).port;
  return l;
}
const close = (l: Listener) => new Promise<void>((r) => l.server.close(() => r()));

function shardConfig(prefix: string, listeners: Listener[]): Config {
  return validateConfig(
    {
      contacts: [{ id: 'kari', name: 'Kari Nordmann', email: 'kari@test.local' }],
      policies: [
        { id: 'p', levels: [{ notify: ['kari'], ackTimeout: '10m' }], acknowledgementTimeout: '10m' },
      ],
      services: listeners.map((_, i) => ({
        id: `${prefix}-s${i}`,
        name: `Service ${i}`,
        owner: 'kari',
        policy: 'p',
        severity: 'P3',
      })),
      checks: listeners.map((l, i) => ({
        id: `${prefix}-c${i}`,
        service: `${prefix}-s${i}`,
        kind: 'tcp',
        host: '127.0.0.1',
        port: l.port,
        interval: '1s',
        timeout: '1s',
        failThreshold: 2,
        recoverThreshold: 2,
      })),
      incidents: { verifyAttempts: 1, verifyInterval: '1s', recoveryPasses: 1, recoveryInterval: '1s' },
    },
    'probe-shards',
  ) as Config;
}

const events = async (client: Client, id: string) => {
  const h = await client.workflow.getHandle(id).fetchHistory();
  return h.events ?? [];
};
const signalsNamed = async (client: Client, id: string, name: string) =>
  (await events(client, id)).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === name)
    .length;
const pendingActivities = async (client: Client, id: string) =>
  (await client.workflow.getHandle(id).describe()).raw.pendingActivities ?? [];

describe('probe shards', () => {
  const shards = 4;
  let h: Harness | undefined;
  let listeners: Listener[] = [];
  let prefix = '';
  let config: Config;
  let started: string[] = [];

  afterEach(async () => {
    for (const id of started)
      await h?.client.workflow
        .getHandle(id)
        .terminate('test finished')
        .catch(() => undefined);
    started = [];
    await h?.close();
    h = undefined;
    await Promise.all(listeners.filter((l) => l.server.listening).map(close));
    listeners = [];
  });

  const start = async (n: number, o: { worker?: boolean } = {}) => {
    prefix = `ps-${randomUUID().slice(0, 8)}`;
    listeners = await Promise.all(Array.from({ length: n }, () => listen()));
    config = shardConfig(prefix, listeners);
    h = await startHarness({ config, worker: o.worker });
    return h;
  };
  const reconcile = async (c: Config) => {
    const r = await reconcileMonitors(h!.client, c, h!.taskQueue, {
      shards,
      status: createMonitorStatus(h!.store.db),
    });
    started = [...new Set([...started, ...c.checks.map((x) => monitorWorkflowId(x.id)), ...r.shards])];
    return r;
  };

  it('20 checks run in one probe activity per shard, each check probes every interval, and a healthy monitor writes no history', async () => {
    const { client } = await start(20);
    const r = await reconcile(config);
    const expected = new Set(config.checks.map((c) => shardOf(c.id, shards)));
    expect(r.shards.sort()).toEqual([...expected].map((k) => shardWorkflowId(h!.taskQueue, k)).sort());
    await eventually(async () => listeners.every((l) => l.probes >= 2), 20_000, 'every check probed twice');

    // One activity per shard holds all the loops; no monitor runs an activity of its own.
    const perShard = await Promise.all(r.shards.map((id) => pendingActivities(client, id)));
    expect(perShard.map((p) => p.map((a) => a.activityType?.name))).toEqual(
      r.shards.map(() => ['probeShard']),
    );
    const held = await Promise.all(
      r.shards.map(async (id) => (await client.workflow.getHandle(id).query(shardChecksQuery)).checks),
    );
    expect(held.flat().sort()).toEqual(config.checks.map((c) => c.id).sort());
    for (const c of config.checks.slice(0, 5))
      expect(await pendingActivities(client, monitorWorkflowId(c.id))).toEqual([]);

    // Probing on: every listener gets ≥ 3 more probes, and neither a monitor's nor a shard's history grows.
    const monitor = monitorWorkflowId(config.checks[0]!.id);
    const before = {
      monitor: (await events(client, monitor)).length,
      shard: (await events(client, r.shards[0]!)).length,
    };
    const probes = listeners.map((l) => l.probes);
    await eventually(
      async () => listeners.every((l, i) => l.probes >= probes[i]! + 3),
      20_000,
      '3 more probes each',
    );
    expect((await events(client, monitor)).length).toBe(before.monitor);
    expect((await events(client, r.shards[0]!)).length).toBe(before.shard);

    // The live state reaches monitor_status (in batches), for every check.
    const rows = await createMonitorStatus(h!.store.db).getMany(config.checks.map((c) => c.id));
    expect(rows).toHaveLength(20);
    expect(rows.every((x) => x.health === 'healthy' && x.lastResult?.ok === true && x.probes >= 3)).toBe(
      true,
    );
  }, 90_000);

  it('a check that goes down and comes back tells its monitor once per change: one incident, opened and recovered; both histories replay', async () => {
    const { client } = await start(3);
    await reconcile(config);
    await eventually(async () => listeners.every((l) => l.probes >= 1), 20_000, 'first probes');
    const down = listeners[1]!;
    const check = config.checks[1]!.id;
    const monitor = client.workflow.getHandle(monitorWorkflowId(check));
    await close(down);
    const failing = await eventually(async () => {
      const s = await monitor.query(monitorStateQuery);
      return s.health === 'failing' && s.incident ? s : undefined;
    }, 20_000);
    expect(failing.lastResult?.ok).toBe(false);
    expect(failing.events.some((e) => e.kind === 'failing' && /refused/.test(e.detail))).toBe(true);
    // Back on the same port: recovered.
    listeners[1] = await listen(down.port);
    const healthy = await eventually(async () => {
      const s = await monitor.query(monitorStateQuery);
      return s.health === 'healthy' && s.transitions === 2 ? s : undefined;
    }, 20_000);
    expect(healthy.incident).toBeUndefined();
    // Settle a few more probes: no further signal, whatever the probes say.
    const n = listeners[1]!.probes;
    await eventually(async () => listeners[1]!.probes >= n + 3, 20_000);
    expect(await signalsNamed(client, monitorWorkflowId(check), 'probeChanged')).toBe(2);
    const hist = await events(client, monitorWorkflowId(check));
    const opened = hist.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'openIncidentForCheck',
    );
    const recovered = hist.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'recoverIncidentForCheck',
    );
    expect([opened.length, recovered.length]).toEqual([1, 1]);
    // The other checks never changed: their monitors got no signal.
    for (const other of [config.checks[0]!, config.checks[2]!])
      expect(await signalsNamed(client, monitorWorkflowId(other.id), 'probeChanged')).toBe(0);

    for (const id of [monitorWorkflowId(check), shardWorkflowId(h!.taskQueue, shardOf(check, shards))]) {
      const history = await client.workflow.getHandle(id).fetchHistory();
      await expect(
        Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, id),
      ).resolves.toBeUndefined();
    }
    if (process.env.RECORD_MONITOR_HISTORY) {
      // `RECORD_MONITOR_HISTORY=$PWD/test/fixtures/monitor-sharded-down-up.history.json npx vitest run
      // test/workflows/probe-shards.test.ts -t 'goes down'` keeps the monitor's history as a replay
      // fixture (test/workflows/replay.test.ts); the shard's is replayed above (too short for one).
      writeFileSync(
        process.env.RECORD_MONITOR_HISTORY,
        execFileSync(inject('temporalCli'), [
          'workflow',
          'show',
          '--address',
          inject('temporalAddress'),
          '-w',
          monitorWorkflowId(check),
          '--output',
          'json',
        ]),
      );
    }
  }, 90_000);

  it('a removed check leaves its shard and its live state; an emptied shard ends; the rest keep probing', async () => {
    const { client } = await start(6);
    await reconcile(config);
    await eventually(async () => listeners.every((l) => l.probes >= 1), 20_000, 'first probes');
    const gone = config.checks[0]!;
    const keep = config.checks.slice(1);
    const goneShard = shardOf(gone.id, shards);
    const emptied = !keep.some((c) => shardOf(c.id, shards) === goneShard);
    const r = await reconcile({ ...config, checks: keep });
    expect(r.stopped).toEqual([monitorWorkflowId(gone.id)]);
    const status = createMonitorStatus(h!.store.db);
    expect(await status.get(gone.id)).toBeUndefined();
    const shard = client.workflow.getHandle(shardWorkflowId(h!.taskQueue, goneShard));
    if (emptied) await eventually(async () => (await shard.describe()).status.name === 'COMPLETED', 20_000);
    else
      await eventually(async () => !(await shard.query(shardChecksQuery)).checks.includes(gone.id), 20_000);
    // The removed check's listener hears no more probes; the others go on.
    const quiet = listeners[0]!.probes;
    const others = listeners.slice(1).map((l) => l.probes);
    await eventually(
      async () => listeners.slice(1).every((l, i) => l.probes >= others[i]! + 2),
      20_000,
      'the kept checks probe on',
    );
    expect(listeners[0]!.probes - quiet).toBeLessThanOrEqual(1);
  }, 90_000);

  it('when a worker goes, its shards move to the other worker and every check probes again there', async () => {
    await start(12, { worker: false });
    const workers = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
        const email = createEmailNotifier({
          outboxDir: path.join(tmpdir(), `ps-${prefix}-${name}`, 'outbox'),
          ledgerDir: path.join(tmpdir(), `ps-${prefix}-${name}`, 'sent'),
          from: 'Incident Orchestrator <incidents@test.local>',
          log: () => undefined,
        });
        const worker = await createIncidentWorker({
          connection,
          namespace: 'default',
          taskQueue: h!.taskQueue,
          deps: {
            email,
            env: process.env,
            incidents: {
              client: h!.client,
              config,
              taskQueue: h!.taskQueue,
              publicBaseUrl: 'http://127.0.0.1:3000',
            },
            records: h!.store.records,
            log: () => undefined,
          },
          workflowBundle: { codePath: inject('workflowBundlePath') },
          shutdownGraceTime: '1 second',
          identity: `probes-${name}`,
        });
        return { name, worker, connection, email, running: worker.run() };
      }),
    );
    try {
      const r = await reconcile(config);
      await eventually(async () => listeners.every((l) => l.probes >= 1), 20_000, 'first probes');
      const holders = async () =>
        Promise.all(
          r.shards.map(async (id) => (await pendingActivities(h!.client, id))[0]?.lastWorkerIdentity ?? ''),
        );
      const first = await eventually(async () => {
        const x = await holders();
        return x.every((w) => w) ? x : undefined;
      }, 20_000);
      // Take away the worker that holds the first shard.
      const victim = workers.find((w) => first[0] === `probes-${w.name}`)!;
      expect(victim).toBeDefined();
      victim.worker.shutdown();
      await victim.running;
      const counts = listeners.map((l) => l.probes);
      const survivor = workers.find((w) => w !== victim)!;
      await eventually(
        async () => listeners.every((l, i) => l.probes >= counts[i]! + 2),
        45_000,
        'every check probes again on the surviving worker',
      );
      expect(await holders()).toEqual(r.shards.map(() => `probes-${survivor.name}`));
    } finally {
      for (const w of workers) {
        if (w.worker.getState() === 'RUNNING') w.worker.shutdown();
        await w.running.catch(() => undefined);
        await w.connection.close();
        w.email.close();
      }
    }
  }, 120_000);
});
