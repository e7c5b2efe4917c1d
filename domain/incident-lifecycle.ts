/**
 * The incident's lifecycle rules as pure code: acknowledgement, escalation on timeout, the
 * acknowledgement timeout, resolve requests, recovery and its proof. `decide(state, event)` answers
 * the new state and the commands that carry it out (page, record, publish, start a timer …); the
 * incident workflow (workflows/incident.ts) runs the commands, in order, and feeds back what happens
 * (a timer fired, a probe round came back). No I/O, no clocks: every event carries `now`.
 */
import { formatDuration } from './duration.js';
import { ackTimeoutRecipients, nextStep, waitAfter } from './escalation.js';
import type {
  EscalationStep,
  IncidentState,
  PageRecord,
  Recipient,
  StatusState,
  TimelineKind,
} from './incident.js';
import { closedStates } from './incident.js';
import { formatSnoozeTime } from './snooze.js';

/** What the rules depend on, fixed when the incident opens. */
export interface LifecycleRules {
  serviceName: string;
  plan: readonly EscalationStep[];
  owner: Recipient;
  acknowledgementTimeoutMs: number;
  /** How many probes check the service; 0: a resolve is taken on the responder's word. */
  probes: number;
  recoveryPasses: number;
  recoveryIntervalMs: number;
  autoPublish: boolean;
  notifyResolved: boolean;
  /**
   * "monitoring — a fix is in place" goes out only once staff asked to resolve and the first probe
   * round passed (not when the resolve is asked), and never for a resolve no probe can check.
   * Off for histories recorded before (they published it at once).
   */
  monitoringAfterFirstPass?: boolean;
}

/**
 * escalation: the current level's wait for an acknowledgement; acknowledgement: the acknowledgement
 * timeout; recovery-round: the pause between two probe rounds while a resolve waits for proof.
 */
export type TimerName = 'escalation' | 'acknowledgement' | 'recovery-round';

export interface LifecycleState {
  rules: LifecycleRules;
  state: IncidentState;
  /** Index into the plan of the step paged last; −1 before the first page. */
  escalationStep: number;
  /** Who acknowledged (or asked to resolve), if they are a known contact: re-paged on a timeout. */
  acknowledger?: Recipient;
  acknowledgedAt?: string;
  /** Set while an acknowledgement stands (from the acknowledgement to its timeout). */
  acknowledgedBy?: string;
  resolveRequestedAt?: string;
  /** Acknowledgements so far, first ones and repeated ones. */
  acks: number;
  /** Keys (checks, alert dedup keys) still failing. */
  openKeys: readonly string[];
  /** Whether anything automatic ever reported it: then it resolves when every key recovered. */
  hadKeys: boolean;
  /** Whether a status message was ever published: then monitoring and resolved are published too. */
  published: boolean;
  /** The one timer that runs, and when it is due (UTC ms). */
  timer?: { name: TimerName; dueAt: number };
  /**
   * Snoozed (acknowledged): the acknowledgement timer runs out at `until` (UTC ms), and then it is
   * triggered and paged again. Ends with another acknowledgement.
   */
  snooze?: { until: number; by: string };
  /** A resolve waiting for proof: since when, passing rounds in a row, whether a round is out. */
  recovery?: {
    startedAt: number;
    passes: number;
    reported: boolean;
    probing: boolean;
    /** "monitoring" was published during this recovery. */
    monitoring?: boolean;
  };
}

