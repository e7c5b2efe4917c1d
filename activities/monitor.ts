/**
 * The monitors' probe loops. Since `patched('probe-shards')` they run in shards (`probeShard`): one
 * long-lived activity holds the loops of many checks (domain/probe-shards.ts), sends liveness-only
 * heartbeats on a timer (a third of the heartbeat timeout; the SDK throttles them to 0.8 of it), so a
 * dead worker is noticed within `probeLivenessMs`, and signals a check's monitor only when the check
 * changes state. Each probe's start and result go to the record store's `monitor_status` rows (what
 * the API shows), written in batches, latest wins; a retried shard takes each check's streak back from
 * its row. `watchCheck` is the older one-activity-per-check loop, kept for monitors whose history
 * predates the shards: it returns on a state change (or after `maxRunMs`).
 */
import { Context } from '@temporalio/activity';
import type { ProbeCheck } from '../domain/config-schema.js';
import type { ProbeResult } from '../domain/incident.js';
import { observe, type ThresholdState, type Thresholds } from '../domain/thresholds.js';
import { runProbe } from './probes/index.js';
import { createSecretResolver, type SecretResolver } from './secrets.js';
import type { MonitorStatus, MonitorStatusWrite } from '../store/monitor-status.js';
import { hashId, probePlan, type ProbePlan } from '../domain/probe-shards.js';
import { monitorWorkflowId, probeChangedSignal, type ProbeChange } from '../workflows/monitor.js';

/** What the probe loops need of the record store's `monitor_status`. */
export type MonitorStatusPort = Pick<MonitorStatus, 'put'> &
  Partial<Pick<MonitorStatus, 'get' | 'getMany' | 'putMany'>>;

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
  const phase = hashId(checkId) % intervalMs;
  let wait = (((phase - nowMs) % intervalMs) + intervalMs) % intervalMs;
  if (wait < intervalMs / 2) wait += intervalMs;
  return wait;
}

/**
 * The wait after a probe that started at `startedMs` and ended at `nowMs`: the slot is chosen from
 * when the probe *started*, so the time it took is not added to the wait. A probe that used its whole
 * timeout is not followed by half an interval or more of waiting: a silently dropped port at 5 s × 3
 * with a 5 s timeout has its third failure 15 s after the first probe started, not 20–25 s (the same
 * as before the jitter). A probe that outlasts its slot is followed at once. Never more than one probe
 * start per half interval, apart from the immediate re-probe (which is not timed by this).
 */
