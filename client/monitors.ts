/**
 * Keeps one monitor workflow per configured check: starts missing ones, sends changed configuration
 * to running ones, stops monitors whose check was removed. Idempotent: run it at every start.
 */
import type { Client } from '@temporalio/client';
import type { Check, Config } from '../domain/config-schema.js';
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
}

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
): Promise<ReconcileResult> {
  await eachLimited(config.checks, reconcileConcurrency, async (check) => {
    const mc = monitorConfigFor(config, check);
    await client.workflow.signalWithStart('monitorWorkflow', {
      workflowId: monitorWorkflowId(check.id),
      taskQueue,
      args: [{ config: mc }],
      signal: configureSignal,
      signalArgs: [mc],
    });
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
  return { configured, stopped: unwanted };
}
