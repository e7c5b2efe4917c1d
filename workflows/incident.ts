/**
 * The incident lifecycle: detect → verify → notify → escalate on timeout → publish status → await
 * recovery proof → schedule the postmortem. Decisions live in domain/; this file only sequences them.
 */
import {
  ApplicationFailure,
  condition,
  patched,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  allHandlersFinished,
  continueAsNew,
} from '@temporalio/workflow';
import type { Activities, CheckResult } from '../activities/index.js';
import type { OutgoingMail } from '../activities/notifiers/email.js';
import type { Delivery } from '../activities/deliver.js';
import { deliveryWorkflow } from './delivery.js';
import { failureMessage, isPermanent } from './failures.js';
import { nextStep, waitAfter, whoIsNext } from '../domain/escalation.js';
import {
  decide,
  initialState,
  resumedState,
  type Decision,
  type LifecycleEvent,
  type LifecycleRules,
  type LifecycleState,
  type TimerName,
} from '../domain/incident-lifecycle.js';
import type {
  Detection,
  EscalationStep,
  InflightPage,
  IncidentInput,
  IncidentResume,
  IncidentSnapshot,
  IncidentState,
  IncidentView,
  PageRecord,
  PageRound,
  ReachJob,
  Recipient,
  Recovery,
  StatusState,
  StoredEvent,
  TimelineEvent,
  TimelineKind,
  UpdateResult,
} from '../domain/incident.js';
import { closedStates, statusStates } from '../domain/incident.js';
import { formatDuration } from '../domain/duration.js';
import { compareSeverity, severityChange } from '../domain/severity.js';
import { severities } from '../domain/severities.js';
import type { Severity } from '../domain/config-schema.js';
import {
  failOver,
  nobodyReached,
  notificationPlan,
  personOutcome,
  type PersonOutcome,
} from '../domain/notification-plan.js';
import {
  communicationsMail,
  pageMail,
  resolvedMail,
  responderMail,
  statusMessage,
  verificationSkipped,
} from '../domain/templates.js';
import type { ChatEvent } from '../domain/chat.js';
import {
  acknowledgeUpdate,
  incidentId,
  incidentServiceKey,
  incidentSeverityKey,
  incidentStateKey,
  maxNoteLength,
  noteUpdate,
  publishStatusUpdate,
  rejection,
  reportUpdate,
  resolveUpdate,
  forceResolveUpdate,
  changeSeverityUpdate,
  addResponderUpdate,
  snoozeUpdate,
  mergeIntoUpdate,
  absorbUpdate,
  deliveryReceiptSignal,
  viewQuery,
  recoveredUpdate,
  type StaffAction,
} from './definitions.js';
import { postmortemWorkflow } from './postmortem.js';
import { addResponder } from '../domain/responders.js';
import { snoozeDecision } from '../domain/snooze.js';
import { absorbedText, mergedIntoText } from '../domain/merge.js';

const probes = proxyActivities<Activities>({
  // A probe reports failure as a result; retrying it here would only hide what it saw.
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 2 },
});

/** One attempt per call: the workflow retries pages itself and records each failed attempt. */
const mailOnce = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
});
/** One attempt per call, on any channel (notification rules): retried here, each attempt recorded. */
const deliverOnce = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
});
const pageRetryInitialMs = 2_000;
const pageRetryMaxMs = 60_000;
const pageRetryLimitMs = 60 * 60_000;

/** How long a probe-less customer report waits, unverified, for a confirmation (L7). */
const unverifiedReportTimeout = '24 hours';

/** The wait a service asked for (429 Retry-After), as the channel's message states it. */
function retryAfterMs(e: unknown): number {
  const m = /\(retry after (\d+)s\)/.exec(failureMessage(e));
  return m ? Number(m[1]) * 1000 : 0;
}

const chat = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '10 minutes',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 6,
  },
});

/** Record writes retry until the store answers; nothing waits for them but the close. */
const store = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds' },
});

/**
 * A run of one incident continues-as-new before its history reaches either bound. Temporal's hard
 * limits are 51,200 events and 50 MB, but a worker that lost its cache replays the whole run inside
 * one workflow task (10 s): measured on 2 cores under a flood, ~5,000 events took 6–8 s to replay and
 * the task timed out again and again. 2,000 events (about 600 updates) replay in about 2 s.
 */
export const historyBound = { events: 2_000, bytes: 2 * 1024 * 1024 };
/** Joined reports listed in the timeline per source; later ones are only counted (the store has all). */
const listedReportsPerSource = 20;
const maxSeenEvents = 5_000;
const maxPagedInView = 50;
/** Events in one store write, and their rough size. */
const batchEvents = 500;
const batchBytes = 256 * 1024;

/** Who is on call, read when a level pages; a few quick tries, then the level pages whom it can. */
const oncall = proxyActivities<Activities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 4 },
});

