/**
 * The postmortem, a child of the incident (it outlives it): renders the draft from the incident's
 * record and the change log, schedules the meeting N working days after resolution and invites
 * everyone who was paged or acted, reminds the owner until it is marked done, tells the owner's level
 * above when it is overdue, and reminds each follow-up task's owner on its due date. Decisions live in
 * domain/ (calendar, postmortem, templates); this file only sequences them.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { OutgoingMail } from '../activities/notifiers/email.js';
import type { Delivery } from '../activities/deliver.js';
import {
  endOfLocalDay,
  isLocalDate,
  localDateAfter,
  localSlot,
  scheduleMeeting,
  startOfWorkingDay,
  zone,
  type WorkingCalendar,
} from '../domain/calendar.js';
import { changeTargets, type ChangeEvent } from '../domain/changes.js';
import type { Check } from '../domain/config-schema.js';
import type { EscalationStep, IncidentView, Recipient } from '../domain/incident.js';
import {
  defaultPostmortemSettings,
  incidentFigures,
  meetingAttendees,
  overdueRecipients,
  renderPostmortem,
  type FollowUp,
  type MeetingInfo,
  type PostmortemSettings,
} from '../domain/postmortem.js';
import {
  followUpReminderMail,
  meetingChangeMail,
  postmortemInvitation,
  postmortemInviteMail,
  postmortemMail,
  postmortemOverdueMail,
  postmortemReminderMail,
} from '../domain/templates.js';
import { rejection } from './definitions.js';
import {
  addFollowUpUpdate,
  changeLogWorkflowId,
  changesReplySignal,
  changesRequestSignal,
  cancelMeetingUpdate,
  completeFollowUpUpdate,
  completePostmortemUpdate,
  moveMeetingUpdate,
  type CancelMeetingRequest,
  type MoveMeetingRequest,
  postmortemQuery,
  postmortemRejection,
  type CompleteRequest,
  type CompletedResult,
  type FollowUpDoneRequest,
  type FollowUpRequest,
  type PostmortemMemo,
  type PostmortemView,
} from './postmortem-definitions.js';

const { sendEmail, deliver } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

const records = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export interface PostmortemInput {
  /** Histories from before the record store: the incident's whole view. */
  view?: IncidentView;
  /** The incident, read from the record store (a bounded digest of its timeline). */
  incidentId?: string;
  owner: Recipient;
  /** Calendar days after resolution (in the service's time zone) that the postmortem is due. */
  dueDays: number;
  publicBaseUrl?: string;
  /** The incident's escalation plan: the level above the owner hears when it is overdue. */
  plan?: EscalationStep[];
  /** The incident's checks: their services and hosts are what relevant changes name. */
  checks?: Check[];
  /** Contacts whose ids can appear as timeline actors; whoever acted is invited. */
  contacts?: Recipient[];
  /** From the config's `postmortem` section; missing fields take the schema's defaults. */
  settings?: Partial<PostmortemSettings>;
  /** Continue-as-new after this many reminders, carrying the state (and when Temporal suggests it). */
  maxRemindersPerRun?: number;
  /** Set by continue-as-new: where the previous run left off. The draft is not sent again. */
  resume?: PostmortemProgress;
}

/** What one run hands the next. */
export interface PostmortemProgress {
  generatedAt: string;
  changes?: ChangeEvent[];
  followUps: FollowUp[];
  completed?: { at: string; by: string; url: string };
  remindersSent: number;
  reminderSlot: number;
  escalated?: { at: string; to: Recipient[] };
  /** The meeting as moved or cancelled (older runs: recomputed from the incident). */
  meeting?: MeetingInfo;
}

export interface PostmortemResult {
  dueDate: string;
  markdown: string;
  completedAt?: string;
  url?: string;
}

/** How long the draft waits for the change log's answer before it goes out without it. */
const changeLogTimeout = '1 minute';
/** Bounds what one postmortem records, so its history stays small. */
const maxFollowUps = 100;
const minReminderIntervalMs = 1000;

const invalid = (message: string) => ApplicationFailure.nonRetryable(message, rejection.invalid);
const iso = (ms: number) => new Date(ms).toISOString();

