/**
 * The incident lifecycle: detect → verify → notify → escalate on timeout → publish status → await
 * recovery proof → schedule the postmortem. Decisions live in domain/; this file only sequences them.
 */
import {
  ActivityFailure,
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
} from '@temporalio/workflow';
import type { Activities, CheckResult } from '../activities/index.js';
import type { OutgoingMail } from '../activities/notifiers/email.js';
import { deliveryWorkflow } from './delivery.js';
import { ackTimeoutRecipients, nextStep, waitAfter } from '../domain/escalation.js';
import type {
  Detection,
  IncidentInput,
  IncidentState,
  IncidentView,
  PageRecord,
  Recipient,
  Recovery,
  StatusState,
  TimelineEvent,
  TimelineKind,
} from '../domain/incident.js';
import { closedStates, statusStates } from '../domain/incident.js';
import { formatDuration } from '../domain/duration.js';
import { communicationsMail, pageMail, resolvedMail, statusMessage } from '../domain/templates.js';
import type { ChatEvent } from '../domain/chat.js';
import {
  acknowledgeUpdate,
  incidentId,
  incidentServiceKey,
  incidentSeverityKey,
  incidentStateKey,
  noteUpdate,
  publishStatusUpdate,
  rejection,
  reportUpdate,
  resolveUpdate,
  viewQuery,
  recoveredUpdate,
  type StaffAction,
} from './definitions.js';
import { postmortemWorkflow } from './postmortem.js';

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
const pageRetryInitialMs = 2_000;
const pageRetryMaxMs = 60_000;
const pageRetryLimitMs = 60 * 60_000;

function failureMessage(e: unknown): string {
  const cause = e instanceof ActivityFailure ? e.cause : e;
  return (cause as Error | undefined)?.message ?? String(e);
}