const mail = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  // A page keeps being retried with backoff for a while; escalation never waits for it.
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function incidentWorkflow(input: IncidentInput): Promise<IncidentView> {
  const info = workflowInfo();
  const resume = input.resume;
  /** The record lives in the store; this run keeps decision state only. Older histories: the view. */
  const useStore = patched('record-store');
  const id = incidentId(input.service.id, info.firstExecutionRunId ?? info.runId);
  const now = () => new Date().toISOString();
  const links = {
    incidentUrl: `${input.publicBaseUrl ?? 'http://localhost:3000'}/api/incidents/${id}`,
    consoleUrl: `${input.publicBaseUrl ?? 'http://localhost:3000'}/console/incidents/${id}`,
  };

  const view: IncidentView = resume?.view ?? {
    id,
    workflowId: info.workflowId,
    service: input.service,
    severity: input.severity,
    state: 'verifying',
    reason: input.detection.reason,
    source: input.detection.source,
    openedAt: now(),
    escalationStep: -1,
    affected: input.affected,
    openKeys: input.detection.key ? [input.detection.key] : [],
    ...(input.detection.firstFailureAt ? { firstProbeFailureAt: input.detection.firstFailureAt } : {}),
    paged: [],
    status: [],
    timeline: [],
  };
  const seenEvents = new Set<string>(resume?.seenEvents ?? [input.detection.eventId]);
  const remember = (eventId: string) => {
    seenEvents.add(eventId);
    if (useStore && seenEvents.size > maxSeenEvents) {
      // Bounded: the oldest ids go (never the opening one); a redelivery that old is recorded twice at worst.
      for (const e of seenEvents) {
        if (e !== input.detection.eventId) {
          seenEvents.delete(e);
          break;
        }
      }
    }
  };
  const countCustomer = (d: Detection) => {
    if (d.source !== 'customer') return;
    view.customerReports = (view.customerReports ?? 0) + 1;
    view.firstCustomerReportAt ??= now();
  };
  if (!resume) countCustomer(input.detection);
  /**
   * Who corroborated a probe-less customer report (L7): staff, a monitor or an alert joining it, or a
   * second reporter (another address). Until then such an incident pages nobody.
   */
  let corroboratedBy: { actor: string; how: string } | undefined;
  const corroborate = (d: Detection) => {
    if (corroboratedBy) return;
    if (d.source !== 'customer')
      corroboratedBy = { actor: d.actor, how: `confirmed by ${d.actor} (${d.source})` };
    else if (d.reporter && d.reporter !== input.detection.reporter)
      corroboratedBy = { actor: d.actor, how: 'confirmed by a second report from another address' };
  };
  /** Chat webhooks and the communication deadline came later; older histories replay without them. */
  let chatEnabled = resume?.chatEnabled ?? false;
  let chatSeq = resume?.chatSeq ?? 0;
  let sendSeq = resume?.sendSeq ?? 0;
  const pending: Promise<unknown>[] = [];
  const resolvedNotices: OutgoingMail[] = [];
  const resolvedDeliveries: Delivery[] = [];

  // ---- the record (store mode) ------------------------------------------------------------------
  let seq = resume?.seq ?? 0;
  let version = resume?.version ?? 0;
  const outbox: StoredEvent[] = [...(resume?.outbox ?? [])];
  const sizeOf = (e: StoredEvent) => e.detail.length + (e.report?.reason.length ?? 0) + 200;
  let outboxSize = outbox.reduce((n, e) => n + sizeOf(e), 0);
  let dirty = true;
  let flushing = false;
  let statusCount = resume?.statusCount ?? view.status.length;
  let pagedCount = resume?.pagedCount ?? view.paged.length;
  const pagedRecipients = new Map<string, Recipient>((resume?.pagedRecipients ?? []).map((r) => [r.id, r]));
  const inflight = new Map<string, InflightPage>();
  /** People being paged by their notification rules, by idempotency base (carried across runs). */
  const reaching = new Map<string, ReachJob>();
  /** Level pages not yet decided: someone reached, or nobody can be (then escalate at once). */
  const rounds = new Map<number, PageRound>((resume?.rounds ?? []).map((r) => [r.seq, r]));
  /** Kinds the mails and the resolved notice read back (first of each; the last few recovery checks). */
  const keptKinds: TimelineKind[] = ['detected', 'verified', 'acknowledged', 'resolve-requested', 'resolved'];
  const touch = () => {
    dirty = true;
  };

  const record = (kind: TimelineKind, actor: string, detail: string, extra: Partial<StoredEvent> = {}) => {
    const event: TimelineEvent = { at: now(), actor, kind, detail };
    if (kind === 'recovery-check') view.recoveryRounds = (view.recoveryRounds ?? 0) + 1;
    if (!useStore) {
      view.timeline.push(event);
      return 0;
    }
    const s = ++seq;
    const stored: StoredEvent = { ...event, seq: s, ...extra };
    outbox.push(stored);
    outboxSize += sizeOf(stored);
    dirty = true;
    if (kind === 'recovery-check') {
      view.timeline.push(event);
      const checks = view.timeline.filter((e) => e.kind === 'recovery-check');
      if (checks.length > 5) view.timeline.splice(view.timeline.indexOf(checks[0]!), 1);
    } else if (keptKinds.includes(kind) && !view.timeline.some((e) => e.kind === kind)) {
      view.timeline.push(event);
    }
    return s;
  };
  const snapshot = (): IncidentSnapshot => {
    const { timeline: _t, paged: _p, status, ...rest } = view;
    return {
      ...rest,
      statusCount,
      pagedCount,
      ...(status.length ? { lastStatus: status[status.length - 1] } : {}),
    };
  };
  const answer = (s: number): IncidentView | UpdateResult => {
    // Small on purpose: every update result is kept in history.
    if (!useStore) return view;
    return { id, state: view.state, seq: s };
  };
  /** Writes the outbox to the store, a batch at a time, retrying until the store answers. */
  async function flusher() {
    for (;;) {
      await condition(() => outbox.length > 0 || dirty);
      const batch: StoredEvent[] = [];
      let bytes = 0;
      while (batch.length < outbox.length && batch.length < batchEvents && bytes < batchBytes) {
        const e = outbox[batch.length]!;
        bytes += sizeOf(e);
        batch.push(e);
      }
      dirty = false;
      version++;
      flushing = true;
      try {
        await store.recordIncident({
          incident: snapshot(),
          runId: workflowInfo().runId,
          version,
          events: batch,
        });
      } finally {
        flushing = false;
      }
      outbox.splice(0, batch.length);
      outboxSize -= bytes;
    }
  }
  /** Everything recorded so far is in the store. */
  const drained = () => !useStore || (outbox.length === 0 && !dirty && !flushing);
  if (useStore) void flusher();

  const historyTooLong = () => {
    if (!useStore) return false;
    const i = workflowInfo();
    return i.historyLength >= historyBound.events || (i.historySize ?? 0) >= historyBound.bytes;
  };
  /** Continue-as-new where it is safe: only between decisions, and with a small outbox to carry. */
  const shouldContinue = () =>
    historyTooLong() &&
    (view.state === 'triggered' || view.state === 'acknowledged') &&
    outboxSize < 256 * 1024 &&
    lookingUpOnCall === 0;
  /** Pages waiting to learn who is on call (a continued run would lose them). */
  let lookingUpOnCall = 0;
  let comms: { index: number; dueAt: string } | undefined = resume?.comms;

  // ---- the lifecycle: domain/incident-lifecycle.ts decides, this workflow runs the commands --------
  const rules: LifecycleRules = {
    serviceName: input.service.name,
    plan: input.plan,
    owner: input.owner,
    acknowledgementTimeoutMs: input.acknowledgementTimeoutMs,
    probes: input.checks.length,
    recoveryPasses: input.recoveryPasses,
    recoveryIntervalMs: input.recoveryIntervalMs,
    autoPublish: input.autoPublish,
    notifyResolved: input.notifyResolved,
  };
  let life: LifecycleState = resume
    ? resumedState(
        {
          rules,
          state: view.state,
          escalationStep: view.escalationStep,
          ...(resume.acknowledger ? { acknowledger: resume.acknowledger } : {}),
          ...(view.acknowledgedAt ? { acknowledgedAt: view.acknowledgedAt } : {}),
          ...(view.acknowledgedBy ? { acknowledgedBy: view.acknowledgedBy } : {}),
          ...(view.resolveRequestedAt ? { resolveRequestedAt: view.resolveRequestedAt } : {}),
          ...(view.snoozedUntil
            ? { snooze: { until: Date.parse(view.snoozedUntil), by: view.snoozedBy ?? 'unknown' } }
            : {}),
          acks: resume.ackSeq,
          openKeys: view.openKeys,
          hadKeys: resume.hadKeys,
          published: statusCount > 0,
        },
        {
          ...(view.nextEscalationAt ? { nextEscalationAt: view.nextEscalationAt } : {}),
          ...(resume.ackDeadlineAt ? { ackDeadlineAt: resume.ackDeadlineAt } : {}),
        },
        Date.now(),
      )
    : initialState(rules, view.openKeys);
  /**
   * The timer the main loop waits on (a `condition` timeout, so a decision that replaces or cancels
   * it wakes the loop; the pause between recovery rounds is a plain `sleep`).
   */
  let armed: { name: TimerName; ms: number; dueAt: number } | undefined = life.timer && {
    ...life.timer,
    ms: life.timer.dueAt - Date.now(),
  };
  /** A `probe` command: the main loop runs the round and reports it back. */
  let probeDue = false;
  const lifecycleNow = () => Date.now();
  /**
   * Histories recorded before the lifecycle moved to domain/ took other turns in a few corners (each
   * noted where it is asked); they replay the old way. Asked only in those corners, so other
   * histories carry no marker.
   */
  const before = () => !patched('lifecycle-reducer');

  /** Runs a decision's commands in order; answers the sequence of the first event it recorded. */
  function run(d: Decision): number {
    life = d.state;
    let first: number | undefined;
    for (const c of d.commands) {
      switch (c.kind) {
        case 'state':
          setState(c.state);
          if (c.state === 'dismissed') view.closedAt = now();
          break;
        case 'record': {
          const s = record(c.event, c.actor, c.detail);
          first ??= s;
          break;
        }
        case 'chat':
          if (c.event !== 'escalated' || patched('chat-escalated')) notifyChat(c.event, c.title, c.text);
          break;
        case 'page':
          page(c.stepIndex, c.reason, c.recipients);
          touch();
          break;
        case 'publish':
          publishStatus(c.state, 'system');
          break;
        case 'timer':
          armed = { name: c.name, ms: c.ms, dueAt: Date.now() + c.ms };
          break;
        case 'cancelTimer':
          armed = undefined;
          break;
        case 'probe':
          probeDue = true;
          break;
        case 'resolve':
          setState('resolved');
          view.resolvedAt = now();
          view.closedAt = view.resolvedAt;
          view.recoveryProof =
            c.proof === 'keys' || c.proof === 'probes' || c.proof === 'no-probe' ? c.proof : 'unproven';
          armed = undefined;
          view.nextEscalationAt = undefined;
          touch();
          break;
        case 'notify-resolved':
          notifyResolved();
          break;
      }
    }
    view.escalationStep = life.escalationStep;
    view.acknowledgedAt = life.acknowledgedAt;
    view.acknowledgedBy = life.acknowledgedBy;
    view.resolveRequestedAt = life.resolveRequestedAt;
    view.openKeys = [...life.openKeys];
    view.snoozedUntil = life.snooze ? new Date(life.snooze.until).toISOString() : undefined;
    view.snoozedBy = life.snooze?.by;
    view.nextEscalationAt = armed?.name === 'escalation' ? new Date(armed.dueAt).toISOString() : undefined;
    // What the console says comes next: the next step's people, or nobody further after the last.
    const after =
      life.escalationStep >= 0 && !isClosed() ? nextStep(input.plan, life.escalationStep) : undefined;
    view.nobodyFurther = after?.kind === 'exhausted' ? true : undefined;
    const next = after?.kind === 'notify' ? whoIsNext(input.plan, life.escalationStep) : undefined;
    view.nextEscalationTo = next?.kind === 'next' ? next.names : undefined;
    return first ?? 0;
  }
  const dispatch = (e: LifecycleEvent) => run(decide(life, e));

  async function continueNow(): Promise<never> {
    await condition(allHandlersFinished);
    const next: IncidentResume = {
      view: { ...view, runs: (view.runs ?? 1) + 1 },
      seq,
      version,
      seenEvents: [...seenEvents],
      hadKeys: life.hadKeys,
      ...(life.acknowledger ? { acknowledger: life.acknowledger } : {}),
      ackSeq: life.acks,
      sendSeq,
      chatSeq,
      chatEnabled,
      ...(view.state === 'acknowledged' && life.timer?.name === 'acknowledgement'
        ? { ackDeadlineAt: new Date(life.timer.dueAt).toISOString() }
        : {}),
      ...(comms ? { comms } : {}),
      pagedRecipients: [...pagedRecipients.values()],
      statusCount,
      pagedCount,
      outbox: [...outbox],
      inflight: [...inflight.values()],
      ...(reaching.size > 0 ? { reaching: [...reaching.values()] } : {}),
      ...(rounds.size > 0 ? { rounds: [...rounds.values()] } : {}),
      runs: (view.runs ?? 1) + 1,
    };
    return continueAsNew<typeof incidentWorkflow>({ ...input, resume: next });
  }

  const setState = (state: IncidentState) => {
    view.state = state;
    touch();
    upsertSearchAttributes([{ key: incidentStateKey, value: state }]);
  };
  const isClosed = () => closedStates.includes(view.state);
  const rejectIfClosed = () => {
    if (isClosed())
      throw ApplicationFailure.nonRetryable(`incident ${id} is already ${view.state}`, rejection.closed);
  };
  /** Staff address an incident by id; the workflow id may meanwhile run a newer incident of the service. */
  const rejectIfOther = (a: StaffAction) => {
    if (a.incidentId && a.incidentId !== id)
      throw ApplicationFailure.nonRetryable(`incident ${a.incidentId} is already closed`, rejection.closed);
    rejectIfClosed();
  };

  upsertSearchAttributes([
    { key: incidentServiceKey, value: input.service.id },
    { key: incidentSeverityKey, value: input.severity },
    { key: incidentStateKey, value: view.state },
  ]);
  if (!resume)
    record(
      'detected',
      input.detection.actor,
      `${input.detection.source === 'api' ? 'declared' : 'detected'} (${input.severity}): ${input.detection.reason}` +
        (input.detection.contact ? ` (contact: ${input.detection.contact})` : ''),
    );

  // ---- handlers -------------------------------------------------------------------------------
  setHandler(viewQuery, () => view);

  setHandler(
    reportUpdate,
    (d: Detection) => {
      if (seenEvents.has(d.eventId))
        return { id, opened: d.eventId === input.detection.eventId, state: view.state };
      remember(d.eventId);
      countCustomer(d);
      corroborate(d);
      dispatch({ type: 'reported', ...(d.key ? { key: d.key } : {}), now: lifecycleNow() });
      // A dependent's report joins its root cause's incident; a root cause's joins its dependent's
      // incident that opened first (a customer report, then the host check fails).
      const via =
        d.fromService && d.fromService !== input.service.id
          ? input.affected.some((a) => a.id === d.fromService)
            ? ` from dependent service ${d.fromService}`
            : ` from ${d.fromService}, which this service depends on`
          : '';
      let listed = true;
      if (useStore) {
        record('joined', d.actor, `report from ${d.source}`, {
          hidden: true,
          report: {
            source: d.source,
            actor: d.actor,
            reason: d.reason,
            ...(d.contact ? { contact: d.contact } : {}),
            ...(d.fromService ? { fromService: d.fromService } : {}),
          },
        });
        const counts = (view.reportCounts ??= {});
        const n = (counts[d.source] = (counts[d.source] ?? 0) + 1);
        touch();
        listed = n <= listedReportsPerSource;
        if (n === listedReportsPerSource + 1)
          record(
            'joined',
            'system',
            `more ${d.source} reports keep joining; from now on they are counted (the record keeps each one)`,
          );
      }
      let seqNo = listed
        ? record(
            'joined',
            d.actor,
            `another report joined this incident (${d.source}${via}): ${d.reason}${d.contact ? ` (contact: ${d.contact})` : ''}`,
          )
        : 0;
      // A joining report of a higher severity raises the incident's (asked only then: no marker otherwise).
      if (
        d.severity &&
        d.severityRule &&
        compareSeverity(d.severity, view.severity) < 0 &&
        patched('report-raises-severity')
      )
        seqNo = applySeverity(
          'system',
          d.severity,
          d.severityRule,
          `a joining ${d.source} report${via} is ${d.severity}`,
        );
      return { id, opened: false, state: view.state, ...(useStore ? { seq: seqNo } : {}) };
    },
    { validator: (_d: Detection) => rejectIfClosed() },
  );

  setHandler(
    recoveredUpdate,
    (r: Recovery) => {
      if (seenEvents.has(r.eventId)) return answer(0);
      remember(r.eventId);
      return answer(
        dispatch({ type: 'recovered', key: r.key, actor: r.actor, detail: r.detail, now: lifecycleNow() }),
      );
    },
    { validator: (_r: Recovery) => rejectIfClosed() },
  );

  setHandler(
    acknowledgeUpdate,
    ({ actor }) => answer(dispatch({ type: 'acknowledge', actor, now: lifecycleNow() })),
    { validator: (a: StaffAction) => rejectIfOther(a) },
  );

  setHandler(
    resolveUpdate,
    ({ actor, note }) =>
      answer(dispatch({ type: 'resolve-request', actor, ...(note ? { note } : {}), now: lifecycleNow() })),
    { validator: (a: StaffAction) => rejectIfOther(a) },
  );

  setHandler(
    forceResolveUpdate,
    ({ actor, reason }) =>
      answer(dispatch({ type: 'force-resolve', actor, reason: reason.trim(), now: lifecycleNow() })),
    {
      validator: (a) => {
        rejectIfOther(a);
        if (typeof a.reason !== 'string' || a.reason.trim() === '')
          throw ApplicationFailure.nonRetryable(
            'reason: say why it is resolved without probe proof',
            rejection.invalid,
          );
        if (a.reason.length > maxNoteLength)
          throw ApplicationFailure.nonRetryable(
            `reason: at most ${maxNoteLength} characters`,
            rejection.invalid,
          );
      },
    },
  );

  /** A communication deadline ran or runs (at verification, or started by a severity change). */
  let deadlineStarted = false;
  /** Sets a new severity and runs what follows from it (a staff change, or a joining report's raise). */
  const applySeverity = (
    actor: string,
    severity: Severity,
    rule: { autoPublish: boolean; postmortemDueDays: number; communicationDeadlineMs?: number },
    reason?: string,
  ): number => {
    const d = severityChange({
      from: view.severity,
      to: severity,
      rule,
      state: view.state,
      published: statusCount > 0,
      deadlineStarted:
        deadlineStarted || (view.state !== 'verifying' && input.communicationDeadlineMs !== undefined),
    });
    if (d.outcome === 'same') return 0;
    view.severity = severity;
    // Carried into a continued run, the postmortem and the messages from now on.
    input.severity = severity;
    input.autoPublish = d.autoPublish;
    input.postmortemDueDays = rule.postmortemDueDays;
    input.communicationDeadlineMs = rule.communicationDeadlineMs;
    // The lifecycle reads the same rules object (see monitoringAfterFirstPass).
    rules.autoPublish = d.autoPublish;
    life.rules.autoPublish = d.autoPublish;
    upsertSearchAttributes([{ key: incidentSeverityKey, value: severity }]);
    const s = record('severity', actor, `${actor} ${d.detail}${reason?.trim() ? `: ${reason.trim()}` : ''}`);
    if (d.publish) {
      publishStatus('investigating', 'system');
      dispatch({ type: 'status-published', now: lifecycleNow() });
    }
    if (d.startDeadlineMs !== undefined) {
      deadlineStarted = true;
      pending.push(communicationDeadline(d.startDeadlineMs));
    }
    return s;
  };
  setHandler(
    changeSeverityUpdate,
    ({ actor, severity, reason, rule }) => {
      // Asked only when a severity changes, so histories without one carry no marker.
      patched('change-severity');
      return answer(applySeverity(actor, severity, rule, reason));
    },
    {
      validator: (a) => {
        rejectIfOther(a);
        if (!severities.includes(a.severity))
          throw ApplicationFailure.nonRetryable(
            `severity: must be one of ${severities.join(', ')}`,
            rejection.invalid,
          );
        if (a.reason !== undefined && (typeof a.reason !== 'string' || a.reason.length > maxNoteLength))
          throw ApplicationFailure.nonRetryable(
            `reason: at most ${maxNoteLength} characters`,
            rejection.invalid,
          );
        if (a.severity === view.severity)
          throw ApplicationFailure.nonRetryable(
            `severity: the incident is already ${a.severity}`,
            rejection.conflict,
          );
      },
    },
  );

  setHandler(noteUpdate, ({ actor, text }) => answer(record('note', actor, text)), {
    validator: (a) => {
      if (useStore) rejectIfOther(a);
      if (typeof a.text !== 'string' || a.text.trim() === '')
        throw ApplicationFailure.nonRetryable('text: a note needs some text', rejection.invalid);
      if (useStore && a.text.length > maxNoteLength)
        throw ApplicationFailure.nonRetryable(
          `text: a note is at most ${maxNoteLength} characters`,
          rejection.invalid,
        );
    },
  });

  setHandler(
    publishStatusUpdate,
    ({ actor, state, message }) => {
      const s = publishStatus(state, actor, message);
      dispatch({ type: 'status-published', now: lifecycleNow() });
      return answer(s);
    },
    {
      validator: (a) => {
        const { state } = a;
        rejectIfOther(a);
        if (!statusStates.includes(state))
          throw ApplicationFailure.nonRetryable(
            `state: must be one of ${statusStates.join(', ')}`,
            rejection.invalid,
          );
      },
    },
  );

  /** Everyone paged for the incident so far, by contact id. */
  const pagedIds = () => (useStore ? [...pagedRecipients.keys()] : view.paged.map((p) => p.recipient.id));
  setHandler(
    addResponderUpdate,
    ({ actor, contactId, contact, note }) => {
      // Asked only when a responder is added, so histories without one carry no marker.
      patched('add-responder');
      const d = addResponder({ actor, contactId, contact, paged: pagedIds(), note, maxNoteLength });
      if (d.outcome !== 'add' || !contact) return answer(0);
      const s = record('responder', actor, d.detail);
      pageResponder(contact, actor, note);
      return answer(s);
    },
    {
      validator: (a) => {
        rejectIfOther(a);
        const d = addResponder({
          actor: a.actor,
          contactId: a.contactId,
          contact: a.contact,
          paged: pagedIds(),
          note: a.note,
          maxNoteLength,
        });
        if (d.outcome === 'invalid') throw ApplicationFailure.nonRetryable(d.message, rejection.invalid);
        if (d.outcome === 'already') throw ApplicationFailure.nonRetryable(d.message, rejection.conflict);
      },
    },
  );

  setHandler(
    snoozeUpdate,
    ({ actor, until }) => {
      // Asked only when it is snoozed, so histories without a snooze carry no marker.
      patched('snooze');
      const d = snoozeDecision({ until, now: lifecycleNow(), state: view.state });
      if (d.outcome !== 'snooze') return answer(0);
      return answer(dispatch({ type: 'snooze', actor, until: d.until, now: lifecycleNow() }));
    },
    {
      validator: (a) => {
        rejectIfOther(a);
        const d = snoozeDecision({ until: a.until, now: lifecycleNow(), state: view.state });
        if (d.outcome === 'invalid') throw ApplicationFailure.nonRetryable(d.message, rejection.invalid);
        if (d.outcome === 'conflict') throw ApplicationFailure.nonRetryable(d.message, rejection.conflict);
      },
    },
  );

  setHandler(
    mergeIntoUpdate,
    ({ actor, into, reason }) => {
      // Asked only when it is merged, so histories without a merge carry no marker.
      patched('merge');
      view.mergedInto = into;
      return answer(
        dispatch({ type: 'merge', actor, detail: mergedIntoText(actor, into, reason), now: lifecycleNow() }),
      );
    },
    {
      validator: (a) => {
        rejectIfOther(a);
        if (typeof a.into !== 'string' || a.into === '' || a.into === id)
          throw ApplicationFailure.nonRetryable('into: name another open incident', rejection.invalid);
        if (a.reason !== undefined && (typeof a.reason !== 'string' || a.reason.length > maxNoteLength))
          throw ApplicationFailure.nonRetryable(
            `reason: at most ${maxNoteLength} characters`,
            rejection.invalid,
          );
      },
    },
  );

  setHandler(
    absorbUpdate,
    ({ actor, from, reason, rule }) => {
      patched('merge');
      if ((view.merged ?? []).some((m) => m.id === from.id)) return answer(0);
      (view.merged ??= []).push({
        id: from.id,
        serviceId: from.serviceId,
        serviceName: from.serviceName,
        at: now(),
        by: actor,
      });
      for (const a of from.affected)
        if (!view.affected.some((x) => x.id === a.id)) view.affected.push({ ...a, root: false });
      input.affected = view.affected;
      // Told when this one is resolved, like everyone paged for it (not paged again now).
      for (const r of from.recipients) if (!pagedRecipients.has(r.id)) pagedRecipients.set(r.id, r);
      touch();
      let s = record('merged', actor, absorbedText({ actor, from, reason }));
      if (compareSeverity(from.severity, view.severity) < 0)
        s = applySeverity(
          'system',
          from.severity,
          rule,
          `the merged incident ${from.id} is ${from.severity}`,
        );
      return answer(s);
    },
    {
      validator: (a) => {
        rejectIfOther(a);
        if (!a.from || typeof a.from.id !== 'string' || a.from.id === id)
          throw ApplicationFailure.nonRetryable(
            'into: an incident cannot be merged into itself',
            rejection.invalid,
          );
        if (a.reason !== undefined && (typeof a.reason !== 'string' || a.reason.length > maxNoteLength))
          throw ApplicationFailure.nonRetryable(
            `reason: at most ${maxNoteLength} characters`,
            rejection.invalid,
          );
      },
    },
  );

  /** Receipts seen in this run: a service that reports the same thing twice is recorded once. */
  const receipts = new Set<string>();
  setHandler(deliveryReceiptSignal, (r) => {
    if (r.incidentId !== undefined && r.incidentId !== id) return;
    const key = `${r.recipientId}/${r.channel}/${r.status}/${r.messageId ?? ''}`;
    if (receipts.has(key)) return;
    receipts.add(key);
    // Asked only when a receipt arrives, so histories without one carry no marker.
    patched('delivery-receipt');
    const who =
      pagedRecipients.get(r.recipientId)?.name ??
      view.paged.find((p) => p.recipient.id === r.recipientId)?.recipient.name ??
      r.recipientId;
    const what = `${r.channel === 'sms' ? 'SMS' : r.channel} page to ${who}`;
    record(
      r.status === 'delivered' ? 'paged' : 'page-failed',
      'system',
      r.status === 'delivered'
        ? `${what} delivered (the service reports it)`
        : `${what} not delivered, the service reports${r.detail ? `: ${r.detail}` : ''}`,
      { attempt: { channel: r.channel, recipientId: r.recipientId, outcome: r.status } },
    );
  });

  // ---- helpers --------------------------------------------------------------------------------
  /**
   * Pages a contact staff added as a responder, at once, the way a level pages: their notification
   * rules (which run on after an acknowledgement, until it closes) or one email, under the sent
   * ledger's idempotency keys, with the one-click acknowledge link while nobody has acknowledged.
   */
  function pageResponder(r: Recipient, actor: string, note?: string) {
    const seq = ++sendSeq;
    addPage({ at: now(), level: 0, cycle: 0, recipient: r, reason: 'added' });
    touch();
    const by = input.contacts?.find((c) => c.id === actor)?.name ?? actor;
    const m = responderMail(view, r, { by, ...(note ? { note } : {}) }, links);
    const ackLink = view.state === 'triggered';
    const what = 'added responder:';
    if (r.reach && useStore && patched('notification-rules')) {
      reachPerson({
        key: `${info.workflowId}/${info.runId}/responder-${seq}/${r.id}`,
        seq,
        recipient: { id: r.id, name: r.name, email: r.email },
        level: 0,
        what,
        title: m.subject.replace(/^\[[^\]]*\]\s*/, ''),
        text: m.text,
        short: `${input.service.name} (${input.severity}): ${by} added you as a responder: ${input.detection.reason.replace(/\s+/g, ' ').slice(0, 300)}`,
        plan: notificationPlan(r.reach, Date.now()),
        untilClosed: true,
        ...(ackLink ? {} : { ackLink: false as const }),
      });
      return;
    }
    sendTracked(`responder-${seq}`, r, m.subject, m.text, `${what} paged`, ackLink);
  }

  function publishStatus(state: StatusState, author: string, message?: string): number {
    const text =
      message ??
      statusMessage(state, {
        component: input.service.component ?? input.service.name,
        severity: input.severity,
        // A customer's own words are not for the public page; staff write the cause when they know it.
        reason: input.detection.source === 'customer' ? '' : input.detection.reason,
      });
    const published = { at: now(), state, message: text, author };
    if (useStore) view.status = [published];
    else view.status.push(published);
    statusCount++;
    view.statusDraft = undefined;
    const s = record('status', author, `status message published (${state}): ${text}`, {
      status: { state, message: text, author },
    });
    notifyChat('status', `${input.service.component ?? input.service.name}: ${state}`, text);
    return s;
  }

  function sendTracked(
    key: string,
    to: Recipient,
    subject: string,
    text: string,
    onSent: string,
    ackLink = false,
  ) {
    const message = {
      idempotencyKey: `${info.workflowId}/${info.runId}/${key}/${to.id}`,
      to: [to],
      subject,
      text,
      // The activity signs the one-click acknowledge link: the signing secret never enters history.
      ...(ackLink ? { ackLink: { incidentId: id, recipientId: to.id } } : {}),
    };
    const round = /^page-(\d+)$/.exec(key);
    const sent = (attempt: number, duplicate: boolean) => {
      inflight.delete(message.idempotencyKey);
      if (round) roundUpdate(Number(round[1]), to.id, 'reached');
      record(
        'paged',
        'system',
        `${onSent} ${to.name} <${to.email}> by email${duplicate ? ' (already sent)' : ''}${attempt > 1 ? ` (attempt ${attempt})` : ''}`,
        { attempt: { channel: 'email', recipientId: to.id, outcome: duplicate ? 'duplicate' : 'sent' } },
      );
    };
    if (useStore) inflight.set(message.idempotencyKey, { key, to, subject, text, onSent, ackLink });
    if (!patched('page-attempts-in-timeline')) {
      // Histories from before attempts were recorded: the activity retried on its own.
      pending.push(
        mail.sendEmail(message).then(
          (r) => sent(1, r.duplicate),
          (e: unknown) =>
            record('page-failed', 'system', `could not email ${to.name} <${to.email}>: ${failureMessage(e)}`),
        ),
      );
      return;
    }
    // Through the one outbound port, as the same mail under the same key (older histories: sendEmail).
    const viaDeliver = patched('deliver-everywhere');
    const delivery: Delivery = {
      kind: 'email',
      idempotencyKey: message.idempotencyKey,
      to: to.email,
      recipient: { id: to.id, name: to.name },
      page: {
        incidentId: id,
        title: subject.replace(/^\[[^\]]*\]\s*/, ''),
        text,
        severity: input.severity,
        service: input.service.name,
        consoleUrl: links.consoleUrl,
      },
      mail: { subject, kind: ackLink ? 'page' : key === 'resolved' ? 'resolved' : 'notice' },
      ackLink,
    };
    pending.push(
      (async () => {
        // Retried here rather than by the activity's policy, so every failed attempt is in the timeline.
        const started = Date.now();
        let delay = pageRetryInitialMs;
        for (let attempt = 1; ; attempt++) {
          try {
            const r = viaDeliver ? await deliverOnce.deliver(delivery) : await mailOnce.sendEmail(message);
            sent(attempt, r.duplicate);
            return;
          } catch (e) {
            const giveUp = isPermanent(e) || Date.now() - started + delay > pageRetryLimitMs;
            if (attempt <= 5 || attempt % 10 === 0 || giveUp)
              record(
                'page-failed',
                'system',
                `attempt ${attempt} to email ${to.name} <${to.email}> failed: ${failureMessage(e)}; ` +
                  (giveUp ? 'giving up on this channel' : `retrying in ${formatDuration(delay)}`),
                { attempt: { channel: 'email', recipientId: to.id, outcome: 'failed' } },
              );
            if (giveUp) {
              inflight.delete(message.idempotencyKey);
              if (round) roundUpdate(Number(round[1]), to.id, 'unreached');
              return;
            }
            await sleep(delay);
            delay = Math.min(delay * 2, pageRetryMaxMs);
          }
        }
      })(),
    );
  }

  function notifyChat(kind: ChatEvent['kind'], title: string, text: string) {
    if (!chatEnabled) return;
    const seq = ++chatSeq;
    for (const hook of input.webhooks ?? []) {
      const event: ChatEvent = {
        kind,
        incidentId: id,
        service: input.service.name,
        severity: input.severity,
        state: view.state,
        title,
        text,
        url: links.incidentUrl,
        at: now(),
      };
      pending.push(
        chat
          .postWebhook({
            idempotencyKey: `${info.workflowId}/${info.runId}/chat-${seq}/${hook.team}-${hook.format}`,
            format: hook.format,
            team: hook.team,
            index: hook.index,
            url: hook.url,
            urlEnv: hook.urlEnv,
            event,
          })
          .then(
            () =>
              record(
                'webhook',
                'system',
                `${kind} update posted to team ${hook.team}'s ${hook.format} webhook`,
              ),
            (e: unknown) =>
              record(
                'webhook-failed',
                'system',
                `${kind} update not delivered to team ${hook.team}'s ${hook.format} webhook: ${failureMessage(e)}`,
              ),
          ),
      );
    }
  }

  /**
   * The deadline for public communication, separate from the technical acknowledgement: a drafted
   * status message waits for staff; if none is published in time, the communications contact is
   * paged, then the owner, each after another deadline.
   */
  async function communicationDeadline(deadlineMs: number) {
    view.statusDraft = statusMessage('investigating', {
      component: input.service.component ?? input.service.name,
      severity: input.severity,
      reason: input.detection.source === 'customer' ? '' : input.detection.reason,
    });
    const chain = input.communications ?? [];
    for (let i = comms?.index ?? 0; ; i++) {
      // A resumed run waits out what is left of the deadline it was in.
      const dueMs = comms ? Math.max(0, Date.parse(comms.dueAt) - Date.now()) : deadlineMs;
      view.communicationDueAt = new Date(Date.now() + dueMs).toISOString();
      if (useStore) comms = { index: i, dueAt: view.communicationDueAt };
      touch();
      const done = await condition(() => statusCount > 0 || isClosed(), dueMs);
      if (useStore) comms = undefined;
      if (done) break;
      const who = chain[i];
      if (!who) break;
      record(
        'comms-overdue',
        'system',
        `no public status message ${formatDuration(deadlineMs * (i + 1))} after verification; paging ${who.name} to publish or approve the draft`,
      );
      addPage({ at: now(), level: 0, cycle: 0, recipient: who, reason: 'escalation' });
      const m = communicationsMail(view, view.statusDraft ?? '', deadlineMs, who, links);
      sendTracked(`comms-${i}`, who, m.subject, m.text, 'public communication overdue:');
    }
    view.communicationDueAt = undefined;
    comms = undefined;
    touch();
  }

  function addPage(entry: PageRecord) {
    // The record names the person; their methods and rules stay out of it.
    const { reach: _reach, ...recipient } = entry.recipient;
    const p = { ...entry, recipient };
    pagedCount++;
    pagedRecipients.set(p.recipient.id, p.recipient);
    view.paged.push(p);
    if (!useStore) return;
    if (view.paged.length > maxPagedInView) view.paged.splice(0, view.paged.length - maxPagedInView);
    const { at: _at, ...page } = p;
    record('paged', 'system', `page to ${p.recipient.id} decided`, { page, hidden: true });
  }

  function page(stepIndex: number, reason: PageRecord['reason'], recipients: Recipient[]) {
    const step = input.plan[stepIndex];
    if (!step) return;
    const seq = ++sendSeq;
    if (step.schedules?.length && patched('schedule-at-page-time')) {
      // Whoever is on call at this moment (and at each repeat), not when the incident opened.
      lookingUpOnCall++;
      pending.push(pageOnCall(stepIndex, reason, recipients, seq).finally(() => lookingUpOnCall--));
      return;
    }
    sendPages(step, reason, recipients, seq);
  }

  async function pageOnCall(
    stepIndex: number,
    reason: PageRecord['reason'],
    fixed: Recipient[],
    seq: number,
  ) {
    const step = input.plan[stepIndex]!;
    const schedules = step.schedules!;
    const what = step.fallback
      ? 'final fallback:'
      : `level ${step.level}${step.cycle > 0 ? ` (repeat ${step.cycle})` : ''}:`;
    const people = [...fixed];
    try {
      const found = await oncall.resolveOnCall({ schedules, at: now() });
      if (!found.overridesRead)
        record(
          'on-call',
          'system',
          `${what} overrides could not be read from the record store; paging by the rotation`,
        );
      for (const f of found.onCall) {
        if (f.recipient) {
          record(
            'on-call',
            'system',
            `${what} ${f.recipient.name} is on call in ${f.scheduleId}${f.source === 'override' ? ' (override)' : ''}`,
          );
          if (!people.some((p) => p.id === f.recipient!.id)) people.push(f.recipient);
        } else
          record(
            'on-call',
            'system',
            `${what} nobody is on call in ${f.scheduleId}${f.until ? ` until ${f.until}` : ''}`,
          );
      }
    } catch (e) {
      record(
        'on-call',
        'system',
        `${what} could not look up who is on call in ${schedules.join(', ')}: ${failureMessage(e)}`,
      );
    }
    if (isClosed()) return;
    if (people.length > 0) {
      sendPages(step, reason, people, seq);
      return;
    }
    record('escalated', 'system', `${what} nobody to page; escalating at once`);
    // The level's clock would run for nobody: let it run out now.
    if (life.state === 'triggered' && life.escalationStep === stepIndex && armed?.name === 'escalation')
      armed = { ...armed, ms: 0, dueAt: Date.now() };
  }

  function sendPages(
    step: EscalationStep,
    reason: PageRecord['reason'],
    recipients: Recipient[],
    seq: number,
  ) {
    const what = step.fallback
      ? 'final fallback:'
      : `level ${step.level}${step.cycle > 0 ? ` (repeat ${step.cycle})` : ''}:`;
    // Rounds a later one has overtaken (acknowledged meanwhile, someone still being retried) go.
    for (const k of [...rounds.keys()].slice(0, Math.max(0, rounds.size - 20))) rounds.delete(k);
    if (useStore && recipients.length > 0)
      rounds.set(seq, {
        seq,
        stepIndex: input.plan.indexOf(step),
        level: step.level,
        what,
        people: Object.fromEntries(recipients.map((r) => [r.id, 'open' as PersonOutcome])),
      });
    for (const r of recipients) {
      addPage({ at: now(), level: step.level, cycle: step.cycle, recipient: r, reason });
      const m = pageMail(
        view,
        { level: step.level, cycle: step.cycle, reason },
        r,
        links,
        whoIsNext(input.plan, input.plan.indexOf(step)),
        now(),
      );
      if (r.reach && useStore && patched('notification-rules')) {
        // The person's own rules: each method after its delay, until the incident is acknowledged.
        reachPerson({
          key: `${info.workflowId}/${info.runId}/page-${seq}/${r.id}`,
          seq,
          recipient: { id: r.id, name: r.name, email: r.email },
          level: step.level,
          what,
          title: m.subject.replace(/^\[[^\]]*\]\s*/, ''),
          text: m.text,
          short: `${input.service.name} (${input.severity}): ${input.detection.reason.replace(/\s+/g, ' ').slice(0, 300)}`,
          plan: notificationPlan(r.reach, Date.now()),
        });
        continue;
      }
      sendTracked(`page-${seq}`, r, m.subject, m.text, `${what} paged`, true);
    }
  }

  /**
   * A person of page round `seq` was reached, or cannot be. Someone reached: the round is decided.
   * Every person unreached: nobody was reached at this level, and it escalates at once rather than
   * waiting out the level's time for an acknowledgement nobody can give.
   */
  function roundUpdate(seq: number, recipientId: string, outcome: PersonOutcome) {
    const round = rounds.get(seq);
    if (!round) return;
    round.people[recipientId] = outcome;
    const people = Object.values(round.people);
    if (people.includes('reached')) rounds.delete(seq);
    if (!nobodyReached(people)) return;
    rounds.delete(seq);
    if (!patched('nobody-reached')) return;
    const waiting =
      life.state === 'triggered' && life.escalationStep === round.stepIndex && armed?.name === 'escalation';
    const where = round.level === 0 ? 'at the final fallback' : `at level ${round.level}`;
    record(
      'escalated',
      'system',
      `nobody reached ${where}: every method of every person paged failed` +
        (waiting ? '; escalating at once' : ''),
    );
    if (waiting && armed) armed = { ...armed, ms: 0, dueAt: Date.now() };
  }

  /** Stops a person's rules: the incident is acknowledged (or being resolved, or closed). */
  const levelRulesStopped = () => life.state !== 'triggered';

  function reachPerson(job: ReachJob) {
    reaching.set(job.key, job);
    pending.push(
      Promise.all(job.plan.map((_, i) => reachBy(job, i))).finally(() => reaching.delete(job.key)),
    );
  }

  /** One send of a person's plan: wait until it is due, then deliver, retrying what may pass. */
  async function reachBy(job: ReachJob, i: number): Promise<void> {
    // An added responder was asked to help: an acknowledgement does not stop their rules.
    const rulesStopped = job.untilClosed ? isClosed : levelRulesStopped;
    const s = job.plan[i]!;
    if (s.state !== 'waiting') return;
    // A failover moves `dueAt` earlier: the wait is cut short and taken again.
    while (!rulesStopped() && Date.now() < s.dueAt) {
      const due = s.dueAt;
      await condition(() => rulesStopped() || s.dueAt !== due, Math.max(1, due - Date.now()));
    }
    const r = job.recipient;
    const by = `${s.method.kind}${s.method.id !== s.method.kind ? ` (${s.method.id})` : ''}`;
    const attemptOf = (outcome: NonNullable<StoredEvent['attempt']>['outcome'], attempt: number) => ({
      attempt: {
        channel: s.method.kind,
        recipientId: r.id,
        outcome,
        method: s.method.id,
        level: job.level,
        attempt,
      },
    });
    if (rulesStopped()) {
      s.state = 'stopped';
      record(
        'page-queued',
        'system',
        `${job.what} ${r.name} by ${by} not sent: the incident is ${life.state} (rule: after ${formatDuration(s.afterMs)})`,
      );
      return;
    }
    s.state = 'sending';
    record('page-queued', 'system', `${job.what} ${r.name} by ${by} queued`, attemptOf('queued', 1));
    const started = Date.now();
    let delay = pageRetryInitialMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await deliverOnce.deliver({
          kind: s.method.kind,
          idempotencyKey: `${job.key}/${s.method.id}@${s.afterMs}`,
          to: s.method.to,
          recipient: { id: r.id, name: r.name },
          page: {
            incidentId: id,
            title: job.title,
            text: s.method.kind === 'email' ? job.text : job.short,
            severity: input.severity,
            service: input.service.name,
            consoleUrl: links.consoleUrl,
          },
          ackLink: job.ackLink ?? true,
        });
        s.state = 'reached';
        record(
          'paged',
          'system',
          `${job.what} paged ${r.name} by ${by}: ${out.status}${out.duplicate ? ' (already sent)' : ''}` +
            `${attempt > 1 ? ` (attempt ${attempt})` : ''}${out.detail ? `, ${out.detail}` : ''}`,
          attemptOf(out.duplicate ? 'duplicate' : out.status, attempt),
        );
        roundUpdate(job.seq, r.id, personOutcome(job.plan));
        return;
      } catch (e) {
        const permanent = isPermanent(e);
        const giveUp = permanent || Date.now() - started + delay > pageRetryLimitMs;
        if (giveUp) {
          const next = failOver(job.plan, i, Date.now());
          const then = next !== undefined ? job.plan[next]!.method : undefined;
          record(
            'page-failed',
            'system',
            `${job.what} attempt ${attempt} to page ${r.name} by ${by} failed: ${failureMessage(e)}; ` +
              `${permanent ? 'a permanent failure' : 'giving up on this method'}` +
              (then ? `; trying ${then.kind}${then.id !== then.kind ? ` (${then.id})` : ''} now` : ''),
            attemptOf('failed', attempt),
          );
          roundUpdate(job.seq, r.id, personOutcome(job.plan));
          return;
        }
        const wait = Math.max(delay, retryAfterMs(e));
        if (attempt <= 5 || attempt % 10 === 0)
          record(
            'page-failed',
            'system',
            `${job.what} attempt ${attempt} to page ${r.name} by ${by} failed: ${failureMessage(e)}; retrying in ${formatDuration(wait)}`,
            attemptOf('failed', attempt),
          );
        // Acknowledged meanwhile: this person needs no more tries.
        if (await condition(rulesStopped, wait)) {
          s.state = 'stopped';
          record(
            'page-queued',
            'system',
            `${job.what} ${r.name} by ${by} not retried: the incident is ${life.state}`,
          );
          return;
        }
        delay = Math.min(delay * 2, pageRetryMaxMs);
      }
    }
  }

  function describeFailures(results: CheckResult[]): string {
    return results
      .filter((r) => !r.result.ok)
      .map((r) => `${r.checkId} (${r.kind}) failed: ${r.result.code} — ${r.result.message}`)
      .join('; ');
  }

  // ---- verify ---------------------------------------------------------------------------------
  let confirmed = false;
  if (resume) {
    // A continued run: verified long ago. Pages that were on their way carry on (same keys).
    confirmed = true;
    upsertSearchAttributes([{ key: incidentStateKey, value: view.state }]);
    for (const p of resume.inflight) sendTracked(p.key, p.to, p.subject, p.text, p.onSent, p.ackLink);
    for (const job of resume.reaching ?? []) {
      // A send that was on its way goes again under the same key (the sent ledger drops a repeat).
      for (const p of job.plan) if (p.state === 'sending') p.state = 'waiting';
      reachPerson(job);
    }
    if (comms && input.communicationDeadlineMs !== undefined)
      pending.push(communicationDeadline(input.communicationDeadlineMs));
  } else if (input.detection.skipVerify) {
    record('verified', input.detection.actor, verificationSkipped(input.detection));
    confirmed = true;
  } else if (
    input.checks.length === 0 &&
    input.detection.source === 'customer' &&
    patched('unverified-customer-report')
  ) {
    // One anonymous report with nothing to probe does not page anyone (L7): it waits, unverified,
    // for staff (or a monitor, or an alert) to confirm it, or for a report from another address.
    record(
      'verify',
      'system',
      `unverified: a customer report, and no probe is configured for ${input.service.name}; ` +
        'nobody is paged until staff confirm it or another reporter reports it too',
    );
    await condition(() => corroboratedBy !== undefined || isClosed(), unverifiedReportTimeout);
    if (corroboratedBy) {
      record('verified', corroboratedBy.actor, corroboratedBy.how);
      confirmed = true;
    } else if (!isClosed())
      record('verify', 'system', `not confirmed within ${unverifiedReportTimeout}: dismissed`);
  } else if (input.checks.length === 0) {
    record(
      'verified',
      'system',
      `no probe is configured for ${input.service.name}; taken on the reporter's word`,
    );
    confirmed = true;
  } else {
    for (let attempt = 1; attempt <= input.verifyAttempts && !confirmed; attempt++) {
      const results = await probes.runChecks(input.checks);
      const failures = describeFailures(results);
      if (failures) {
        record('verified', 'probe', `problem confirmed: ${failures}`);
        confirmed = true;
      } else {
        record(
          'verify',
          'probe',
          `attempt ${attempt}/${input.verifyAttempts}: all ${results.length} probe(s) pass (${results.map((r) => `${r.checkId} ${r.result.latencyMs}ms`).join(', ')})`,
        );
        if (attempt < input.verifyAttempts) await sleep(input.verifyIntervalMs);
      }
    }
  }
  /**
   * Resolved while it was being verified (asked to resolve, then every key recovered): the verdict no
   * longer matters. Before the reducer such an incident was still dismissed, or announced as open.
   */
  const closedEarly = !resume && isClosed();
  const oldClosedEarly = closedEarly && before();
  if (!confirmed && (!closedEarly || oldClosedEarly)) {
    run(
      decide(oldClosedEarly ? { ...life, state: 'verifying' } : life, {
        type: 'not-reproduced',
        now: lifecycleNow(),
      }),
    );
    await condition(allHandlersFinished);
    await condition(drained);
    return view;
  }
  if (!closedEarly || oldClosedEarly) {
    if (!resume) view.verifiedAt = now();
    if (resume) {
      // Nothing to announce again.
    } else if (patched('comms-deadline-and-chat')) {
      chatEnabled = true;
      notifyChat('opened', `${input.service.name} is down`, input.detection.reason);
      if (input.communicationDeadlineMs !== undefined)
        pending.push(communicationDeadline(input.communicationDeadlineMs));
    }
    // ---- notify + status: the first page, or acknowledged while verifying ----------------------
    if (oldClosedEarly) {
      if (input.autoPublish) publishStatus('investigating', 'system');
    } else if (!resume) dispatch({ type: 'verified', now: lifecycleNow() });
  }

  // ---- escalate / acknowledge / recover: wait for the timer the lifecycle armed ------------------
  while (!isClosed()) {
    // Everything that reported it may have recovered while it was being verified.
    dispatch({ type: 'settle', now: lifecycleNow() });
    if (isClosed()) break;
    if (shouldContinue()) await continueNow();
    if (probeDue) {
      probeDue = false;
      const results = await probes.runChecks(input.checks);
      const e: LifecycleEvent = {
        type: 'probe-result',
        probes: results.length,
        failures: describeFailures(results),
        now: lifecycleNow(),
      };
      if (isClosed() && before()) {
        // Resolved while the round was out (an alert recovered): it used to count all the same.
        run(decide({ ...life, state: 'resolving' }, e));
        if (isClosed() && armed?.name === 'recovery-round') await sleep(armed.ms);
      } else dispatch(e);
      continue;
    }
    if (life.state === 'resolving' && !life.recovery) {
      // Asked here, when a recovery starts, so histories that never resolve carry no marker.
      rules.monitoringAfterFirstPass = patched('monitoring-after-first-pass');
      dispatch({ type: 'recovery-start', now: lifecycleNow() });
      continue;
    }
    const legacyWait =
      life.state === 'triggered' && !armed ? waitAfter(input.plan, view.escalationStep) : undefined;
    if (legacyWait !== undefined && before()) {
      // The last level's clock used to run on (and on) with nobody left to escalate to.
      armed = { name: 'escalation', ms: legacyWait, dueAt: Date.now() + legacyWait };
      view.nextEscalationAt = new Date(armed.dueAt).toISOString();
    }
    const t = armed;
    if (t?.name === 'recovery-round') {
      await sleep(t.ms);
      if (armed === t) {
        armed = undefined;
        dispatch({ type: 'timeout', timer: t.name, now: lifecycleNow() });
      }
      continue;
    }
    if (life.state === 'triggered') touch();
    const waitingIn = life.state;
    const woken = () => armed !== t || life.state !== waitingIn || shouldContinue();
    if (!t) {
      await condition(woken);
      continue;
    }
    if (!(await condition(woken, Math.max(1, t.dueAt - Date.now())))) {
      armed = undefined;
      dispatch({ type: 'timeout', timer: t.name, now: lifecycleNow() });
    }
  }

  function notifyResolved() {
    const handOff = patched('resolved-notice-delivery');
    const viaDeliver = handOff && patched('deliver-everywhere');
    const seen = new Set<string>();
    const everyone = useStore ? [...pagedRecipients.values()] : view.paged.map((p) => p.recipient);
    for (const recipient of everyone) {
      if (seen.has(recipient.id)) continue;
      seen.add(recipient.id);
      const p = { recipient };
      const m = resolvedMail(view, p.recipient, links);
      const idempotencyKey = `${info.workflowId}/${info.runId}/resolved/${p.recipient.id}`;
      if (handOff && viaDeliver) {
        // Through the one outbound port: the same mail, key and ledger as every page.
        resolvedDeliveries.push({
          kind: 'email',
          idempotencyKey,
          to: p.recipient.email,
          recipient: { id: p.recipient.id, name: p.recipient.name },
          page: {
            incidentId: id,
            title: m.subject.replace(/^\[[^\]]*\]\s*/, ''),
            text: m.text,
            severity: input.severity,
            service: input.service.name,
            consoleUrl: links.consoleUrl,
          },
          mail: { subject: m.subject, kind: 'resolved' },
        });
        // In the incident's deliveries (not a timeline line: the hand-off below says it once).
        record(
          'resolved-notice',
          'system',
          `resolved notice to ${p.recipient.name} <${p.recipient.email}> by email queued`,
          { attempt: { channel: 'email', recipientId: p.recipient.id, outcome: 'queued' }, hidden: true },
        );
      } else if (handOff)
        resolvedNotices.push({ idempotencyKey, to: [p.recipient], subject: m.subject, text: m.text });
      else sendTracked('resolved', p.recipient, m.subject, m.text, 'resolved notice sent to');
    }
  }

  // ---- hand-off and postmortem ------------------------------------------------------------------
  if (resolvedNotices.length > 0 || resolvedDeliveries.length > 0) {
    // Delivered by a child that outlives this workflow, so the incident closes now and a new report
    // of the service can open a new incident even while a mail server is down.
    await startChild(deliveryWorkflow, {
      workflowId: `resolved-notice-${id}`,
      args: [
        resolvedDeliveries.length > 0
          ? {
              mails: [],
              deliveries: resolvedDeliveries,
              // Each notice's outcome into the record, far past anything this run still records.
              ...(useStore && patched('resolved-notice-outcome')
                ? { record: { incidentId: id, firstSeq: seq + 100_000 } }
                : {}),
            }
          : { mails: resolvedNotices },
      ],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    const to = [...resolvedNotices.map((m) => m.to[0]!.email), ...resolvedDeliveries.map((d) => d.to)];
    record('resolved-notice', 'system', `resolved notice on its way to ${to.join(', ')}`);
  }
  if (patched('bounded-close')) {
    // Pages still being retried no longer matter once it is resolved; give chat updates a minute.
    await Promise.race([Promise.allSettled(pending), sleep(60_000)]);
  } else {
    await Promise.allSettled(pending);
  }
  if (view.mergedInto) {
    // Merged into another incident: that one's postmortem covers the outage.
    await condition(drained);
    await condition(allHandlersFinished);
    return view;
  }
  record('postmortem', 'system', `postmortem draft scheduled for ${input.owner.name}`);
  // The postmortem reads the record from the store: everything must be there first.
  await condition(drained);
  await startChild(postmortemWorkflow, {
    workflowId: `postmortem-${id}`,
    args: [
      {
        ...(useStore ? { incidentId: id } : { view: structuredCloneView(view) }),
        owner: input.owner,
        dueDays: input.postmortemDueDays,
        publicBaseUrl: input.publicBaseUrl,
        plan: input.plan,
        checks: input.checks,
        settings: input.postmortem,
        contacts: input.contacts,
      },
    ],
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
  await condition(allHandlersFinished);
  return view;
}

function structuredCloneView(v: IncidentView): IncidentView {
  return JSON.parse(JSON.stringify(v)) as IncidentView;
}