/** The levels the incident actually paged, as a plan: who is above whom when no plan was passed. */
function planFromPages(view: IncidentView): EscalationStep[] {
  const steps: EscalationStep[] = [];
  for (const p of view.paged) {
    if (p.cycle !== 0) continue;
    let step = steps.find((s) => s.level === p.level);
    if (!step) {
      step = { level: p.level, cycle: 0, fallback: p.level === 0, recipients: [], waitMs: 0 };
      steps.push(step);
    }
    if (!step.recipients.some((r) => r.id === p.recipient.id)) step.recipients.push(p.recipient);
  }
  // Levels in order, the final fallback (level 0) last.
  return steps.sort((a, b) => (a.level || Infinity) - (b.level || Infinity));
}

export async function postmortemWorkflow(input: PostmortemInput): Promise<PostmortemResult> {
  const info = workflowInfo();
  const { owner } = input;
  const view: IncidentView =
    input.view ?? (await records.loadIncidentDigest({ incidentId: input.incidentId ?? '' }));
  /** The postmortem's own record goes to the store (older histories replay without it). */
  const useStore = patched('postmortem-record');
  /** Follow-ups are marked done one by one: the workflow stays until each is done (older runs: until reminded). */
  const untilDone = patched('follow-ups-until-done');
  const settings: PostmortemSettings = { ...defaultPostmortemSettings, ...input.settings };
  const timeZone = view.service.timezone || 'Europe/Oslo';
  const resume = input.resume;
  const generatedAt = resume?.generatedAt ?? new Date().toISOString();
  const startedMs = Date.parse(generatedAt);

  // The schedule is computed from the incident's own times, so it is the same whenever this runs.
  const resolvedAt = view.resolvedAt ?? view.closedAt ?? generatedAt;
  const resolvedMs = Date.parse(resolvedAt);
  const calendar: WorkingCalendar = {
    timeZone,
    workStart: settings.workingHours.start,
    workEnd: settings.workingHours.end,
    holidays: settings.holidays,
  };
  const dueDate = localDateAfter(resolvedMs, input.dueDays, timeZone);
  const overdueAtMs = endOfLocalDay(dueDate, timeZone);
  const escalateAtMs = overdueAtMs + settings.overdueAfterMs;
  const slot = scheduleMeeting(resolvedMs, calendar, {
    delayWorkingDays: settings.meetingDelayWorkingDays,
    durationMs: settings.meetingDurationMs,
  });
  const contacts = [...(input.contacts ?? []), ...(input.plan ?? []).flatMap((s) => s.recipients)];
  let meeting: MeetingInfo = resume?.meeting ?? {
    start: iso(slot.start),
    end: iso(slot.end),
    local: slot.local,
    attendees: meetingAttendees(view, owner, contacts),
  };
  const escalateTo = overdueRecipients(input.plan?.length ? input.plan : planFromPages(view), owner);
  const reminderMs = Math.max(minReminderIntervalMs, settings.reminderIntervalMs);

  const base = (input.publicBaseUrl ?? 'http://localhost:3000').replace(/\/+$/, '');
  const links = {
    incidentUrl: `${base}/api/incidents/${view.id}`,
    postmortemUrl: `${base}/api/incidents/${view.id}/postmortem`,
  };

  let changes: ChangeEvent[] | undefined = resume?.changes;
  const followUps: FollowUp[] = resume?.followUps ?? [];
  let completed = resume?.completed;
  let remindersSent = resume?.remindersSent ?? 0;
  /** Reminder slots passed (a reminder is due every interval after the draft). */
  let reminderSlot = resume?.reminderSlot ?? 0;
  let escalated = resume?.escalated;
  const maxRemindersPerRun = input.maxRemindersPerRun ?? 500;
  let remindersThisRun = 0;
  let revision = 0; // bumped by every update, so the main loop wakes up
  const pending: Promise<unknown>[] = [];

  const render = () =>
    renderPostmortem(view, {
      owner,
      dueDate,
      generatedAt,
      meeting,
      changes,
      changeWindowMs: settings.changeWindowMs,
      followUps,
      completed,
    });
  const nextReminderMs = () => startedMs + (reminderSlot + 1) * reminderMs;
  const followUpAtMs = (f: FollowUp) => startOfWorkingDay(f.dueDate, calendar);
  const today = () => zone(timeZone).local(Date.now()).date;

  const memo = (): PostmortemMemo => ({
    incidentId: view.id,
    service: view.service.id,
    severity: view.severity,
    owner,
    dueDate,
    overdueAt: iso(overdueAtMs),
    state: completed ? 'completed' : 'due',
    meetingStart: meeting.start,
    ...(completed ? { completedAt: completed.at, url: completed.url } : {}),
  });

  /** A postmortem mail as a delivery: kind email, every recipient in one mail, its attachments. */
  const postmortemDelivery = (mail: Omit<OutgoingMail, 'idempotencyKey'>, key: string): Delivery => {
    const first = mail.to[0];
    return {
      kind: 'email',
      idempotencyKey: key,
      to: first?.email ?? '',
      recipient: {
        id: (first as { id?: string } | undefined)?.id ?? first?.email ?? '',
        name: first?.name ?? first?.email ?? '',
      },
      page: {
        incidentId: view.id,
        title: mail.subject,
        text: mail.text,
        severity: view.severity,
        service: view.service.name,
      },
      mail: {
        subject: mail.subject,
        // As sendEmail tells them apart (activities/notifiers/mail-html.ts mailKindOf).
        kind: /\/(draft|invite)$/.test(key) ? 'postmortem' : 'notice',
        to: mail.to,
        ...(mail.attachments ? { attachments: mail.attachments } : {}),
        ...(mail.headers ? { headers: mail.headers } : {}),
      },
    };
  };

  const send = (mail: Omit<OutgoingMail, 'idempotencyKey'>, key: string, what: string) => {
    const idempotencyKey = `${info.workflowId}/${key}`;
    // Through the one outbound port (the shared sent ledger), the same mail; older histories: sendEmail.
    const sending = patched('deliver-everywhere')
      ? deliver(postmortemDelivery(mail, idempotencyKey))
      : sendEmail({ ...mail, idempotencyKey });
    // Never blocks the schedule: a mail server that is down must not delay the next reminder.
    const p = sending.catch((e: unknown) =>
      log.warn(`postmortem: could not send ${what}`, { error: (e as Error).message ?? String(e) }),
    );
    pending.push(p);
    return p;
  };

  // ---- handlers -------------------------------------------------------------------------------
  const viewNow = (): PostmortemView => ({
    incidentId: view.id,
    workflowId: info.workflowId,
    service: { id: view.service.id, name: view.service.name },
    severity: view.severity,
    state: completed ? 'completed' : 'due',
    owner,
    dueDate,
    overdueAt: iso(overdueAtMs),
    escalateAt: iso(escalateAtMs),
    ...(escalated ? { escalatedTo: escalated.to, escalatedAt: escalated.at } : {}),
    meeting,
    remindersSent,
    ...(completed ? {} : { nextReminderAt: iso(nextReminderMs()) }),
    followUps,
    ...(completed ? { completedAt: completed.at, completedBy: completed.by, url: completed.url } : {}),
    markdown: render(),
  });

  setHandler(postmortemQuery, viewNow);

  /** Writes the postmortem as it stands to the store (after each change; retried until it answers). */
  const save = () => {
    if (!useStore) return;
    const v = viewNow();
    pending.push(
      records.recordPostmortem({
        incidentId: v.incidentId,
        workflowId: v.workflowId,
        service: v.service.id,
        severity: v.severity,
        state: v.state,
        ownerId: owner.id,
        dueDate: v.dueDate,
        overdueAt: v.overdueAt,
        ...(v.completedAt ? { completedAt: v.completedAt } : {}),
        ...(v.url ? { url: v.url } : {}),
        markdown: v.markdown,
        view: v as unknown as Record<string, unknown>,
        followUps: v.followUps,
      }),
    );
  };

  setHandler(
    completePostmortemUpdate,
    ({ actor, url }: CompleteRequest) => {
      completed = { at: new Date().toISOString(), by: actor, url };
      revision++;
      upsertMemo({ ...memo() });
      save();
      const result: CompletedResult = {
        completedAt: completed.at,
        completedBy: completed.by,
        url: completed.url,
      };
      return result;
    },
    {
      validator: ({ url }: CompleteRequest) => {
        if (completed)
          throw ApplicationFailure.nonRetryable(
            `the postmortem of ${view.id} was already completed at ${completed.at} by ${completed.by}`,
            postmortemRejection.completed,
          );
        if (typeof url !== 'string' || !/^https?:\/\/\S+$/.test(url))
          throw invalid('url: a link (http or https) to the final document');
      },
    },
  );

  setHandler(
    addFollowUpUpdate,
    (req: FollowUpRequest) => {
      const task: FollowUp = {
        id: `f${followUps.length + 1}`,
        title: req.title.trim(),
        owner: req.owner,
        dueDate: req.dueDate,
        recordedBy: req.actor,
        recordedAt: new Date().toISOString(),
      };
      followUps.push(task);
      revision++;
      save();
      return task;
    },
    {
      validator: (req: FollowUpRequest) => {
        if (typeof req.title !== 'string' || req.title.trim() === '')
          throw invalid('title: must not be empty');
        if (!req.owner || typeof req.owner.email !== 'string' || !req.owner.email.includes('@'))
          throw invalid('owner: a contact with an email address');
        if (typeof req.dueDate !== 'string' || !isLocalDate(req.dueDate))
          throw invalid('dueDate: a date, YYYY-MM-DD');
        const now = today();
        if (req.dueDate < now)
          throw invalid(`dueDate: ${req.dueDate} is in the past (today is ${now} in ${timeZone})`);
        if (followUps.length >= maxFollowUps) throw invalid(`at most ${maxFollowUps} follow-up tasks`);
      },
    },
  );

  /** Sends the meeting's change to everyone invited (the owner included), with its .ics. */
  const announceMeeting = (
    change:
      { kind: 'moved'; from: MeetingInfo; by: string } | { kind: 'cancelled'; by: string; reason: string },
  ) => {
    const ics = postmortemInvitation(
      view,
      owner,
      meeting,
      Date.now(),
      links,
      change.kind === 'moved' ? 'REQUEST' : 'CANCEL',
    );
    const m = meetingChangeMail(view, owner, meeting, change, ics, links);
    void send(
      { to: meeting.attendees, ...m },
      `meeting-${meeting.sequence}`,
      `the meeting ${change.kind} notice`,
    );
  };

  setHandler(
    moveMeetingUpdate,
    ({ actor, start, durationMinutes }: MoveMeetingRequest) => {
      const from = meeting;
      const startMs = Date.parse(start);
      const lengthMs =
        durationMinutes !== undefined
          ? durationMinutes * 60_000
          : Date.parse(from.end) - Date.parse(from.start);
      const { cancelled: _wasCancelled, ...rest } = from;
      meeting = {
        ...rest,
        start: iso(startMs),
        end: iso(startMs + lengthMs),
        local: localSlot(startMs, timeZone),
        sequence: (from.sequence ?? 0) + 1,
      };
      revision++;
      upsertMemo({ ...memo() });
      announceMeeting({ kind: 'moved', from, by: actor });
      save();
      return meeting;
    },
    {
      validator: ({ start, durationMinutes }: MoveMeetingRequest) => {
        const ms = typeof start === 'string' ? Date.parse(start) : NaN;
        if (!Number.isFinite(ms)) throw invalid('start: a date-time (UTC ISO-8601)');
        if (ms <= Date.now()) throw invalid(`start: ${start} is not in the future`);
        if (
          durationMinutes !== undefined &&
          (!Number.isInteger(durationMinutes) || durationMinutes < 5 || durationMinutes > 480)
        )
          throw invalid('durationMinutes: a whole number of minutes from 5 to 480');
      },
    },
  );

  setHandler(
    cancelMeetingUpdate,
    ({ actor, reason }: CancelMeetingRequest) => {
      meeting = {
        ...meeting,
        sequence: (meeting.sequence ?? 0) + 1,
        cancelled: { at: new Date().toISOString(), by: actor, reason: reason.trim() },
      };
      revision++;
      announceMeeting({ kind: 'cancelled', by: actor, reason: reason.trim() });
      save();
      return meeting;
    },
    {
      validator: ({ reason }: CancelMeetingRequest) => {
        if (meeting.cancelled)
          throw ApplicationFailure.nonRetryable(
            `the postmortem meeting of ${view.id} was already cancelled at ${meeting.cancelled.at} by ${meeting.cancelled.by}`,
            postmortemRejection.meetingCancelled,
          );
        if (typeof reason !== 'string' || reason.trim() === '')
          throw invalid('reason: say why it is cancelled');
      },
    },
  );

  setHandler(
    completeFollowUpUpdate,
    ({ actor, id }: FollowUpDoneRequest) => {
      const f = followUps.find((x) => x.id === id)!;
      f.doneAt = new Date().toISOString();
      f.doneBy = actor;
      revision++;
      save();
      return { ...f };
    },
    {
      validator: ({ id }: FollowUpDoneRequest) => {
        const f = followUps.find((x) => x.id === id);
        if (!f)
          throw ApplicationFailure.nonRetryable(
            `the postmortem of ${view.id} has no follow-up "${id}"`,
            postmortemRejection.unknownFollowUp,
          );
        if (f.doneAt)
          throw ApplicationFailure.nonRetryable(
            `follow-up ${id} was already marked done at ${f.doneAt} by ${f.doneBy}`,
            postmortemRejection.followUpDone,
          );
      },
    },
  );

  upsertMemo({ ...memo() });

  /** The changes before the fault from the change log, then the draft and the invitation. */
  async function draftAndInvite() {
    const fig = incidentFigures(view);
    // One question per run; the id only has to tell its answer from a stray signal.
    const requestId = 'changes-1';
    let reply: ChangeEvent[] | undefined;
    setHandler(changesReplySignal, (r) => {
      if (r.requestId === requestId) reply = r.changes;
    });
    try {
      await getExternalWorkflowHandle(changeLogWorkflowId(info.taskQueue)).signal(changesRequestSignal, {
        requestId,
        replyTo: info.workflowId,
        from: iso(Date.parse(fig.faultBeganAt) - settings.changeWindowMs),
        to: resolvedAt,
        targets: changeTargets(view, input.checks),
      });
      if (await condition(() => reply !== undefined, changeLogTimeout)) changes = reply;
      else log.warn('postmortem: the change log did not answer; the draft goes out without changes');
    } catch {
      // No change log: nothing was ever recorded for this deployment.
      changes = [];
    }

    // ---- the draft and the invitation ---------------------------------------------------------------
    const markdown = render();
    const invitation = postmortemInvitation(view, owner, meeting, Date.now(), links);
    const draft = postmortemMail(view, markdown, dueDate, owner, links, { meeting, invitation });
    const sends = [send({ to: [owner], ...draft }, 'draft', 'the draft')];
    const others = meeting.attendees.filter((a) => a.id !== owner.id);
    if (others.length > 0) {
      const invite = postmortemInviteMail(view, owner, meeting, markdown, invitation, links);
      sends.push(send({ to: others, ...invite }, 'invite', 'the invitation'));
    }
    await Promise.all(sends);
    save();
  }

  if (!resume) {
    await draftAndInvite();
  } else {
    save();
  }

  // ---- reminders, overdue, follow-ups --------------------------------------------------------------
  const dueFollowUps = () => followUps.filter((f) => !f.remindedAt && !f.doneAt);
  const openFollowUps = () => followUps.filter((f) => !f.doneAt);
  while (!completed || (untilDone ? openFollowUps() : dueFollowUps()).length > 0) {
    const now = Date.now();
    if (!completed && now >= nextReminderMs()) {
      remindersSent++;
      reminderSlot++;
      const m = postmortemReminderMail(
        view,
        owner,
        { dueDate, number: remindersSent, overdue: now >= overdueAtMs, meeting },
        links,
      );
      void send({ to: [owner], ...m }, `reminder-${remindersSent}`, `reminder ${remindersSent}`);
      remindersThisRun++;
      // Catch up without a burst after a long pause (a worker that was down): one reminder, then on.
      while (nextReminderMs() <= now) reminderSlot++;
    }
    if (!completed && !escalated && now >= escalateAtMs) {
      escalated = { at: iso(now), to: escalateTo };
      if (escalateTo.length === 0) log.warn('postmortem: overdue, but nobody is above the owner to tell');
      for (const r of escalateTo) {
        const m = postmortemOverdueMail(view, owner, r, dueDate, remindersSent, links);
        void send({ to: [r], ...m }, `overdue/${r.id}`, `the overdue notice to ${r.id}`);
      }
      save();
    }
    for (const f of dueFollowUps()) {
      if (now < followUpAtMs(f)) continue;
      f.remindedAt = iso(now);
      void send(
        { to: [f.owner], ...followUpReminderMail(view, f, links) },
        `follow-up-${f.id}`,
        `follow-up ${f.id}`,
      );
    }

    if (remindersThisRun >= maxRemindersPerRun || workflowInfo().continueAsNewSuggested) {
      // A postmortem left open for months stays a short history: the next run carries the state.
      await Promise.allSettled(pending);
      await condition(allHandlersFinished);
      await continueAsNew<typeof postmortemWorkflow>({
        ...input,
        resume: {
          generatedAt,
          changes,
          followUps,
          completed,
          remindersSent,
          reminderSlot,
          escalated,
          meeting,
        },
      });
    }

    const next = Math.min(
      completed ? Infinity : nextReminderMs(),
      completed || escalated ? Infinity : escalateAtMs,
      ...dueFollowUps().map(followUpAtMs),
    );
    const seen = revision;
    if (next === Infinity) await condition(() => revision !== seen);
    else await condition(() => revision !== seen, Math.max(1, next - Date.now()));
  }

  await Promise.allSettled(pending);
  await condition(allHandlersFinished);
  return { dueDate, markdown: render(), completedAt: completed?.at, url: completed?.url };
}
