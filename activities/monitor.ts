/**
 * The monitor's probe loop, as one long-lived heartbeating activity: it probes every interval and
 * returns only when the check changes state (or after `maxRunMs`), so a healthy check writes almost
 * nothing to workflow history. Progress survives a worker restart through the heartbeat details.
 * Every probe's start and result also go to the record store's `monitor_status` row (what the API
 * shows: heartbeats are throttled, so their details lag), written in the background, latest wins.
 */
import { Context } from '@temporalio/activity';
import type { ProbeCheck } from '../domain/config-schema.js';
import type { ProbeResult } from '../domain/incident.js';
import { observe, type ThresholdState, type Thresholds } from '../domain/thresholds.js';
import { runProbe } from './probes/index.js';
import { createSecretResolver, type SecretResolver } from './secrets.js';
import type { MonitorStatus, MonitorStatusWrite } from '../store/monitor-status.js';

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
  /** The live state for the API (`monitor_status`); unset → not written. */
  status?: Pick<MonitorStatus, 'put'>;
  log?: { warn(message: string): void };
}) {
  const secrets = deps.secrets ?? createSecretResolver({ env: deps.env });
  /** Per check: one write in flight, and only the newest waiting (a slow store never queues up). */
  const writers = new Map<string, { busy: boolean; next?: MonitorStatusWrite }>();
  const publish = (w: MonitorStatusWrite) => {
    const put = deps.status?.put;
    if (!put) return;
    const writer = writers.get(w.checkId) ?? { busy: false };
    writers.set(w.checkId, writer);
    writer.next = { ...w, updatedAt: new Date().toISOString() };
    if (writer.busy) return;
    writer.busy = true;
    void (async () => {
      while (writer.next) {
        const item = writer.next;
        writer.next = undefined;
        try {
          await put(item);
        } catch (e) {
          deps.log?.warn(
            `monitor ${item.checkId}: live state not written to the record store: ${(e as Error).message}`,
          );
        }
      }
      writer.busy = false;
    })();
  };
  return {
    async watchCheck(input: WatchInput): Promise<WatchResult> {
      const ctx = Context.current();
      const resumed = ctx.info.heartbeatDetails as WatchProgress | undefined;
      let progress: WatchProgress = resumed ?? { state: input.state, probes: 0 };
      const started = Date.now();
      const live = (p: WatchProgress, extra: Partial<MonitorStatusWrite>) =>
        publish({
          checkId: input.check.id,
          ...(p.lastResult ? { lastResult: p.lastResult } : {}),
          health: p.state.health,
          streak: p.state.streak,
          probes: p.probes,
          ...extra,
        });
      for (;;) {
        live(progress, { probingSince: new Date().toISOString() });
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
        if (o.changed || Date.now() - started >= input.maxRunMs) {
          // The monitor starts the next loop at once: its first probe writes `probingSince`.
          live(progress, {});
          return { ...progress, changed: o.changed };
        }
        const wait = o.reprobeNow ? 0 : input.intervalMs;
        progress.nextProbeAt = new Date(Date.now() + wait).toISOString();
        live(progress, { nextProbeAt: progress.nextProbeAt });
        ctx.heartbeat(progress);
        if (wait > 0) await ctx.sleep(wait);
      }
    },
  };
}