function isPermanent(e: unknown): boolean {
  const cause = e instanceof ActivityFailure ? e.cause : undefined;
  return cause instanceof ApplicationFailure && cause.nonRetryable === true;
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

const mail = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  // A page keeps being retried with backoff for a while; escalation never waits for it.
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function incidentWorkflow(input: IncidentInput): Promise<IncidentView> {
  const info = workflowInfo();
  const id = incidentId(input.service.id, info.runId);
  const now = () => new Date().toISOString();
  const links = {
    incidentUrl: `${input.publicBaseUrl ?? 'http://localhost:3000'}/api/incidents/${id}`,
    consoleUrl: `${input.publicBaseUrl ?? 'http://localhost:3000'}/console/incidents/${id}`,
  };

  const view: IncidentView = {
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
    paged: [],
    status: [],
    timeline: [],
  };
  const seenEvents = new Set<string>([input.detection.eventId]);
  /** Whether anything automatic (a check, an alert) ever reported this incident: then it can auto-resolve. */
  let hadKeys = view.openKeys.length > 0;
  const countCustomer = (d: Detection) => {
    if (d.source !== 'customer') return;
    view.customerReports = (view.customerReports ?? 0) + 1;
    view.firstCustomerReportAt ??= now();
  };
  countCustomer(input.detection);
  /** Chat webhooks and the communication deadline came later; older histories replay without them. */
  let chatEnabled = false;
  let chatSeq = 0;
  let acknowledger: Recipient | undefined;
  let ackSeq = 0;
  let sendSeq = 0;
  const pending: Promise<unknown>[] = [];
  const resolvedNotices: OutgoingMail[] = [];

  const record = (kind: TimelineKind, actor: string, detail: string) => {
    const event: TimelineEvent = { at: now(), actor, kind, detail };
    view.timeline.push(event);
  };
  const setState = (state: IncidentState) => {
    view.state = state;
    upsertSearchAttributes([{ key: incidentStateKey, value: state }]);
  };
  const isClosed = () => closedStates.includes(view.state);
  const rejectIfClosed = () => {
    if (isClosed())
      throw ApplicationFailure.nonRetryable(`incident ${id} is already ${view.state}`, rejection.closed);
  };

  upsertSearchAttributes([
    { key: incidentServiceKey, value: input.service.id },
    { key: incidentSeverityKey, value: input.severity },
    { key: incidentStateKey, value: view.state },
  ]);
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
      seenEvents.add(d.eventId);
      countCustomer(d);
      if (d.key && !view.openKeys.includes(d.key)) {
        view.openKeys.push(d.key);
        hadKeys = true;
      }
      const via =
        d.fromService && d.fromService !== input.service.id ? ` from dependent service ${d.fromService}` : '';
      record(
        'joined',
        d.actor,
        `another report joined this incident (${d.source}${via}): ${d.reason}${d.contact ? ` (contact: ${d.contact})` : ''}`,
      );
      return { id, opened: false, state: view.state };
    },
    { validator: (_d: Detection) => rejectIfClosed() },
  );

  setHandler(
    recoveredUpdate,
    (r: Recovery) => {
      if (seenEvents.has(r.eventId)) return view;
      seenEvents.add(r.eventId);
      view.openKeys = view.openKeys.filter((k) => k !== r.key);
      record('recovered', r.actor, `${r.key} recovered: ${r.detail}`);
      if (hadKeys && view.openKeys.length === 0 && !isClosed() && view.state !== 'verifying') {
        // Everything that reported the problem has recovered, and each recovery was proven by its
        // source (the monitor's passes in a row, the alerting tool's resolve).
        resolve(`every failing check and alert recovered (last: ${r.key}: ${r.detail})`);
      }
      return view;
    },
    { validator: (_r: Recovery) => rejectIfClosed() },
  );

  setHandler(
    acknowledgeUpdate,
    ({ actor }) => {
      if (view.state === 'resolving') return view;
      if (view.state === 'acknowledged') {
        ackSeq++;
        record('acknowledged', actor, `acknowledged again by ${actor}; acknowledgement timeout restarts`);
        return view;
      }
      ackSeq++;
      acknowledger = lookupRecipient(actor);
      view.acknowledgedAt = now();
      view.acknowledgedBy = actor;
      view.nextEscalationAt = undefined;
      record('acknowledged', actor, `acknowledged by ${actor}; escalation stopped`);
      notifyChat('acknowledged', `${input.service.name}: acknowledged by ${actor}`, 'Escalation stopped.');
      if (view.state !== 'verifying') setState('acknowledged');
      return view;
    },
    { validator: (_a: StaffAction) => rejectIfClosed() },
  );

  setHandler(
    resolveUpdate,
    ({ actor, note }) => {
      if (view.state === 'resolving') return view;
      view.resolveRequestedAt = now();
      view.nextEscalationAt = undefined;
      record(
        'resolve-requested',
        actor,
        `${actor} says it is resolved${note ? `: ${note}` : ''}; ` +
          (input.checks.length > 0
            ? `waiting for ${input.recoveryPasses} passing probe round(s) in a row`
            : 'no probe is configured, so it is taken on their word'),
      );
      if (!acknowledger) acknowledger = lookupRecipient(actor);
      setState('resolving');
      return view;
    },
    { validator: (_a: StaffAction) => rejectIfClosed() },
  );

  setHandler(
    noteUpdate,
    ({ actor, text }) => {
      record('note', actor, text);
      return view;
    },
    {
      validator: ({ text }) => {
        if (typeof text !== 'string' || text.trim() === '')
          throw ApplicationFailure.nonRetryable('text: a note needs some text', rejection.invalid);
      },
    },
  );

  setHandler(
    publishStatusUpdate,
    ({ actor, state, message }) => {
      publishStatus(state, actor, message);
      return view;
    },
    {
      validator: ({ state }) => {
        rejectIfClosed();
        if (!statusStates.includes(state))
          throw ApplicationFailure.nonRetryable(
            `state: must be one of ${statusStates.join(', ')}`,
            rejection.invalid,
          );
      },
    },
  );

  // ---- helpers --------------------------------------------------------------------------------
  function lookupRecipient(actor: string): Recipient | undefined {
    for (const step of input.plan) {
      const r = step.recipients.find((x) => x.id === actor);
      if (r) return r;
    }
    return input.owner.id === actor ? input.owner : undefined;
  }

  function publishStatus(state: StatusState, author: string, message?: string) {
    const text =
      message ??
      statusMessage(state, {
        component: input.service.component ?? input.service.name,
        severity: input.severity,
        // A customer's own words are not for the public page; staff write the cause when they know it.
        reason: input.detection.source === 'customer' ? '' : input.detection.reason,
      });
    view.status.push({ at: now(), state, message: text, author });
    view.statusDraft = undefined;
    record('status', author, `status message published (${state}): ${text}`);
    notifyChat('status', `${input.service.component ?? input.service.name}: ${state}`, text);
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
    const sent = (attempt: number, duplicate: boolean) =>
      record(
        'paged',
        'system',
        `${onSent} ${to.name} <${to.email}> by email${duplicate ? ' (already sent)' : ''}${attempt > 1 ? ` (attempt ${attempt})` : ''}`,
      );
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
    pending.push(
      (async () => {
        // Retried here rather than by the activity's policy, so every failed attempt is in the timeline.
        const started = Date.now();
        let delay = pageRetryInitialMs;
        for (let attempt = 1; ; attempt++) {
          try {
            const r = await mailOnce.sendEmail(message);
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
              );
            if (giveUp) return;
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
    for (let i = 0; ; i++) {
      view.communicationDueAt = new Date(Date.now() + deadlineMs).toISOString();
      const done = await condition(() => view.status.length > 0 || isClosed(), deadlineMs);
      if (done) break;
      const who = chain[i];
      if (!who) break;
      record(
        'comms-overdue',
        'system',
        `no public status message ${formatDuration(deadlineMs * (i + 1))} after verification; paging ${who.name} to publish or approve the draft`,
      );
      view.paged.push({ at: now(), level: 0, cycle: 0, recipient: who, reason: 'escalation' });
      const m = communicationsMail(view, view.statusDraft ?? '', deadlineMs, who, links);
      sendTracked(`comms-${i}`, who, m.subject, m.text, 'public communication overdue:');
    }
    view.communicationDueAt = undefined;
  }

  function page(stepIndex: number, reason: PageRecord['reason'], recipients: Recipient[]) {
    const step = input.plan[stepIndex];
    if (!step) return;
    const seq = ++sendSeq;
    for (const r of recipients) {
      view.paged.push({ at: now(), level: step.level, cycle: step.cycle, recipient: r, reason });
      const m = pageMail(view, { level: step.level, cycle: step.cycle, reason }, r, links);
      const what = step.fallback
        ? 'final fallback:'
        : `level ${step.level}${step.cycle > 0 ? ` (repeat ${step.cycle})` : ''}:`;
      sendTracked(`page-${seq}`, r, m.subject, m.text, `${what} paged`, true);
    }
  }

  function escalateTo(stepIndex: number, reason: PageRecord['reason']) {
    const step = input.plan[stepIndex]!;
    view.escalationStep = stepIndex;
    const who = step.recipients.map((r) => r.name).join(', ');
    if (reason !== 'initial')
      record(
        'escalated',
        'system',
        step.fallback
          ? `nobody acknowledged; final fallback: notifying ${who}`
          : `nobody acknowledged within the timeout; escalating to level ${step.level}${step.cycle > 0 ? ` (repeat ${step.cycle})` : ''}: ${who}`,
      );
    if (reason !== 'initial' && patched('chat-escalated'))
      notifyChat(
        'escalated',
        `${input.service.name}: escalated`,
        step.fallback ? `final fallback: ${who}` : `level ${step.level}: ${who}`,
      );
    page(stepIndex, step.fallback ? 'fallback' : reason, step.recipients);
  }

  function describeFailures(results: CheckResult[]): string {
    return results
      .filter((r) => !r.result.ok)
      .map((r) => `${r.checkId} (${r.kind}) failed: ${r.result.code} — ${r.result.message}`)
      .join('; ');
  }

  // ---- verify ---------------------------------------------------------------------------------
  let confirmed = false;
  if (input.detection.skipVerify) {
    record('verified', input.detection.actor, 'verification skipped: the reporter vouches for the problem');
    confirmed = true;
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
  if (!confirmed) {
    setState('dismissed');
    view.closedAt = now();
    record('dismissed', 'system', 'the problem did not reproduce on verification; nobody was paged');
    await condition(allHandlersFinished);
    return view;
  }
  view.verifiedAt = now();
  if (patched('comms-deadline-and-chat')) {
    chatEnabled = true;
    notifyChat('opened', `${input.service.name} is down`, input.detection.reason);
    if (input.communicationDeadlineMs !== undefined)
      pending.push(communicationDeadline(input.communicationDeadlineMs));
  }

  // ---- notify + status --------------------------------------------------------------------------
  if (input.autoPublish && view.state !== 'resolving') publishStatus('investigating', 'system');
  if (view.state === 'verifying' && view.acknowledgedAt) {
    // Acknowledged while verifying: the person is already on it, nobody else needs a page.
    setState('acknowledged');
  } else if (view.state === 'verifying') {
    setState('triggered');
    const first = nextStep(input.plan, -1);
    if (first.kind === 'notify') escalateTo(first.stepIndex, 'initial');
  }

  // ---- escalate / acknowledge / recover ---------------------------------------------------------
  while (!isClosed()) {
    if (hadKeys && view.openKeys.length === 0) {
      // Everything that reported it recovered while it was being verified.
      resolve('every failing check and alert recovered');
      break;
    }
    if (view.state === 'triggered') {
      const wait = waitAfter(input.plan, view.escalationStep);
      if (wait === undefined) {
        view.nextEscalationAt = undefined;
        await condition(() => view.state !== 'triggered');
        continue;
      }
      view.nextEscalationAt = new Date(Date.now() + wait).toISOString();
      const changed = await condition(() => view.state !== 'triggered', wait);
      if (!changed) {
        const next = nextStep(input.plan, view.escalationStep);
        if (next.kind === 'notify') escalateTo(next.stepIndex, 'escalation');
        else view.nextEscalationAt = undefined;
      }
    } else if (view.state === 'acknowledged') {
      const seq = ackSeq;
      const changed = await condition(
        () => view.state !== 'acknowledged' || ackSeq !== seq,
        input.acknowledgementTimeoutMs,
      );
      if (!changed) acknowledgementExpired();
    } else if (view.state === 'resolving') {
      await awaitRecovery();
    }
  }

  function acknowledgementExpired() {
    record(
      'ack-timeout',
      'system',
      `acknowledged ${formatDuration(input.acknowledgementTimeoutMs)} ago and not resolved; back to unacknowledged, escalation resumes`,
    );
    setState('triggered');
    const step = Math.max(0, view.escalationStep);
    view.escalationStep = step;
    page(step, 'ack-timeout', ackTimeoutRecipients(input.plan, step, acknowledger));
    acknowledger = undefined;
    view.acknowledgedBy = undefined;
  }

  async function awaitRecovery() {
    const requestedAt = Date.now();
    if (input.autoPublish || view.status.length > 0) publishStatus('monitoring', 'system');
    if (input.checks.length === 0) {
      resolve('no probe configured; resolved on the responder’s word');
      return;
    }
    let passes = 0;
    let recoveryReported = false;
    while (view.state === 'resolving') {
      const results = await probes.runChecks(input.checks);
      const failures = describeFailures(results);
      if (!failures) {
        passes++;
        record(
          'recovery-check',
          'probe',
          `pass ${passes}/${input.recoveryPasses}: all ${results.length} probe(s) pass`,
        );
        if (passes >= input.recoveryPasses) {
          resolve(`recovery proven: ${passes} passing probe round(s) in a row`);
          return;
        }
      } else {
        if (passes > 0 || !recoveryReported) {
          record('recovery-check', 'probe', `still failing, incident stays open: ${failures}`);
          recoveryReported = true;
        }
        passes = 0;
      }
      if (Date.now() - requestedAt >= input.acknowledgementTimeoutMs) {
        record(
          'ack-timeout',
          'system',
          `recovery not proven within ${formatDuration(input.acknowledgementTimeoutMs)}`,
        );
        view.resolveRequestedAt = undefined;
        acknowledgementExpired();
        return;
      }
      await sleep(input.recoveryIntervalMs);
    }
  }

  function resolve(detail: string) {
    setState('resolved');
    view.resolvedAt = now();
    view.closedAt = view.resolvedAt;
    view.nextEscalationAt = undefined;
    record('resolved', 'probe', detail);
    notifyChat('resolved', `${input.service.name} is resolved`, detail);
    if (input.autoPublish || view.status.length > 0) publishStatus('resolved', 'system');
    if (input.notifyResolved) {
      const handOff = patched('resolved-notice-delivery');
      const seen = new Set<string>();
      for (const p of view.paged) {
        if (seen.has(p.recipient.id)) continue;
        seen.add(p.recipient.id);
        const m = resolvedMail(view, p.recipient, links);
        if (handOff)
          resolvedNotices.push({
            idempotencyKey: `${info.workflowId}/${info.runId}/resolved/${p.recipient.id}`,
            to: [p.recipient],
            subject: m.subject,
            text: m.text,
          });
        else sendTracked('resolved', p.recipient, m.subject, m.text, 'resolved notice sent to');
      }
    }
  }

  // ---- hand-off and postmortem ------------------------------------------------------------------
  if (resolvedNotices.length > 0) {
    // Delivered by a child that outlives this workflow, so the incident closes now and a new report
    // of the service can open a new incident even while a mail server is down.
    await startChild(deliveryWorkflow, {
      workflowId: `resolved-notice-${id}`,
      args: [{ mails: resolvedNotices }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    record(
      'resolved-notice',
      'system',
      `resolved notice on its way to ${resolvedNotices.map((m) => m.to[0]!.email).join(', ')}`,
    );
  }
  if (patched('bounded-close')) {
    // Pages still being retried no longer matter once it is resolved; give chat updates a minute.
    await Promise.race([Promise.allSettled(pending), sleep(60_000)]);
  } else {
    await Promise.allSettled(pending);
  }
  record('postmortem', 'system', `postmortem draft scheduled for ${input.owner.name}`);
  await startChild(postmortemWorkflow, {
    workflowId: `postmortem-${id}`,
    args: [
      {
        view: structuredCloneView(view),
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