export function untilNextProbe(
  checkId: string,
  intervalMs: number,
  startedMs: number,
  nowMs: number,
): number {
  return Math.max(0, untilNextSlot(checkId, intervalMs, startedMs) - (nowMs - startedMs));
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
  status?: MonitorStatusPort;
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
  /**
   * One check's probe loop: probes every interval (at the check's phase, see `untilNextProbe`), feeds
   * the results to the threshold state machine and writes the live state. `onChange` decides whether
   * the loop ends at a state change (the per-check `watchCheck`) or goes on (a shard). Ends when
   * `timeUp()` holds after a probe, or throws when `signal` aborts.
   */
  async function probeLoop(o: {
    check: ProbeCheck;
    plan: ProbePlan;
    progress: WatchProgress;
    signal: AbortSignal;
    /**
     * Whether the probe itself gets `signal` (watchCheck: its own). A shard's probes do not: each has
     * its hard timeout, and a thousand probes adding listeners to one signal costs more than waiting.
     */
    probeSignal: boolean;
    sleep: (ms: number) => Promise<void>;
    live: (w: MonitorStatusWrite) => void;
    timeUp: () => boolean;
    onChange: (p: WatchProgress) => Promise<'return' | 'continue'>;
  }): Promise<WatchResult> {
    let progress = o.progress;
    const live = (p: WatchProgress, extra: Partial<MonitorStatusWrite>) =>
      o.live({
        checkId: o.check.id,
        ...(p.lastResult ? { lastResult: p.lastResult } : {}),
        health: p.state.health,
        streak: p.state.streak,
        probes: p.probes,
        ...extra,
      });
    for (;;) {
      const startedMs = Date.now();
      live(progress, { probingSince: new Date(startedMs).toISOString() });
      const run = secrets.checkToRun(o.check);
      const result =
        'refused' in run
          ? run.refused
          : await slots.run(() =>
              runProbe(run.check, {
                env: deps.env,
                timeoutMs: o.plan.timeoutMs,
                ...(o.probeSignal ? { signal: o.signal } : {}),
              }),
            );
      o.signal.throwIfAborted();
      const at = new Date().toISOString();
      const ob = observe(progress.state, result.ok, o.plan.thresholds);
      const streakSince =
        ob.state.streak === 0 ? undefined : progress.state.streak === 0 ? at : progress.streakSince;
      progress = {
        state: ob.state,
        lastResult: { ...result, at },
        streakSince: ob.changed ? (progress.streakSince ?? at) : streakSince,
        probes: progress.probes + 1,
      };
      if (ob.changed) {
        if ((await o.onChange(progress)) === 'return') {
          live(progress, {});
          return { ...progress, changed: true };
        }
        // The change is told; the next streak starts from nothing.
        progress = { ...progress, streakSince: undefined };
      }
      if (o.timeUp()) {
        // The monitor starts the next loop at once: its first probe writes `probingSince`.
        live(progress, {});
        return { ...progress, changed: false };
      }
      const wait = ob.reprobeNow ? 0 : untilNextProbe(o.check.id, o.plan.intervalMs, startedMs, Date.now());
      progress.nextProbeAt = new Date(Date.now() + wait).toISOString();
      live(progress, { nextProbeAt: progress.nextProbeAt });
      if (wait > 0) await o.sleep(wait);
    }
  }

  /** The live state of every shard's checks on this worker, written together (see `statusBatch`). */
  let liveBatch: ReturnType<typeof statusBatch> | undefined;
  /** Running shards on this worker, by shard workflow id: a newer run of the same shard replaces it. */
  const shardRuns = new Map<string, AbortController>();

  return {
    async watchCheck(input: WatchInput): Promise<WatchResult> {
      const ctx = Context.current();
      const progress = await resumeProgress(ctx, input);
      const started = Date.now();
      // Liveness only: an empty heartbeat, whether a probe runs, waits or sleeps.
      const beatEveryMs = Math.max(1000, (ctx.info.heartbeatTimeoutMs ?? 60_000) / 3);
      ctx.heartbeat();
      const beat = setInterval(() => ctx.heartbeat(), beatEveryMs);
      try {
        return await probeLoop({
          check: input.check,
          plan: { thresholds: input.thresholds, intervalMs: input.intervalMs, timeoutMs: input.timeoutMs },
          progress,
          signal: ctx.cancellationSignal,
          probeSignal: true,
          sleep: (ms) => ctx.sleep(ms),
          live: publish,
          timeUp: () => Date.now() - started >= input.maxRunMs,
          onChange: async () => 'return',
        });
      } finally {
        clearInterval(beat);
      }
    },

    /**
     * A shard: every check's probe loop in this one activity. Heartbeats carry liveness only; a state
     * change is signalled to the check's monitor (retried until it is accepted: the monitor ignores a
     * repeat); the live state goes to `monitor_status` in batches. Returns after `maxRunMs`.
     */
    async probeShard(input: ProbeShardRun): Promise<{ probes: number }> {
      const ctx = Context.current();
      const key = ctx.info.workflowExecution?.workflowId ?? `shard-${input.shard}`;
      shardRuns.get(key)?.abort(new Error('replaced by a newer run of the shard'));
      const own = new AbortController();
      shardRuns.set(key, own);
      const signal = AbortSignal.any([ctx.cancellationSignal, own.signal]);
      const sleeper = sleeps(signal);
      const started = Date.now();
      const beatEveryMs = Math.max(1000, (ctx.info.heartbeatTimeoutMs ?? 60_000) / 3);
      ctx.heartbeat();
      const beat = setInterval(() => ctx.heartbeat(), beatEveryMs);
      const batch = (liveBatch ??= statusBatch(deps.status, deps.log));
      const warned = new Set<string>();
      const tell = async (checkId: string, change: ProbeChange) => {
        let delay = 1000;
        for (;;) {
          try {
            await ctx.client.workflow
              .getHandle(monitorWorkflowId(checkId))
              .signal(probeChangedSignal, change);
            warned.delete(checkId);
            return;
          } catch (e) {
            signal.throwIfAborted();
            if (!warned.has(checkId)) {
              warned.add(checkId);
              deps.log?.warn(
                `monitor ${checkId}: state change (${change.health}) not yet told to its monitor, retrying: ${(e as Error).message}`,
              );
            }
            await sleeper.sleep(delay);
            delay = Math.min(delay * 2, 30_000);
          }
        }
      };
      let probes = 0;
      try {
        const seeds = await seedProgress(input.checks.map((c) => c.id));
        const loops = Promise.all(
          input.checks.map(async (check) => {
            const start: WatchProgress = seeds.get(check.id) ?? {
              state: { health: 'healthy', streak: 0 },
              probes: 0,
            };
            const plan = probePlan(check);
            try {
              // Each check takes up at its own phase (not all of a shard's checks at once), except one
              // half-way through a fault, which probes at once.
              if (start.state.streak === 0)
                await sleeper.sleep(untilNextSlot(check.id, plan.intervalMs, Date.now()) % plan.intervalMs);
              const r = await probeLoop({
                check,
                plan,
                progress: start,
                signal,
                probeSignal: false,
                sleep: sleeper.sleep,
                live: batch.put,
                timeUp: () => Date.now() - started >= input.maxRunMs,
                onChange: async (p) => {
                  await tell(check.id, {
                    health: p.state.health,
                    ...(p.lastResult ? { lastResult: p.lastResult } : {}),
                    ...(p.streakSince ? { streakSince: p.streakSince } : {}),
                  });
                  return 'continue';
                },
              });
              probes += r.probes - start.probes;
            } catch (e) {
              if (!signal.aborted) throw e;
            }
          }),
        );
        // Cancelled or replaced: done at once, without waiting for probes in flight (each ends at its
        // timeout; its result is dropped).
        const aborted = new Promise<never>((_, reject) => {
          if (signal.aborted) reject(signal.reason as Error);
          else signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        });
        aborted.catch(() => undefined);
        try {
          await Promise.race([loops, aborted]);
        } catch (e) {
          if (!signal.aborted) throw e;
        }
      } finally {
        clearInterval(beat);
        if (shardRuns.get(key) === own) shardRuns.delete(key);
        await batch.flush();
      }
      ctx.cancellationSignal.throwIfAborted();
      return { probes };
    },
  };

  /** Where each check of a (re)started shard takes up: its `monitor_status` row, else from nothing. */
  async function seedProgress(ids: string[]): Promise<Map<string, WatchProgress>> {
    const out = new Map<string, WatchProgress>();
    if (!deps.status?.getMany || ids.length === 0) return out;
    try {
      for (const row of await deps.status.getMany(ids))
        out.set(row.checkId, {
          state: { health: row.health, streak: row.streak },
          ...(row.lastResult ? { lastResult: row.lastResult } : {}),
          ...(row.streak > 0 && row.lastResult ? { streakSince: row.lastResult.at } : {}),
          probes: row.probes,
        });
    } catch (e) {
      deps.log?.warn(`probe shard: live state not read back, starting from nothing: ${(e as Error).message}`);
    }
    return out;
  }
}

