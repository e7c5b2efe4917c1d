/**
 * The monitor's probe loop, as one long-lived heartbeating activity: it probes every interval and
 * returns only when the check changes state (or after `maxRunMs`), so a healthy check writes almost
 * nothing to workflow history. Heartbeats carry liveness only (no details): they are sent on a timer
 * (a third of the heartbeat timeout, the SDK throttles them to 0.8 of it), independent of probes, so
 * a dead worker is noticed within the heartbeat timeout the monitor sets (`probeLivenessMs`). Every
 * probe's start and result go to the record store's `monitor_status` row (what the API shows),
 * written in the background, latest wins; a retried loop takes its streak back from that row.
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

/** The loop's progress (returned on a change; the live part is in `monitor_status`). */
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

/**
 * Jitter: each check probes at its own phase of the interval (a hash of its id), so checks with the
 * same interval do not fire together, and the period stays the interval (a probe's latency does not
 * push the next one back). The wait is between half and one and a half intervals, so the first wait
 * of a loop that started off-phase is never much shorter or longer than the interval.
 */
export function untilNextSlot(checkId: string, intervalMs: number, nowMs: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < checkId.length; i++) h = Math.imul(h ^ checkId.charCodeAt(i), 0x01000193) >>> 0;
  const phase = h % intervalMs;
  let wait = (((phase - nowMs) % intervalMs) + intervalMs) % intervalMs;
  if (wait < intervalMs / 2) wait += intervalMs;
  return wait;
}

/**
 * Probes in flight at once per worker. Every probe has a hard timeout, so a slot is busy at most that
 * long; this is sized so that even 1,000 checks at 30 s whose probes all time out at 10 s (~333 in
 * flight) never wait for a slot — unlike a health checker with a few slots, where one timeout queues
 * the others (Gatus' 3 slots made a dropped port take 48 s to detect).
 */
export const defaultProbeConcurrency = 1000;

/** A counting semaphore: `run` waits for a free slot (first come, first served); waits are logged. */
export function probeSlots(limit: number, log?: { warn(message: string): void }) {
  let busy = 0;
  const waiting: (() => void)[] = [];
  let warnedAt = 0;
  return {
    get busy() {
      return busy;
    },
    get waiting() {
      return waiting.length;
    },
    async run<T>(fn: () => Promise<T>): Promise<T> {
      if (busy >= limit) {
        if (Date.now() - warnedAt > 60_000) {
          warnedAt = Date.now();
          log?.warn(`all ${limit} probe slots are busy: probes wait (raise probeConcurrency or add workers)`);
        }
        await new Promise<void>((r) => waiting.push(r));
      } else busy++;
      try {
        return await fn();
      } finally {
        const next = waiting.shift();
        if (next) next();
        else busy--;
      }
    },
  };
}

export function createMonitorActivities(deps: {
  env: Record<string, string | undefined>;
  /** Credentials only from the worker's config (without one, a check that authenticates is refused). */
  secrets?: SecretResolver;
  /** The live state for the API (`monitor_status`); unset → not written. */
  status?: Pick<MonitorStatus, 'put'> & Partial<Pick<MonitorStatus, 'get'>>;
  log?: { warn(message: string): void };
  /** Probes in flight at once on this worker (default `defaultProbeConcurrency`). */
  probeConcurrency?: number;
}) {
  const slots = probeSlots(deps.probeConcurrency ?? defaultProbeConcurrency, deps.log);
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
  /**
   * Where a loop starts: fresh on the first attempt; on a retry (the worker died or restarted) the
   * streak from `monitor_status` if it belongs to the health the monitor knows, so a fault half-way to
   * its threshold is not counted again from zero. (Loops started by the previous version kept their
   * progress in heartbeat details; those are still honoured once.)
   */
  async function resumeProgress(ctx: Context, input: WatchInput): Promise<WatchProgress> {
    const fresh: WatchProgress = { state: input.state, probes: 0 };
    const old = ctx.info.heartbeatDetails as WatchProgress | undefined;
    if (old?.state) return old;
    if (ctx.info.attempt <= 1 || !deps.status?.get) return fresh;
    try {
      const row = await deps.status.get(input.check.id);
      if (!row || row.health !== input.state.health) return fresh;
      return {
        state: { health: row.health, streak: row.streak },
        ...(row.lastResult ? { lastResult: row.lastResult } : {}),
        ...(row.streak > 0 && row.lastResult ? { streakSince: row.lastResult.at } : {}),
        probes: row.probes,
      };
    } catch (e) {
      deps.log?.warn(`monitor ${input.check.id}: streak not read back: ${(e as Error).message}`);
      return fresh;
    }
  }
  return {
    async watchCheck(input: WatchInput): Promise<WatchResult> {
      const ctx = Context.current();
      let progress = await resumeProgress(ctx, input);
      const started = Date.now();
      // Liveness only: an empty heartbeat, whether a probe runs, waits or sleeps.
      const beatEveryMs = Math.max(1000, (ctx.info.heartbeatTimeoutMs ?? 60_000) / 3);
      ctx.heartbeat();
      const beat = setInterval(() => ctx.heartbeat(), beatEveryMs);
      try {
        return await loop();
      } finally {
        clearInterval(beat);
      }
      async function loop(): Promise<WatchResult> {
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
              : await slots.run(() =>
                  runProbe(run.check, {
                    env: deps.env,
                    timeoutMs: input.timeoutMs,
                    signal: ctx.cancellationSignal,
                  }),
                );
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
          const wait = o.reprobeNow ? 0 : untilNextSlot(input.check.id, input.intervalMs, Date.now());
          progress.nextProbeAt = new Date(Date.now() + wait).toISOString();
          live(progress, { nextProbeAt: progress.nextProbeAt });
          if (wait > 0) await ctx.sleep(wait);
        }
      }
    },
  };
}
