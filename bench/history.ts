/**
 * 5. History events: per incident lifecycle, and per healthy monitor-hour at a 30 s interval.
 *
 * - Lifecycle: declare (no probe configured) → level-1 page → acknowledge → resolve (no probes, so
 *   on the responder's word) → resolved notice → postmortem child. Counted: the incident's whole
 *   history, plus the postmortem child's up to the moment its draft is mailed (it then waits days for
 *   reminders). Also: events added by one re-acknowledge.
 * - Healthy monitor, real interval: a few monitors at 30 s against a local listener; their history
 *   length is read after the first probe and again at the end, a few probes later (constant).
 * - Healthy monitor, per hour: a probe shard's activity returns only after an hour, so one hour of a
 *   shard is one cycle, and a healthy monitor writes nothing at all. A worker whose `probeShard`
 *   returns after 4 s instead (same workflow code) shows what one cycle writes: events/hour = the
 *   shard's events per cycle (shared by all its checks) + the monitor's growth over the window.
 * - Baseline "one activity per probe" (bench/workflows.ts `benchProbeLoopWorkflow`): probe, sleep,
 *   probe … at a 1 s interval; events per probe from two runs of different length; × 120 probes/hour.
 */
import net from 'node:net';
import path from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { reportIncident } from '../client/incidents.js';
import { reconcileMonitors } from '../client/monitors.js';
import type { ProbeCheck } from '../domain/config-schema.js';
import { acknowledgeUpdate, incidentWorkflowId, resolveUpdate } from '../workflows/definitions.js';
import { monitorWorkflowId } from '../workflows/monitor.js';
import {
  connectClient,
  genConfig,
  pool,
  round,
  row,
  sleep,
  startWorker,
  until,
  type BenchContext,
  type BenchOptions,
  type BenchResult,
} from './lib.js';

const historyLength = async (client: Client, workflowId: string, runId?: string) =>
  (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events?.length ?? 0;

async function eventTypes(client: Client, workflowId: string): Promise<Record<string, number>> {
  const h = await client.workflow.getHandle(workflowId).fetchHistory();
  const out: Record<string, number> = {};
  for (const e of h.events ?? []) {
    // eventType is a numeric enum: name it from the attributes field that is set.
    const key =
      Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k]) ?? '?';
    const name = key.replace(/EventAttributes$/, '');
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}

function ledgerKeys(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map(
        (f) =>
          (JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { idempotencyKey: string }).idempotencyKey,
      );
  } catch {
    return [];
  }
}

