/**
 * Keeps one monitor per configured check and the probe shards that probe them: starts missing ones,
 * sends changed configuration to running ones, stops monitors whose check was removed and ends
 * shards left empty. Idempotent: run it at every start.
 */
import type { Client } from '@temporalio/client';
import type { Check, Config, ProbeCheck } from '../domain/config-schema.js';
import { assignShards, defaultProbeShards, shardOf, shardWorkflowId } from '../domain/probe-shards.js';
import { assignSignal } from '../workflows/probe-shard.js';
import { allOccurrences, covers, maintenanceHorizonMs } from '../domain/maintenance.js';
import {
  configureSignal,
  monitorWorkflowId,
  stopSignal,
  type MaintenanceWindow,
  type MonitorConfig,
} from '../workflows/monitor.js';

/**
 * The check's monitor configuration. Recurring maintenance windows are laid out as fixed periods
 * from now to `maintenanceHorizonMs` ahead (the worker reconciles again every day, so the horizon
 * moves along).
 */
export function monitorConfigFor(config: Config, check: Check, nowMs = Date.now()): MonitorConfig {
  const windows: MaintenanceWindow[] = allOccurrences(config.maintenance, nowMs, nowMs + maintenanceHorizonMs)
    .filter((o) => covers(o, check))
    .map((o) => ({
      from: new Date(o.start).toISOString(),
      until: new Date(o.end).toISOString(),
      reason: o.reason,
    }));
  return { check, windows };
}

export interface ReconcileResult {
  configured: string[];
  stopped: string[];
  /** The probe shards' workflow ids that hold checks now. */
  shards: string[];
}

export interface ReconcileOptions {
  /** Probe shards per task queue (default `defaultProbeShards`, or PROBE_SHARDS for the worker). */
  shards?: number;
  /** The live probe state of removed checks is forgotten here (the worker passes the record store). */
  status?: { remove(checkIds: string[]): Promise<void> };
}

const isProbe = (c: Check): c is ProbeCheck => c.kind !== 'heartbeat';

/**
 * Start/signal calls in flight at once. One at a time, 2,500 checks took 381 s (a round trip each);
 * this many keeps the server busy without flooding it (each call is one small RPC).
 */
export const reconcileConcurrency = 64;

/** Runs `fn` over `items` with at most `limit` calls in flight; the first failure rejects. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

export async function reconcileMonitors(
  client: Client,
  config: Config,
  taskQueue: string,
  o: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const shardCount = o.shards ?? defaultProbeShards;
  // Before anything starts: a shard too big for its payload is refused here, with what to change.
  const byShard = assignShards(config.checks.filter(isProbe), shardCount);
  // Shards first: probing starts at once, while the worker still creates the monitors (10,000 of
  // them take minutes of workflow tasks; the shards 16 signal-with-starts).
  const shards = [...byShard.keys()].sort((a, b) => a - b);
  await eachLimited(shards, reconcileConcurrency, async (k) => {
    const checks = byShard.get(k)!;
    await client.workflow.signalWithStart('probeShardWorkflow', {
      workflowId: shardWorkflowId(taskQueue, k),
      taskQueue,
      args: [{ shard: k, checks }],
      signal: assignSignal,
      signalArgs: [{ checks }],
    });
  });
  // Then the monitors: a shard's change signal for a monitor not started yet is retried until it is.
  await eachLimited(config.checks, reconcileConcurrency, async (check) => {
    const mc: MonitorConfig = {
      ...monitorConfigFor(config, check),
      ...(isProbe(check) ? { shard: shardOf(check.id, shardCount) } : {}),
    };
    await client.workflow.signalWithStart('monitorWorkflow', {
      workflowId: monitorWorkflowId(check.id),
      taskQueue,
      args: [{ config: mc }],
      signal: configureSignal,
      signalArgs: [mc],
    });
  });
  const wantedShards = new Set(shards.map((k) => shardWorkflowId(taskQueue, k)));
  const emptied: string[] = [];
  for await (const w of client.workflow.list({
    query: `WorkflowType = 'probeShardWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue.replace(/'/g, '')}'`,
  })) {
    if (!wantedShards.has(w.workflowId)) emptied.push(w.workflowId);
  }
  // An empty assignment ends the shard (its checks were removed, or moved with a new shard count).
  await eachLimited(emptied, reconcileConcurrency, async (id) => {
    await client.workflow.getHandle(id).signal(assignSignal, { checks: [] });
  });
  const configured = config.checks.map((c) => c.id);
  const wanted = new Set(config.checks.map((c) => monitorWorkflowId(c.id)));
  const unwanted: string[] = [];
  for await (const w of client.workflow.list({
    query: `WorkflowType = 'monitorWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue.replace(/'/g, '')}'`,
  })) {
    if (!wanted.has(w.workflowId)) unwanted.push(w.workflowId);
  }
  await eachLimited(unwanted, reconcileConcurrency, async (id) => {
    await client.workflow.getHandle(id).signal(stopSignal);
  });
  const stoppedChecks = unwanted.map((id) => id.replace(/^monitor-/, ''));
  await o.status?.remove(stoppedChecks.filter((id) => !configured.includes(id)));
  return { configured, stopped: unwanted, shards: [...wantedShards] };
}