export type LifecycleEvent =
  /** A report joined; `key` is what keeps it open on the report's behalf. */
  | { type: 'reported'; key?: string; now: number }
  /** Verification confirmed the problem (or was skipped). */
  | { type: 'verified'; now: number }
  | { type: 'not-reproduced'; now: number }
  | { type: 'acknowledge'; actor: string; now: number }
  | { type: 'resolve-request'; actor: string; note?: string; now: number }
  /** Staff close it now, with a reason, without waiting for a probe to prove recovery. */
  | { type: 'force-resolve'; actor: string; reason: string; now: number }
  /** Something that reported the problem recovered (a monitor's check, an alert resolved). */
  | { type: 'recovered'; key: string; actor: string; detail: string; now: number }
  /** Between two waits: every key may have recovered while it was being verified. */
  | { type: 'settle'; now: number }
  /** The workflow is ready to watch a requested resolve. */
  | { type: 'recovery-start'; now: number }
  /** A probe round came back: `failures` is empty when all `probes` passed. */
  | { type: 'probe-result'; probes: number; failures: string; now: number }
  | { type: 'timeout'; timer: TimerName; now: number }
  /** Staff snooze an acknowledged incident until `until` (UTC ms; domain/snooze.ts checked it). */
  | { type: 'snooze'; actor: string; until: number; now: number }
  /** Staff published a status message. */
  | { type: 'status-published'; now: number }
  /**
   * Staff merged it into another incident (domain/merge.ts): it closes as merged, with no publish,
   * no resolved notice and no postmortem of its own; the other incident carries the outage on.
   */
  | { type: 'merge'; actor: string; detail: string; now: number };

export type ChatKind = 'acknowledged' | 'escalated' | 'resolved';

export type LifecycleCommand =
  /** Change the incident's state (and its search attribute). */
  | { kind: 'state'; state: IncidentState }
  | { kind: 'record'; event: TimelineKind; actor: string; detail: string }
  | { kind: 'chat'; event: ChatKind; title: string; text: string }
  | { kind: 'page'; stepIndex: number; reason: PageRecord['reason']; recipients: Recipient[] }
  | { kind: 'publish'; state: StatusState }
  /** Start (or restart) the timer: it replaces whichever ran. */
  | { kind: 'timer'; name: TimerName; ms: number }
  | { kind: 'cancelTimer'; name: TimerName }
  /** Run one probe round and report it back as `probe-result`. */
  | { kind: 'probe' }
  /** Close it as resolved; `proof` says what proved it. Its record, chat and publish follow. */
  | { kind: 'resolve'; detail: string; proof: 'keys' | 'probes' | 'no-probe' | 'forced' | 'merged' }
  /** Tell everyone paged that it is resolved. */
  | { kind: 'notify-resolved' };

export interface Decision {
  state: LifecycleState;
  commands: LifecycleCommand[];
}

/** The state of a new incident, before verification. */
export function initialState(rules: LifecycleRules, openKeys: readonly string[]): LifecycleState {
  return {
    rules,
    state: 'verifying',
    escalationStep: -1,
    acks: 0,
    openKeys: [...openKeys],
    hadKeys: openKeys.length > 0,
    published: false,
  };
}

/**
 * The state of a continued run (continue-as-new happens only while triggered or acknowledged), with
 * its timer: the escalation that was due, or a fresh wait on the current level when none was
 * recorded; the acknowledgement deadline, or a fresh one.
 */
export function resumedState(
  s: Omit<LifecycleState, 'timer' | 'recovery'>,
  due: { nextEscalationAt?: string; ackDeadlineAt?: string },
  now: number,
): LifecycleState {
  const r = s.rules;
  const out: LifecycleState = { ...s, openKeys: [...s.openKeys] };
  if (s.state === 'triggered') {
    const wait = escalationWait(r.plan, s.escalationStep);
    if (wait !== undefined)
      out.timer = {
        name: 'escalation',
        dueAt: due.nextEscalationAt ? Date.parse(due.nextEscalationAt) : now + wait,
      };
  } else if (s.state === 'acknowledged') {
    out.timer = {
      name: 'acknowledgement',
      dueAt: due.ackDeadlineAt ? Date.parse(due.ackDeadlineAt) : now + r.acknowledgementTimeoutMs,
    };
  }
  return out;
}

