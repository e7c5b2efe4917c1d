/**
 * 10. `kill -9` one of two workers running 1,000 checks: do they all probe again, on the survivor,
 * within the stated liveness time (the probe loop's heartbeat timeout, `probeLivenessMs`, 60 s, plus
 * the 1 s retry and one interval), and does the move open no incident? Two shipped workers (each its
 * own process, the same task queue), `tcp` checks at a 10 s interval, each against its own listener
 * on 127.0.0.1 that records when it was probed. After a warm-up, the worker that holds more of the
 * checks' probe loops is killed; the figure per check is the time from the kill to its next probe.
 * Baseline: the checks whose loops were on the surviving worker (their gap is about one interval).
 */
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { reconcileMonitors } from '../client/monitors.js';
import { monitorWorkflowId, probeLivenessMs } from '../workflows/monitor.js';
import {
  connectClient,
  genConfig,
  ids,
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
} from './lib.js';

/** One listener per check; `probedAt[i]` is every time check i connected. */
async function listen(n: number) {
  const probedAt: number[][] = Array.from({ length: n }, () => []);
  const servers = await Promise.all(
    Array.from(
      { length: n },
      (_, i) =>
        new Promise<net.Server>((resolve, reject) => {
          const s = net.createServer((socket) => {
            probedAt[i]!.push(Date.now());
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
    probedAt,
    close: () => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))),
  };
}

export async function workerKillBench(ctx: BenchContext, o: BenchOptions): Promise<BenchResult> {
  const n = o.quick ? 100 : 1000;
  const intervalS = 10;
  const warmSeconds = 30;
  const statedMs = probeLivenessMs + 1000 + intervalS * 1000;
  // Wait past the stated time, so a check that misses it is seen missing it, not cut off.
  const waitLimitMs = statedMs + 60_000;
  const taskQueue = `bench-kill-${randomUUID().slice(0, 8)}`;
  const listeners = await listen(n);
  const services = ids('kill', n);
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
  const { client, connection } = await connectClient(ctx.address);
  const workers = [
    await startWorker(ctx, { taskQueue, config }),
    await startWorker(ctx, { taskQueue, config }),
  ];
  const countIncidents = async () =>
    (await client.workflow.count(`WorkflowType = 'incidentWorkflow' AND TaskQueue = '${taskQueue}'`)).count;
  let shards: string[] = [];
  try {
    const t0 = Date.now();
    shards = (await reconcileMonitors(client, config, taskQueue)).shards;
    const reconcileMs = Date.now() - t0;
    ctx.log(`${n} monitors on two workers, started in ${reconcileMs} ms; warming up ${warmSeconds} s`);
    await sleep(warmSeconds * 1000);
    const probedBefore = listeners.probedAt.filter((a) => a.length > 0).length;
    const incidentsBefore = await countIncidents();
    // Kill the busier worker: the one that used more CPU in the warm-up holds more probe loops.
    const victim = workers[0]!.cpuSeconds() >= workers[1]!.cpuSeconds() ? 0 : 1;
    const killedAt = Date.now();
    process.kill(workers[victim]!.pid, 'SIGKILL');
    ctx.log(`kill -9 worker ${victim + 1} (pid ${workers[victim]!.pid})`);
    const next = (i: number) => listeners.probedAt[i]!.find((t) => t > killedAt);
    while (Date.now() - killedAt < waitLimitMs) {
      if (listeners.probedAt.every((_, i) => next(i) !== undefined)) break;
      await sleep(1000);
    }
    const gaps = listeners.probedAt
      .map((_, i) => next(i))
      .map((t) => (t === undefined ? undefined : t - killedAt));
    const back = gaps.filter((g): g is number => g !== undefined);
    // A loop on the survivor probes again within about an interval; anything later had to move.
    const moved = back.filter((g) => g > intervalS * 1000 + 5000);
    const stayed = back.filter((g) => g <= intervalS * 1000 + 5000);
    const incidentsAfter = await countIncidents();
    const m = summarize(moved.map((g) => g / 1000));
    const s = summarize(stayed.map((g) => g / 1000));
    ctx.log(
      `${back.length}/${n} probed again; ${moved.length} moved: p50 ${round(m.p50, 1)} s, max ${round(m.max, 1)} s (stated ${statedMs / 1000} s); incidents ${incidentsBefore} → ${incidentsAfter}`,
    );
    const bench = `10 kill -9 1 of 2 workers, ${n} checks @${intervalS}s`;
    const stated = `stated liveness ${statedMs / 1000} s`;
    return {
      name: 'worker-kill',
      title: `kill -9 one of two workers running ${n} checks: every check probes again on the survivor`,
      rows: [
        row({
          bench,
          metric: 'checks that probed again',
          value: back.length,
          unit: '',
          baselineLabel: 'checks configured',
          baseline: n,
        }),
        row({
          bench,
          metric: `moved checks (${moved.length}): kill → next probe, max`,
          value: round(m.max, 1),
          unit: 's',
          baselineLabel: stated,
          baseline: statedMs / 1000,
        }),
        row({
          bench,
          metric: 'moved checks: kill → next probe, p50',
          value: round(m.p50, 1),
          unit: 's',
          baselineLabel: `checks on the survivor (${stayed.length}), p50`,
          baseline: round(s.p50, 1),
        }),
        row({
          bench,
          metric: 'incidents opened by the move',
          value: incidentsAfter - incidentsBefore,
          unit: '',
        }),
      ],
      details: {
        checks: n,
        intervalSeconds: intervalS,
        reconcileMs,
        warmSeconds,
        probedBeforeKill: probedBefore,
        killedWorker: victim + 1,
        statedLivenessMs: statedMs,
        movedSeconds: roundSummary(m),
        stayedSeconds: roundSummary(s),
        neverProbedAgain: gaps.flatMap((g, i) => (g === undefined ? [services[i]] : [])),
        incidents: { before: incidentsBefore, after: incidentsAfter },
      },
    };
  } finally {
    for (const w of workers) await w.stop();
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