export interface ProbeShardRun {
  shard: number;
  checks: ProbeCheck[];
  maxRunMs: number;
}

/**
 * Sleeps that all reject with the signal's reason when it aborts: one listener for all of them (a
 * shard has a sleep per check; a listener each on one signal makes adding and removing them cost
 * O(checks)).
 */
function sleeps(signal: AbortSignal) {
  const pending = new Set<{ timer: NodeJS.Timeout; reject: (e: unknown) => void }>();
  signal.addEventListener(
    'abort',
    () => {
      for (const p of pending) {
        clearTimeout(p.timer);
        p.reject(signal.reason);
      }
      pending.clear();
    },
    { once: true },
  );
  return {
    sleep: (ms: number) =>
      new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason as Error);
        const p = {
          timer: setTimeout(() => {
            pending.delete(p);
            resolve();
          }, ms),
          reject,
        };
        pending.add(p);
      }),
  };
}

/** How often the shards of a worker write their checks' live state (one statement for all). */
export const statusFlushMs = 2000;

/**
 * The live state of a worker's checks, written in batches: the newest write per check since the last
 * flush, all in one statement every `statusFlushMs` (1,000 checks at 30 s: one statement every 2 s
 * with ~130 rows, instead of ~130 single-row writes). The API never shows a next probe in the past
 * (domain/monitor-view.ts), so a row up to 2 s behind still reads true.
 */
function statusBatch(status: MonitorStatusPort | undefined, log?: { warn(message: string): void }) {
  const pending = new Map<string, MonitorStatusWrite>();
  let flushing: Promise<void> = Promise.resolve();
  const flush = () => {
    if (!status || pending.size === 0) return flushing;
    const rows = [...pending.values()];
    pending.clear();
    flushing = flushing.then(async () => {
      try {
        if (status.putMany) await status.putMany(rows);
        else for (const r of rows) await status.put(r);
      } catch (e) {
        log?.warn(`probe shards: ${rows.length} live state row(s) not written: ${(e as Error).message}`);
      }
    });
    return flushing;
  };
  setInterval(() => void flush(), statusFlushMs).unref();
  return {
    put(w: MonitorStatusWrite) {
      if (status) pending.set(w.checkId, { ...w, updatedAt: new Date().toISOString() });
    },
    flush,
  };
}
