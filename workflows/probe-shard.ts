/**
 * One probe shard: runs `probeShard`, the long-lived activity that probes every check of the shard
 * in-process (domain/probe-shards.ts says which), on the probe task queue. The activity sends
 * liveness-only heartbeats, so a dead worker is noticed within `probeLivenessMs` and the shard is
 * retried on a surviving worker; it signals a check's monitor only when the check changes state. A
 * new assignment (reconcile, after a configuration change) replaces the running activity; an empty
 * one ends the shard. History: a few events per activity run (one an hour), none per probe.
 */
import {
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ProbeCheck } from '../domain/config-schema.js';
import { probeLivenessMs, probeTaskQueue } from './monitor.js';

export interface ProbeShardInput {
  shard: number;
  checks: ProbeCheck[];
}

export const assignSignal = defineSignal<[{ checks: ProbeCheck[] }]>('assign');
export const shardChecksQuery = defineQuery<{ shard: number; checks: string[]; runs: number }>('shardChecks');

/** A run of the shard's activity returns after this long, so the workflow can continue-as-new. */
export const shardMaxRunMs = 60 * 60_000;

export async function probeShardWorkflow(input: ProbeShardInput): Promise<void> {
  let checks = input.checks;
  let version = 0;
  let runs = 0;
  setHandler(assignSignal, ({ checks: next }) => {
    if (JSON.stringify(next) === JSON.stringify(checks)) return;
    checks = next;
    version++;
  });
  setHandler(shardChecksQuery, () => ({ shard: input.shard, checks: checks.map((c) => c.id), runs }));

  const { probeShard } = proxyActivities<Activities>({
    taskQueue: probeTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: shardMaxRunMs + 5 * 60_000,
    heartbeatTimeout: probeLivenessMs,
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
    // The replaced run's result no longer matters; it stops at its next heartbeat (or at once when
    // the new run lands on the same worker).
    cancellationType: 'TRY_CANCEL',
  });

  for (;;) {
    if (checks.length === 0) return;
    if (runs >= 24 || workflowInfo().continueAsNewSuggested)
      await continueAsNew<typeof probeShardWorkflow>({ shard: input.shard, checks });
    runs++;
    const v = version;
    let done = false;
    const scope = new CancellationScope();
    const run = scope.run(() => probeShard({ shard: input.shard, checks, maxRunMs: shardMaxRunMs }));
    run.then(
      () => (done = true),
      () => (done = true),
    );
    await condition(() => done || version !== v);
    if (!done) scope.cancel();
    try {
      await run;
    } catch (e) {
      if (!isCancellation(e)) throw e;
    }
  }
}
