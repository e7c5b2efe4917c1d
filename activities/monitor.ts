/**
 * The monitor's probe loop, as one long-lived heartbeating activity: it probes every interval and
 * returns only when the check changes state (or after `maxRunMs`), so a healthy check writes almost
 * nothing to workflow history. Progress survives a worker restart through the heartbeat details.
 */
import { Context } from '@temporalio/activity';
import type { ProbeCheck } from '../domain/config-schema.js';
import type { ProbeResult } from '../domain/incident.js';
import { observe, type ThresholdState, type Thresholds } from '../domain/thresholds.js';
import { runProbe } from './probes/index.js';
import { createSecretResolver, type SecretResolver } from './secrets.js';

export interface WatchInput {
  check: ProbeCheck;
  state: ThresholdState;
  thresholds: Thresholds;
  intervalMs: number;
  timeoutMs: number;
  /** Return after this long even without a change, so the workflow can continue-as-new. */
  maxRunMs: number;
}

export interface TimedResult extends ProbeResult {
  at: string;
}

/** What the activity heartbeats: the API reads it to show the last result and the next probe. */
export interface WatchProgress {
  state: ThresholdState;
  lastResult?: TimedResult;
  /** When the current streak of disagreeing results began (the fault's first failure). */
  streakSince?: string;
  nextProbeAt?: string;
  probes: number;
}

export interface WatchResult extends WatchProgress {
  changed: boolean;
}

export function createMonitorActivities(deps: {
  env: Record<string, string | undefined>;
  /** Credentials only from the worker's config (without one, a check that authenticates is refused). */
  secrets?: SecretResolver;
}) {
  const secrets = deps.secrets ?? createSecretResolver({ env: deps.env });
  return {
    async watchCheck(input: WatchInput): Promise<WatchResult> {
      const ctx = Context.current();
      const resumed = ctx.info.heartbeatDetails as WatchProgress | undefined;
      let progress: WatchProgress = resumed ?? { state: input.state, probes: 0 };
      const started = Date.now();
      for (;;) {
        const run = secrets.checkToRun(input.check);
        const result =
          'refused' in run
            ? run.refused
            : await runProbe(run.check, {
                env: deps.env,
                timeoutMs: input.timeoutMs,
                signal: ctx.cancellationSignal,
              });
        ctx.cancellationSignal.throwIfAborted();
        const at = new Date().toISOString();
        const o = observe(progress.state, result.ok, input.thresholds);
        const streakSince =
          o.state.streak === 0 ? undefined : progress.state.streak === 0 ? at : progress.streakSince;
        progress = {
          state: o.state,
          lastResult: { ...result, at },
          streakSince: o.changed ? (progress.streakSince ?? at) : streakSince,
          probes: progress.probes + 1,
        };
        if (o.changed) return { ...progress, changed: true };
        if (Date.now() - started >= input.maxRunMs) return { ...progress, changed: false };
        const wait = o.reprobeNow ? 0 : input.intervalMs;
        progress.nextProbeAt = new Date(Date.now() + wait).toISOString();
        ctx.heartbeat(progress);
        if (wait > 0) await ctx.sleep(wait);
      }
    },
  };
}