/** How long the current level waits before the next step; undefined when no step follows. */
export function escalationWait(plan: readonly EscalationStep[], stepIndex: number): number | undefined {
  return nextStep(plan, stepIndex).kind === 'notify' ? waitAfter(plan, stepIndex) : undefined;
}

/** A known contact by id: anyone in the plan, or the owner. */
export function lookupRecipient(rules: LifecycleRules, actor: string): Recipient | undefined {
  for (const step of rules.plan) {
    const r = step.recipients.find((x) => x.id === actor);
    if (r) return r;
  }
  return rules.owner.id === actor ? rules.owner : undefined;
}

export const isClosed = (s: Pick<LifecycleState, 'state'>) => closedStates.includes(s.state);

export function decide(state: LifecycleState, event: LifecycleEvent): Decision {
  const s: LifecycleState = {
    ...state,
    openKeys: [...state.openKeys],
    ...(state.recovery ? { recovery: { ...state.recovery } } : {}),
  };
  const commands: LifecycleCommand[] = [];
  // A closed incident decides nothing more: no page, no timer, no record.
  if (isClosed(s)) return { state, commands };
  const r = s.rules;
  const now = event.now;
  const T = r.acknowledgementTimeoutMs;

  const emit = (c: LifecycleCommand) => commands.push(c);
  const setState = (to: IncidentState) => {
    s.state = to;
    emit({ kind: 'state', state: to });
  };
  const record = (event: TimelineKind, actor: string, detail: string) =>
    emit({ kind: 'record', event, actor, detail });
  const publish = (st: StatusState) => {
    s.published = true;
    emit({ kind: 'publish', state: st });
  };
  const arm = (name: TimerName, ms: number) => {
    s.timer = { name, dueAt: now + ms };
    emit({ kind: 'timer', name, ms });
  };
  const cancel = () => {
    if (!s.timer) return;
    emit({ kind: 'cancelTimer', name: s.timer.name });
    delete s.timer;
  };
  /** While triggered the current level's clock runs, unless no step follows it. */
  const armEscalation = () => {
    const wait = escalationWait(r.plan, s.escalationStep);
    if (s.state === 'triggered' && wait !== undefined) arm('escalation', wait);
    else cancel();
  };
  const page = (stepIndex: number, reason: PageRecord['reason'], recipients: Recipient[]) => {
    if (r.plan[stepIndex]) emit({ kind: 'page', stepIndex, reason, recipients });
  };
  const escalateTo = (stepIndex: number, reason: 'initial' | 'escalation') => {
    const step = r.plan[stepIndex]!;
    s.escalationStep = stepIndex;
    const who = [
      ...step.recipients.map((x) => x.name),
      ...(step.schedules ?? []).map((id) => `whoever is on call in ${id}`),
    ].join(', ');
    const level = `level ${step.level}${step.cycle > 0 ? ` (repeat ${step.cycle})` : ''}`;
    if (reason !== 'initial') {
      record(
        'escalated',
        'system',
        step.fallback
          ? `nobody acknowledged; final fallback: notifying ${who}`
          : `nobody acknowledged within the timeout; escalating to ${level}: ${who}`,
      );
      emit({
        kind: 'chat',
        event: 'escalated',
        title: `${r.serviceName}: escalated`,
        text: step.fallback ? `final fallback: ${who}` : `level ${step.level}: ${who}`,
      });
    }
    page(stepIndex, step.fallback ? 'fallback' : reason, step.recipients);
  };
  /** The acknowledgement ran out: back to triggered, the acknowledger and the current level again. */
  const expire = () => {
    const snooze = s.snooze;
    delete s.snooze;
    record(
      'ack-timeout',
      'system',
      snooze
        ? `the snooze until ${formatSnoozeTime(snooze.until)} is over and it is not resolved; back to unacknowledged, escalation resumes`
        : `acknowledged ${formatDuration(T)} ago and not resolved; back to unacknowledged, escalation resumes`,
    );
    setState('triggered');
    const step = Math.max(0, s.escalationStep);
    s.escalationStep = step;
    page(step, snooze ? 'snoozed' : 'ack-timeout', ackTimeoutRecipients(r.plan, step, s.acknowledger));
    delete s.acknowledger;
    delete s.acknowledgedBy;
    armEscalation();
  };
  const resolve = (detail: string, proof: 'keys' | 'probes' | 'no-probe' | 'forced', actor = 'probe') => {
    cancel();
    s.state = 'resolved';
    emit({ kind: 'resolve', detail, proof });
    record('resolved', actor, detail);
    emit({ kind: 'chat', event: 'resolved', title: `${r.serviceName} is resolved`, text: detail });
    if (r.autoPublish || s.published) publish('resolved');
    if (r.notifyResolved) emit({ kind: 'notify-resolved' });
  };
  const everyKeyRecovered = () => s.hadKeys && s.openKeys.length === 0 && s.state !== 'verifying';

  switch (event.type) {
    case 'reported':
      if (event.key && !s.openKeys.includes(event.key)) {
        s.openKeys = [...s.openKeys, event.key];
        s.hadKeys = true;
      }
      break;

    case 'verified':
      // Resolving: someone asked to resolve it while it was being verified; recovery starts next.
      if (s.state !== 'verifying') break;
      if (r.autoPublish) publish('investigating');
      if (s.acknowledgedBy !== undefined) {
        // Acknowledged while verifying: the person is already on it, nobody else needs a page.
        setState('acknowledged');
        arm('acknowledgement', T);
      } else {
        setState('triggered');
        const first = nextStep(r.plan, -1);
        if (first.kind === 'notify') escalateTo(first.stepIndex, 'initial');
        armEscalation();
      }
      break;

    case 'not-reproduced':
      setState('dismissed');
      record('dismissed', 'system', 'the problem did not reproduce on verification; nobody was paged');
      break;

    case 'acknowledge': {
      if (s.state === 'resolving') break;
      s.acks++;
      delete s.snooze;
      const { actor } = event;
      if (s.state === 'acknowledged') {
        record('acknowledged', actor, `acknowledged again by ${actor}; acknowledgement timeout restarts`);
        arm('acknowledgement', T);
        break;
      }
      if (s.state === 'verifying' && s.acknowledgedBy !== undefined) {
        // The first acknowledgement stands; its timeout starts once verification is done.
        record('acknowledged', actor, `acknowledged again by ${actor}`);
        break;
      }
      s.acknowledger = lookupRecipient(r, actor);
      s.acknowledgedAt = new Date(now).toISOString();
      s.acknowledgedBy = actor;
      record('acknowledged', actor, `acknowledged by ${actor}; escalation stopped`);
      emit({
        kind: 'chat',
        event: 'acknowledged',
        title: `${r.serviceName}: acknowledged by ${actor}`,
        text: 'Escalation stopped.',
      });
      if (s.state !== 'verifying') {
        setState('acknowledged');
        arm('acknowledgement', T);
      }
      break;
    }

    case 'resolve-request': {
      if (s.state === 'resolving') break;
      const { actor, note } = event;
      s.resolveRequestedAt = new Date(now).toISOString();
      record(
        'resolve-requested',
        actor,
        `${actor} says it is resolved${note ? `: ${note}` : ''}; ` +
          (r.probes > 0
            ? `waiting for ${r.recoveryPasses} passing probe round(s) in a row`
            : 'no probe is configured, so it is taken on their word'),
      );
      s.acknowledger ??= lookupRecipient(r, actor);
      setState('resolving');
      delete s.recovery;
      cancel();
      break;
    }

    case 'force-resolve': {
      if (s.state === 'resolved') break;
      delete s.recovery;
      resolve(`resolved without probe proof by ${event.actor}: ${event.reason}`, 'forced', event.actor);
      break;
    }

    case 'merge': {
      if (s.state === 'resolved' || s.state === 'dismissed') break;
      cancel();
      delete s.recovery;
      s.state = 'resolved';
      emit({ kind: 'resolve', detail: event.detail, proof: 'merged' });
      record('merged', event.actor, event.detail);
      emit({ kind: 'chat', event: 'resolved', title: `${r.serviceName} is merged`, text: event.detail });
      break;
    }

    case 'recovered':
      s.openKeys = s.openKeys.filter((k) => k !== event.key);
      record('recovered', event.actor, `${event.key} recovered: ${event.detail}`);
      // Each recovery was proven by its source (the monitor's passes in a row, the alert's resolve).
      if (everyKeyRecovered())
        resolve(`every failing check and alert recovered (last: ${event.key}: ${event.detail})`, 'keys');
      break;

    case 'settle':
      if (everyKeyRecovered()) resolve('every failing check and alert recovered', 'keys');
      break;

    case 'recovery-start':
      if (s.state !== 'resolving' || s.recovery) break;
      s.recovery = { startedAt: now, passes: 0, reported: false, probing: false };
      if (!r.monitoringAfterFirstPass && (r.autoPublish || s.published)) publish('monitoring');
      if (r.probes === 0) {
        resolve('no probe configured; resolved on the responder’s word', 'no-probe');
        break;
      }
      s.recovery.probing = true;
      emit({ kind: 'probe' });
      break;

    case 'probe-result': {
      const rec = s.recovery;
      if (s.state !== 'resolving' || !rec?.probing) break;
      rec.probing = false;
      if (!event.failures) {
        rec.passes++;
        record(
          'recovery-check',
          'probe',
          `pass ${rec.passes}/${r.recoveryPasses}: all ${event.probes} probe(s) pass`,
        );
        // The first pass after a resolve request: now a fix is in place (subscribers hear it before
        // the resolution, even when this one pass proves it).
        if (r.monitoringAfterFirstPass && !rec.monitoring && (r.autoPublish || s.published)) {
          rec.monitoring = true;
          publish('monitoring');
        }
        if (rec.passes >= r.recoveryPasses) {
          resolve(`recovery proven: ${rec.passes} passing probe round(s) in a row`, 'probes');
          break;
        }
      } else {
        // The first failure is recorded, and the first after a pass; repeats are not.
        if (rec.passes > 0 || !rec.reported) {
          record('recovery-check', 'probe', `still failing, incident stays open: ${event.failures}`);
          rec.reported = true;
        }
        rec.passes = 0;
      }
      if (now - rec.startedAt >= T) {
        record('ack-timeout', 'system', `recovery not proven within ${formatDuration(T)}`);
        delete s.resolveRequestedAt;
        delete s.recovery;
        expire();
        break;
      }
      arm('recovery-round', r.recoveryIntervalMs);
      break;
    }

    case 'timeout': {
      // A timer that was cancelled or replaced meanwhile decides nothing.
      if (s.timer?.name !== event.timer) break;
      delete s.timer;
      if (event.timer === 'escalation' && s.state === 'triggered') {
        const next = nextStep(r.plan, s.escalationStep);
        if (next.kind === 'notify') escalateTo(next.stepIndex, 'escalation');
        armEscalation();
      } else if (event.timer === 'acknowledgement' && s.state === 'acknowledged') {
        expire();
      } else if (event.timer === 'recovery-round' && s.state === 'resolving' && s.recovery) {
        s.recovery.probing = true;
        emit({ kind: 'probe' });
      }
      break;
    }

    case 'status-published':
      s.published = true;
      break;

    case 'snooze':
      if (s.state !== 'acknowledged' || event.until <= now) break;
      s.snooze = { until: event.until, by: event.actor };
      record(
        'snoozed',
        event.actor,
        `${event.actor} snoozed until ${formatSnoozeTime(event.until)}; then it is paged again unless resolved`,
      );
      arm('acknowledgement', event.until - now);
      break;
  }
  return { state: s, commands };
}
