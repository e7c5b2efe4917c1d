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

export async function reconcileMonitors(
  client: Client,
  config: Config,
  taskQueue: string,
): Promise<ReconcileResult> {
  const configured: string[] = [];
  for (const check of config.checks) {
    const mc = monitorConfigFor(config, check);
    await client.workflow.signalWithStart('monitorWorkflow', {
      workflowId: monitorWorkflowId(check.id),
      taskQueue,
      args: [{ config: mc }],
      signal: configureSignal,
      signalArgs: [mc],
    });
    configured.push(check.id);
  }
  const wanted = new Set(config.checks.map((c) => monitorWorkflowId(c.id)));
  const stopped: string[] = [];
  for await (const w of client.workflow.list({
    query: `WorkflowType = 'monitorWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue.replace(/'/g, '')}'`,
  })) {
    if (wanted.has(w.workflowId)) continue;
    await client.workflow.getHandle(w.workflowId).signal(stopSignal);
    stopped.push(w.workflowId);
  }
  return { configured, stopped };
}
