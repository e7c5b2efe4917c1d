/**
 * One monitor per configured check. A probe check is probed by its probe shard (workflows/
 * probe-shard.ts: one long-lived activity probes many checks in-process) which signals the monitor
 * only when the check changes state; heartbeat checks wait for pings. A failing check opens (or
 * joins) its service's incident; a recovery is reported to it. Maintenance windows and pauses record
 * failures without paging. The workflow continues-as-new to keep its history bounded. Monitors whose
 * history predates the shards (`patched('probe-shards')`) keep their own probe loop until the next
 * configuration reaches them.
 */
import {
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { TimedResult, WatchResult } from '../activities/monitor.js';
import type { Check, ProbeCheck } from '../domain/config-schema.js';
import { durationMs, formatDuration } from '../domain/duration.js';
import { probePlan } from '../domain/probe-shards.js';
import type { Health } from '../domain/thresholds.js';

export interface MaintenanceWindow {
  from: string;
  until: string;
  reason: string;
}

export interface MonitorConfig {
  check: Check;
  windows: MaintenanceWindow[];
  /** The probe shard that probes this check (reconcile sets it; a probe check without it is older). */
  shard?: number;
}

/** A probe shard's word that the check changed state (sent once per change; a repeat is ignored). */
export interface ProbeChange {
  health: Health;
  lastResult?: TimedResult;
  /** When the streak of results that made the change began (the fault's first failure). */
  streakSince?: string;
}

export interface MonitorEvent {
  at: string;
  kind: 'failing' | 'healthy' | 'suppressed' | 'paused' | 'resumed' | 'incident' | 'configured' | 'ping';
  detail: string;
}

export interface MonitorState {
  health: Health;
  since: string;
  lastChange?: string;
  lastResult?: TimedResult;
  lastPingAt?: string;
  transitions: number;
  pausedUntil?: string;
  pauseReason?: string;
  /** A failure that began inside a maintenance window or pause: recorded, nobody paged yet. */
  suppressed: boolean;
  incident?: { id: string; service: string };
  /** The last few things that happened (bounded). */
  events: MonitorEvent[];
  stopped: boolean;
}

export interface MonitorInput {
  config: MonitorConfig;
  state?: MonitorState;
}

export const monitorStateQuery = defineQuery<MonitorState & { check: Check }>('monitorState');
export const configureSignal = defineSignal<[MonitorConfig]>('configure');
export const pauseSignal = defineSignal<[{ until: string; reason: string; actor: string }]>('pause');
export const resumeSignal = defineSignal<[{ actor: string }]>('resume');
export const pingSignal = defineSignal<[{ at?: string }]>('ping');
export const stopSignal = defineSignal('stop');
export const probeChangedSignal = defineSignal<[ProbeChange]>('probeChanged');

/** `condition` with an optional timeout: resolves true when `fn` holds, false when the time is up. */
async function waitFor(fn: () => boolean, ms: number | undefined): Promise<boolean> {
  if (ms === undefined) {
    await condition(fn);
    return true;
  }
  return condition(fn, ms);
}

/** The probe loops run on their own task queue (see worker/create.ts): they hold a slot for hours. */
export function probeTaskQueue(taskQueue: string): string {
  return `${taskQueue}-probes`;
}

export function monitorWorkflowId(checkId: string): string {
  return `monitor-${checkId}`;
}

/** A healthy watch returns after this long: ~6 history events an hour per healthy monitor. */
const watchMaxRunMs = 60 * 60_000;
const maxEvents = 50;
/**
 * A probe loop whose worker died is noticed within this long (the heartbeat timeout; the loop sends
 * liveness-only heartbeats) and is then retried on a surviving worker about a second later.
 */
export const probeLivenessMs = 60_000;

const incidents = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

export async function monitorWorkflow(input: MonitorInput): Promise<void> {
  let config = input.config;
  let configVersion = 0;
  let pings = 0;
  /** State changes from the check's probe shard, in order of arrival. */
  const changes: ProbeChange[] = [];
  const now = () => new Date().toISOString();
  const state: MonitorState = input.state ?? {
    health: 'healthy',
    since: now(),
    transitions: 0,
    suppressed: false,
    events: [],
    stopped: false,
  };
  const chain = workflowInfo().firstExecutionRunId;
  const note = (kind: MonitorEvent['kind'], detail: string) => {
    state.events.push({ at: now(), kind, detail });
    if (state.events.length > maxEvents) state.events.splice(0, state.events.length - maxEvents);
  };

  setHandler(monitorStateQuery, () => ({ ...state, check: config.check }));
  setHandler(configureSignal, (c) => {
    if (JSON.stringify(c) === JSON.stringify(config)) return;
    config = c;
    configVersion++;
    note('configured', 'configuration changed');
  });
  setHandler(pauseSignal, ({ until, reason, actor }) => {
    state.pausedUntil = until;
    state.pauseReason = reason;
    configVersion++;
    note('paused', `paused by ${actor} until ${until}: ${reason}`);
  });
  setHandler(resumeSignal, ({ actor }) => {
    state.pausedUntil = undefined;
    state.pauseReason = undefined;
    configVersion++;
    note('resumed', `resumed by ${actor}`);
  });
  setHandler(pingSignal, () => {
    pings++;
  });
  setHandler(probeChangedSignal, (c) => {
    changes.push(c);
  });
  setHandler(stopSignal, () => {
    state.stopped = true;
  });

  /** The end of the maintenance window or pause covering now, if any. */
  const pausedUntil = (): number | undefined => {
    const t = Date.now();
    const ends = config.windows
      .filter((w) => Date.parse(w.from) <= t && t < Date.parse(w.until))
      .map((w) => Date.parse(w.until));
    if (state.pausedUntil && Date.parse(state.pausedUntil) > t) ends.push(Date.parse(state.pausedUntil));
    return ends.length ? Math.max(...ends) : undefined;
  };
  const pauseReason = () => {
    const t = Date.now();
    return (
      config.windows.find((w) => Date.parse(w.from) <= t && t < Date.parse(w.until))?.reason ??
      state.pauseReason ??
      'paused'
    );
  };

  async function becameFailing(reason: string, firstFailureAt?: string) {
    state.health = 'failing';
    state.since = now();
    state.lastChange = state.since;
    state.transitions++;
    if (pausedUntil() !== undefined) {
      state.suppressed = true;
      note('suppressed', `failing during maintenance (${pauseReason()}); nobody paged: ${reason}`);
      return;
    }
    note('failing', reason);
    await openIncident(reason, firstFailureAt);
  }

  async function openIncident(reason: string, firstFailureAt?: string) {
    state.suppressed = false;
    const r = await incidents.openIncidentForCheck({
      serviceId: config.check.service,
      checkId: config.check.id,
      eventId: `${chain}:${config.check.id}:${state.transitions}`,
      reason: `${config.check.name ?? config.check.id}: ${reason}`,
      ...(firstFailureAt ? { firstFailureAt } : {}),
    });
    state.incident = { id: r.incidentId, service: r.incidentService };
    note('incident', `${r.opened ? 'opened' : 'joined'} incident ${r.incidentId}`);
  }

  async function becameHealthy(detail: string) {
    state.health = 'healthy';
    state.since = now();
    state.lastChange = state.since;
    state.transitions++;
    note('healthy', detail);
    if (state.suppressed) {
      state.suppressed = false;
      return;
    }
    if (state.incident) {
      const incident = state.incident;
      state.incident = undefined;
      await incidents.recoverIncidentForCheck({
        incidentService: incident.service,
        checkId: config.check.id,
        eventId: `${chain}:${config.check.id}:${state.transitions}`,
        detail,
      });
    }
  }

  /** A failure that began in a window and outlasts it opens an incident when the window ends. */
  async function windowEnded() {
    if (state.health === 'failing' && state.suppressed && pausedUntil() === undefined) {
      note('failing', 'still failing after the maintenance window');
      await openIncident(
        `still failing after the maintenance window: ${state.lastResult?.message ?? 'no ping'}`,
      );
    }
  }

  let iterations = 0;
  while (!state.stopped) {
    // Never with a shard's change still to handle (the next run would not see it).
    if (changes.length === 0 && (iterations++ >= 200 || workflowInfo().continueAsNewSuggested)) {
      await continueAsNew<typeof monitorWorkflow>({ config, state });
    }
    // A failure recorded during a pause that has ended (resumed, or the window closed) pages now.
    await windowEnded();
    const check = config.check;
    const version = configVersion;
    const until = pausedUntil();
    const interrupted = () => configVersion !== version || state.stopped;
    const windowMs = until !== undefined ? Math.max(1, until - Date.now()) : undefined;

    if (check.kind === 'heartbeat') {
      // A change a shard sent before the check became a heartbeat check no longer applies (and would
      // hold off continue-as-new for good).
      changes.length = 0;
      const seen = pings;
      const limit = durationMs(check.period) + (check.grace ? durationMs(check.grace) : 0);
      const last = Date.parse(state.lastPingAt ?? state.since);
      const deadline = last + limit;
      // Healthy: wake at the ping deadline (or the window's end). Failing: wait for the next ping.
      const wakeAt = state.health === 'healthy' ? Math.min(deadline, until ?? Infinity) : until;
      const woke = await waitFor(
        () => pings !== seen || interrupted(),
        wakeAt === undefined ? undefined : Math.max(1, wakeAt - Date.now()),
      );
      if (pings !== seen) {
        state.lastPingAt = now();
        note('ping', 'ping received');
        if (state.health === 'failing') await becameHealthy('a ping arrived');
      } else if (!woke) {
        if (state.health === 'healthy' && Date.now() >= deadline)
          await becameFailing(
            `no ping for ${formatDuration(Date.now() - last)} (expected every ${formatDuration(durationMs(check.period))}; limit with grace ${formatDuration(limit)})`,
          );
        else await windowEnded();
      }
      continue;
    }

    const probeCheck = check as ProbeCheck;
    const { thresholds, intervalMs, timeoutMs } = probePlan(probeCheck);

    const failingReason = (r: TimedResult | undefined, since: string | undefined) =>
      `${r?.code ?? 'failed'} — ${r?.message ?? ''} (failing since ${since ?? r?.at})`;
    const healthyReason = (r: TimedResult | undefined) =>
      `${thresholds.recoverThreshold} passing probe(s) in a row (${r?.latencyMs ?? '?'}ms)`;

    if (patched('probe-shards')) {
      // The check's shard probes it (workflows/probe-shard.ts) and signals only its state changes:
      // a healthy monitor does nothing here, and writes nothing to its history, until one arrives.
      const woke = await waitFor(() => changes.length > 0 || interrupted(), windowMs);
      const c = changes.shift();
      if (c) {
        if (c.lastResult) state.lastResult = c.lastResult;
        if (c.health !== state.health) {
          if (c.health === 'failing')
            await becameFailing(
              failingReason(c.lastResult, c.streakSince),
              c.streakSince ?? c.lastResult?.at,
            );
          else await becameHealthy(healthyReason(c.lastResult));
        }
      } else if (!woke) await windowEnded();
      continue;
    }

    // Monitors whose history predates the shards: one long-lived probe loop of their own, until the
    // configuration from a newer reconcile (which names the shard) interrupts it.
    const { watchCheck } = proxyActivities<Activities>({
      taskQueue: probeTaskQueue(workflowInfo().taskQueue),
      startToCloseTimeout: watchMaxRunMs + intervalMs + timeoutMs + 60_000,
      heartbeatTimeout: probeLivenessMs,
      retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
      // Do not wait for the probe loop to notice: its result no longer matters.
      cancellationType: 'TRY_CANCEL',
    });

    let result: WatchResult | undefined;
    let windowOver = false;
    const scope = new CancellationScope();
    const watch = scope.run(() =>
      watchCheck({
        check: probeCheck,
        state: { health: state.health, streak: 0 },
        thresholds,
        intervalMs,
        timeoutMs,
        maxRunMs: watchMaxRunMs,
      }),
    );
    watch.then(
      (r) => {
        result = r;
      },
      () => undefined,
    );
    const woke = await waitFor(() => result !== undefined || interrupted(), windowMs);
    if (result === undefined) {
      if (!woke) windowOver = true;
      scope.cancel();
      try {
        result = await watch;
      } catch (e) {
        if (!isCancellation(e)) throw e;
      }
    }
    if (result) {
      state.lastResult = result.lastResult;
      if (result.changed) {
        const r = result.lastResult;
        if (result.state.health === 'failing')
          await becameFailing(failingReason(r, result.streakSince), result.streakSince ?? r?.at);
        else await becameHealthy(healthyReason(r));
      }
    }
    if (windowOver) await windowEnded();
  }
}