/** Waits until a workflow's history stops growing for `quietMs`. */
async function settledLength(client: Client, workflowId: string, quietMs = 1500): Promise<number> {
  let last = -1;
  let since = Date.now();
  for (;;) {
    const n = await historyLength(client, workflowId);
    if (n !== last) {
      last = n;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return n;
    await sleep(250);
  }
}

export async function historyBench(ctx: BenchContext, o: BenchOptions): Promise<BenchResult> {
  const realWindowS = o.quick ? 35 : 65;
  const healthyMonitors = 3;
  const compressedRunMs = 4_000;
  const compressedWindowS = o.quick ? 14 : 22;
  const id = randomUUID().slice(0, 6);
  const tqReal = `bench-hist-${id}`;
  const tqCompressed = `bench-hist-c-${id}`;

  // Healthy targets: one for the real-interval monitors (its connections are their probes), one for
  // the compressed ones and the baseline.
  let probes = 0;
  const listen = async (onConnection: () => void) => {
    const server = net.createServer((s) => {
      onConnection();
      s.on('error', () => undefined);
      s.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return server;
  };
  const target = await listen(() => probes++);
  const otherTarget = await listen(() => undefined);
  const tcp = (checkId: string, service: string, interval: string, server: net.Server) => ({
    id: checkId,
    service,
    kind: 'tcp',
    host: '127.0.0.1',
    port: (server.address() as net.AddressInfo).port,
    interval,
    timeout: '1s',
  });

  const realServices = Array.from({ length: healthyMonitors }, (_, i) => `hist-${id}-mon-${i + 1}`);
  const lifeService = `hist-${id}-life`;
  const ackService = `hist-${id}-ack`;
  const realConfig = genConfig({
    services: [...realServices, lifeService, ackService],
    levelTimeouts: ['1h', '1h'],
    checks: realServices.map((s) => tcp(`${s}-tcp`, s, '30s', target)),
  });
  const compressedServices = [`hist-${id}-cmon-1`, `hist-${id}-cmon-2`];
  const compressedConfig = genConfig({
    services: compressedServices,
    levelTimeouts: ['1h'],
    checks: compressedServices.map((s) => tcp(`${s}-tcp`, s, '1s', otherTarget)),
  });
  const ledgerDir = path.join(ctx.tmpDir, `${tqReal}-sent`);

  const { client, connection } = await connectClient(ctx.address);
  const real = await startWorker(ctx, { taskQueue: tqReal, config: realConfig, ledgerDir });
  const compressed = await startWorker(ctx, {
    taskQueue: tqCompressed,
    config: compressedConfig,
    watchMaxRunMs: compressedRunMs,
    benchActivities: true,
  });
  try {
    // ---- healthy monitors at the real interval: first reading after the first probe ----------------
    const t0 = Date.now();
    const realShards = (await reconcileMonitors(client, realConfig, tqReal)).shards;
    const realIds = realConfig.checks.map((c) => monitorWorkflowId(c.id));
    await until(() => probes >= healthyMonitors, 30_000, 'the first probes', 50);
    await sleep(1000);
    const realStart = await Promise.all(realIds.map((w) => historyLength(client, w)));
    const probesAtStart = probes;

    // ---- compressed loop cycles and the one-activity-per-probe baseline, meanwhile --------------------
    const compressedPart = (async () => {
      const { shards } = await reconcileMonitors(client, compressedConfig, tqCompressed);
      const cIds = compressedConfig.checks.map((c) => monitorWorkflowId(c.id));
      await sleep(2000);
      const total = (t: Record<string, number>) => Object.values(t).reduce((a, b) => a + b, 0);
      const read = () => Promise.all([...shards, ...cIds].map((w) => eventTypes(client, w)));
      const before = await read();
      await sleep(compressedWindowS * 1000);
      const after = await read();
      // Shards first: their cycles are their activity runs; the monitors' growth is what probing adds.
      const perCycle = shards.map((_, i) => {
        const cycles = (after[i]!.activityTaskCompleted ?? 0) - (before[i]!.activityTaskCompleted ?? 0);
        return { cycles, events: total(after[i]!) - total(before[i]!) };
      });
      const monitorGrowth = cIds.map((_, j) => {
        const i = shards.length + j;
        return total(after[i]!) - total(before[i]!);
      });
      await pool([...cIds, ...shards], 4, (w) =>
        client.workflow
          .getHandle(w)
          .terminate('bench')
          .catch(() => undefined),
      );
      return { perCycle, monitorGrowth, shards: shards.length, eventTypesAfter: after[0] };
    })();

    const baselinePart = (async () => {
      const check = compressedConfig.checks[0] as ProbeCheck;
      const runs = [5, 25];
      const lengths = await Promise.all(
        runs.map(async (rounds) => {
          const h = await client.workflow.start('benchProbeLoopWorkflow', {
            workflowId: `bench-probe-loop-${id}-${rounds}`,
            taskQueue: tqCompressed,
            args: [{ check, intervalMs: 1000, rounds }],
          });
          await h.result();
          return historyLength(client, h.workflowId);
        }),
      );
      return { runs, lengths, perProbe: (lengths[1]! - lengths[0]!) / (runs[1]! - runs[0]!) };
    })();

    const lifecyclePart = (async () => {
      const cfg = { client, config: realConfig, taskQueue: tqReal };
      const r = await reportIncident(cfg, lifeService, {
        eventId: randomUUID(),
        source: 'api',
        actor: 'kari',
        reason: 'bench: history of one lifecycle',
      });
      const wf = incidentWorkflowId(lifeService);
      await until(
        () => ledgerKeys(ledgerDir).some((k) => k.startsWith(`${wf}/`) && k.includes('/page-1/')),
        30_000,
        'the page',
      );
      const h = client.workflow.getHandle(wf);
      await h.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'kari' }] });
      await h.executeUpdate(resolveUpdate, { args: [{ actor: 'kari', note: 'bench' }] });
      await h.result();
      const incidentEvents = await historyLength(client, wf);
      const incidentTypes = await eventTypes(client, wf);
      // Its children (the postmortem; the resolved-notice delivery, if any), from its history.
      const childIds = ((await h.fetchHistory()).events ?? [])
        .map((e) => e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId)
        .filter((x): x is string => !!x);
      const pm = `postmortem-${r.id}`;
      // The postmortem mails its draft, then waits days for reminders: counted once the draft is out.
      await until(
        () => ledgerKeys(ledgerDir).some((k) => k.startsWith(`${pm}/draft`)),
        60_000,
        'the postmortem draft',
      );
      const children: Record<string, { events: number; status: string; types: Record<string, number> }> = {};
      for (const c of childIds) {
        const events = await settledLength(client, c);
        const d = await client.workflow.getHandle(c).describe();
        children[c.replace(r.id, '<id>')] = {
          events,
          status: d.status.name,
          types: await eventTypes(client, c),
        };
      }
      const childEvents = Object.values(children).reduce((a, c) => a + c.events, 0);
      await pool(childIds, 4, (c) =>
        client.workflow
          .getHandle(c)
          .terminate('bench')
          .catch(() => undefined),
      );

      // One more incident: what does a re-acknowledge add?
      const a = await reportIncident(cfg, ackService, {
        eventId: randomUUID(),
        source: 'api',
        actor: 'kari',
        reason: 'bench: re-acknowledge',
        skipVerify: true,
      });
      const ah = client.workflow.getHandle(incidentWorkflowId(ackService));
      await ah.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'kari' }] });
      const ackBefore = await settledLength(client, ah.workflowId, 1000);
      const reacks = 5;
      for (let i = 0; i < reacks; i++)
        await ah.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'kari' }] });
      const ackAfter = await settledLength(client, ah.workflowId, 1000);
      await ah.terminate('bench').catch(() => undefined);
      return {
        incidentId: r.id,
        incidentEvents,
        childEvents,
        incidentTypes,
        children,
        perReacknowledge: (ackAfter - ackBefore) / reacks,
        reacknowledgeIncident: a.id,
      };
    })();

    const [comp, base, life] = await Promise.all([compressedPart, baselinePart, lifecyclePart]);

    // ---- the real-interval monitors, at the end of the window ------------------------------------------
    const left = realWindowS * 1000 - (Date.now() - t0);
    if (left > 0) await sleep(left);
    const realEnd = await Promise.all(realIds.map((w) => historyLength(client, w)));
    const probesInWindow = probes - probesAtStart;
    await pool([...realIds, ...realShards], 4, (w) =>
      client.workflow
        .getHandle(w)
        .terminate('bench')
        .catch(() => undefined),
    );

    const cycles = comp.perCycle.reduce((a, c) => a + c.cycles, 0);
    const cycleEvents = comp.perCycle.reduce((a, c) => a + c.events, 0);
    const perCycle = cycles > 0 ? cycleEvents / cycles : NaN;
    // A healthy monitor's own growth, scaled to an hour (it is 0 unless probing writes to it).
    const monitorPerHour = (Math.max(...comp.monitorGrowth) * 3600) / compressedWindowS;
    const perHourBaseline = base.perProbe * 120;
    const realGrowth = realEnd.map((e, i) => e - realStart[i]!);
    const bench = '5 history events';
    return {
      name: 'history',
      title: 'History events per incident lifecycle and per healthy monitor-hour',
      rows: [
        row({
          bench,
          metric: 'incident lifecycle (incident + its children)',
          value: life.incidentEvents + life.childEvents,
          unit: 'events',
          note: `incident ${life.incidentEvents}; children ${Object.entries(life.children)
            .map(([k, c]) => `${k} ${c.events}`)
            .join(', ')} (the postmortem until its draft is mailed)`,
        }),
        row({ bench, metric: 'per re-acknowledge', value: life.perReacknowledge, unit: 'events' }),
        row({
          bench,
          metric: 'healthy monitor @30s, per hour (its own history)',
          value: monitorPerHour,
          unit: 'events/h',
          baselineLabel: 'one activity per probe (120/h)',
          baseline: perHourBaseline,
        }),
        row({
          bench,
          metric: 'probe shard, per hour (one activity run, shared by its checks)',
          value: perCycle,
          unit: 'events/h',
          baselineLabel: 'one activity per probe (120/h)',
          baseline: perHourBaseline,
        }),
        row({
          bench,
          metric: `healthy monitor @30s, growth over ${round(probesInWindow / healthyMonitors, 1)} probes`,
          value: Math.max(...realGrowth),
          unit: 'events',
          baselineLabel: 'one activity per probe',
          baseline: base.perProbe * (probesInWindow / healthyMonitors),
        }),
      ],
      details: {
        lifecycle: life,
        healthyMonitorRealInterval: {
          monitors: healthyMonitors,
          windowSeconds: realWindowS,
          eventsAfterFirstProbe: realStart,
          eventsAtEnd: realEnd,
          probesInWindow,
        },
        healthyMonitorCompressed: {
          watchMaxRunMs: compressedRunMs,
          intervalMs: 1000,
          windowSeconds: compressedWindowS,
          cycles,
          events: cycleEvents,
          eventsPerCycle: round(perCycle, 2),
          eventTypes: comp.eventTypesAfter,
          shards: comp.shards,
          monitorGrowthInWindow: comp.monitorGrowth,
          note: 'in production a cycle is the hour built into the shard (shardMaxRunMs), so a shard writes events per cycle an hour for all its checks; continue-as-new every 24 cycles adds a new run',
        },
        baselineOneActivityPerProbe: {
          intervalMs: 1000,
          rounds: base.runs,
          historyLengths: base.lengths,
          eventsPerProbe: round(base.perProbe, 2),
          eventsPerHourAt30s: round(perHourBaseline, 1),
        },
      },
    };
  } finally {
    await real.stop();
    await compressed.stop();
    await connection.close();
    await new Promise((r) => target.close(r));
    await new Promise((r) => otherTarget.close(r));
  }
}
