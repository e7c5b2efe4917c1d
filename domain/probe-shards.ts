/**
 * Probe shards: the probe loops of many checks run in one long-lived activity (a shard), so the cost
 * to Temporal is a few heartbeats a minute per shard plus one signal per state change, not one
 * heartbeating activity per check. Which shard a check is in depends only on its id and the shard
 * count, so every worker and every reconcile agree without asking anyone. Pure.
 */
import type { ProbeCheck } from './config-schema.js';
import { durationMs } from './duration.js';
import { defaultThresholds, type Thresholds } from './thresholds.js';

/**
 * Shards per task queue. Each is one activity on whichever worker takes it, so this many is enough
 * to spread the checks over a handful of workers and small enough that liveness heartbeats cost
 * nothing (16 shards ≈ 20 heartbeats a minute, whatever the number of checks).
 */
export const defaultProbeShards = 16;

/**
 * A shard's check list travels in its workflow input and each activity it schedules; past this many
 * checks in one shard the payload nears Temporal's 2 MB blob limit, so reconcile refuses and says to
 * raise the shard count.
 */
export const maxChecksPerShard = 5000;

export const defaultIntervalMs = 30_000;
export const defaultTimeoutMs = 10_000;

/** FNV-1a of the check id: stable across processes and versions (never change it: checks would move). */
export function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function shardOf(checkId: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1)
    throw new Error(`shard count must be a whole number ≥ 1, not ${shards}`);
  return hashId(checkId) % shards;
}

/** The shard workflow's id: one set of shards per task queue. */
export function shardWorkflowId(taskQueue: string, shard: number): string {
  return `probe-shard-${taskQueue}-${shard}`;
}

/** The checks of each non-empty shard, in configuration order. */
export function assignShards(checks: ProbeCheck[], shards: number): Map<number, ProbeCheck[]> {
  const out = new Map<number, ProbeCheck[]>();
  for (const c of checks) {
    const k = shardOf(c.id, shards);
    const list = out.get(k) ?? [];
    list.push(c);
    out.set(k, list);
  }
  for (const [k, list] of out)
    if (list.length > maxChecksPerShard)
      throw new Error(
        `probe shard ${k} would hold ${list.length} checks (at most ${maxChecksPerShard}): raise PROBE_SHARDS (now ${shards})`,
      );
  return out;
}

/** How a probe check is run: its thresholds, interval and hard per-probe timeout (with defaults). */
export interface ProbePlan {
  thresholds: Thresholds;
  intervalMs: number;
  timeoutMs: number;
}

export function probePlan(check: ProbeCheck): ProbePlan {
  return {
    thresholds: {
      failThreshold: check.failThreshold ?? defaultThresholds.failThreshold,
      recoverThreshold: check.recoverThreshold ?? defaultThresholds.recoverThreshold,
    },
    intervalMs: check.interval ? durationMs(check.interval) : defaultIntervalMs,
    timeoutMs: check.timeout ? durationMs(check.timeout) : defaultTimeoutMs,
  };
}
