/**
 * The words the incident sends: pages, the resolved notice, public status texts, the postmortem
 * invitation. Pure: no I/O, no Node built-ins, no clock (times come in as arguments), because it is
 * bundled into Temporal workflow code.
 */
import type { Severity } from './config-schema.js';
import { formatDuration } from './duration.js';
import type {
  IncidentState,
  IncidentView,
  PageRecord,
  ProbeResult,
  Recipient,
  StatusState,
  TimelineEvent,
} from './incident.js';
import { buildInvitation } from './calendar.js';
import type { FollowUp, MeetingInfo } from './postmortem.js';
import type { WhoIsNext } from './escalation.js';
import { recoveryFacts, recoverySentences } from './recovery-facts.js';

/** Where a mail points: the incident in the API, and (for pages) a signed one-click acknowledge link. */
export interface MailLinks {
  incidentUrl: string;
  ackUrl?: string;
  /** The incident in the staff console (a browser page; the API URL needs a bearer token). */
  consoleUrl?: string;
}

export interface MailText {
  subject: string;
  text: string;
}

export interface PageStep {
  level: number;
  cycle: number;
  reason: PageRecord['reason'];
}

export type StatusLanguage = 'en' | 'nb';

// ---------------------------------------------------------------------------------------------
// Shared helpers (also used by the postmortem)

/** `2022-05-10T07:49:12.000Z` → `2022-05-10 07:49 UTC`; anything unparseable is returned as is. */
export function formatUtc(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Milliseconds from `from` to `to` (ISO strings), or undefined when either is missing. */
export function msBetween(from: string | undefined, to: string | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined;
  const a = Date.parse(from);
  const b = Date.parse(to);
  return Number.isNaN(a) || Number.isNaN(b) ? undefined : b - a;
}

/** Whether a timeline actor (a contact id, a name, an email, or `prefix:id`) is this person. */
export function isActor(r: Recipient, actor: string | undefined): boolean {
  if (!actor) return false;
  return actor === r.id || actor === r.name || actor === r.email || actor.endsWith(`:${r.id}`);
}

/** One probe run as a timeline detail; `parseProbeDetails` reads it back for the postmortem. */
export function probeDetail(
  checkId: string,
  r: Pick<ProbeResult, 'ok' | 'code' | 'message' | 'latencyMs'>,
): string {
  const message = r.message.replace(/\s+/g, ' ').trim();
  const latency = ` (${Math.round(r.latencyMs)}ms)`;
  if (r.ok) return `${checkId}: ok${message && message !== 'ok' ? ` — ${message}` : ''}${latency}`;
  return `${checkId}: FAIL ${r.code}${message ? ` — ${message}` : ''}${latency}`;
}

export interface ProbeFinding {
  check: string;
  ok: boolean;
  code: string;
  message: string;
}

const findingLine =
  /^([a-z0-9][a-z0-9-]*): (ok|FAIL)(?: ([A-Za-z0-9][\w.-]*))?(?: — (.*?))?(?: \((\d+)ms\))?$/;
const keyValue = (detail: string, key: string): string | undefined =>
  new RegExp(`(?:^|[\\s,;])${key}[=:]\\s*(?:"([^"]*)"|([^\\s,;]+))`)
    .exec(detail)
    ?.slice(1, 3)
    .find((v) => v !== undefined);

// The workflow's own wording of failed checks: `<check> (<kind>) failed: <code> — <message>`, joined with `; `.
const failedPhrase =
  /([a-z0-9][a-z0-9-]*) \(([A-Za-z]+)\) failed: ([A-Za-z0-9][\w.-]*)(?: — ([\s\S]*?))?(?=; [a-z0-9][a-z0-9-]* \([A-Za-z]+\) failed: |$)/g;

/**
 * The probe results a timeline detail carries, in any of the forms written into timelines: lines from
 * `probeDetail` (several joined with newlines or `; `); `<check> (<kind>) failed: <code> — <message>`
 * phrases (joined with `; `, after any prefix such as `problem confirmed: `); or `key=value` text with
 * at least `code=…` (`check=… ok=false code=refused message="…"`). Empty for other details.
 */
export function parseProbeDetails(detail: string): ProbeFinding[] {
  const out: ProbeFinding[] = [];
  for (const m of detail.matchAll(failedPhrase)) {
    out.push({ check: m[1]!, ok: false, code: m[3]!, message: oneLine(m[4] ?? '') });
  }
  if (out.length > 0) return out;
  for (const segment of detail.split(/\r?\n|; (?=[a-z0-9][a-z0-9-]*: (?:ok|FAIL)\b)/)) {
    const m = findingLine.exec(segment.trim());
    if (m) {
      const ok = m[2] === 'ok';
      out.push({ check: m[1]!, ok, code: m[3] ?? (ok ? 'ok' : 'error'), message: m[4] ?? '' });
    }
  }
  if (out.length > 0) return out;
  const code = keyValue(detail, 'code');
  if (code === undefined) return [];
  const okText = keyValue(detail, 'ok');
  return [
    {
      check: keyValue(detail, 'check') ?? '',
      ok: okText === undefined ? code === 'ok' : okText === 'true',
      code,
      message: keyValue(detail, 'message') ?? '',
    },
  ];
}

/**
 * Whether a `recovery-check` detail reports a pass: probe results that all passed, or, without any,
 * wording such as `pass 2/2: all 3 probe(s) pass`.
 */
export function isPassingCheck(detail: string): boolean {
  const findings = parseProbeDetails(detail);
  if (findings.length > 0) return findings.every((f) => f.ok);
  return /\bpass(es|ed)?\b/i.test(detail) && !/\bfail/i.test(detail);
}

/** The first acknowledgement, from the timeline (the view's fields move on when it expires). */
export function firstAcknowledgement(view: IncidentView): { at: string; by: string } | undefined {
  const e = view.timeline.find((x) => x.kind === 'acknowledged');
  if (e) return { at: e.at, by: e.actor };
  return view.acknowledgedAt ? { at: view.acknowledgedAt, by: view.acknowledgedBy ?? 'unknown' } : undefined;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function severityTag(view: IncidentView): string {
  return `[${view.severity}]`;
}

const health: Record<IncidentState, string> = {
  verifying: 'SUSPECTED DOWN',
  dismissed: 'FALSE ALARM',
  triggered: 'DOWN',
  acknowledged: 'DOWN',
  resolving: 'RECOVERING',
  resolved: 'RESOLVED',
};

/** Why a report skipped verification, naming its real source (never "the reporter" for a monitor). */
export function verificationSkipped(d: { source: IncidentView['source']; actor: string }): string {
  switch (d.source) {
    case 'probe':
      return `verification skipped: the monitor ${d.actor} already saw its check fail on consecutive probes (its fail threshold)`;
    case 'event':
      return `verification skipped: the alerting tool (${d.actor}) already evaluated its rule`;
    case 'api':
      return `verification skipped: ${d.actor} vouches for the problem`;
    case 'customer':
      return 'verification skipped: the reporter vouches for the problem';
  }
}

function detectedBy(view: IncidentView): string {
  const actor = view.timeline.find((e) => e.kind === 'detected')?.actor;
  const who = actor ? ` (${actor})` : '';
  if (view.source === 'probe') return `monitoring${who}`;
  if (view.source === 'api') return `a person${who}`;
  return `an external event${who}`;
}

function affectedLines(view: IncidentView): string[] {
  if (view.affected.length === 0) return ['  - (none recorded)'];
  return view.affected.map(
    (a) =>
      `  - ${a.name}${a.root ? ' (the failing service)' : ' (depends on it)'}: ` +
      `${a.subscribers} subscriber${a.subscribers === 1 ? '' : 's'}`,
  );
}

function stepLabel(step: PageStep): string {
  if (step.reason === 'fallback' || step.level === 0) return 'final fallback page';
  const repeat = step.cycle > 0 ? ` (repeat ${step.cycle})` : '';
  const expired =
    step.reason === 'ack-timeout'
      ? ' (acknowledgement expired)'
      : step.reason === 'snoozed'
        ? ' (snooze over)'
        : '';
  return `level ${step.level} page${repeat}${expired}`;
}

function whyYou(view: IncidentView, step: PageStep): string {
  const repeat =
    step.cycle > 0 ? ` The whole escalation chain went unanswered; this is repeat ${step.cycle} of it.` : '';
  switch (step.reason) {
    case 'initial':
      return `You are paged at level ${step.level} of the escalation policy.${repeat}`;
    case 'escalation':
      return `Nobody acknowledged in time, so the page moved on to you (level ${step.level}).${repeat}`;
    case 'ack-timeout': {
      const ack = firstAcknowledgement(view);
      const who = view.acknowledgedBy ?? ack?.by ?? 'Someone';
      return `${who} acknowledged, but the incident was neither resolved nor acknowledged again in time, so escalation resumed with you (level ${step.level}).`;
    }
    case 'fallback':
      return 'Nobody in the escalation chain acknowledged. You are the final fallback.';
    case 'added':
      return 'Staff added you as a responder.';
    case 'snoozed':
      return `It was acknowledged and snoozed; the snooze is over and it is not resolved, so you are paged again (level ${step.level}).`;
  }
}

/** Pages that went out before this one and got no acknowledgement. */
function pagedBefore(view: IncidentView, step: PageStep, recipient: Recipient): PageRecord[] {
  let idx = -1;
  view.paged.forEach((p, i) => {
    if (p.level === step.level && p.cycle === step.cycle && p.recipient.id === recipient.id) idx = i;
  });
  const current = idx >= 0 ? view.paged[idx] : undefined;
  const earlier = idx >= 0 ? view.paged.slice(0, idx) : view.paged;
  const ack = firstAcknowledgement(view);
  return earlier.filter(
    (p) =>
      // Those paged together with this recipient are not "before".
      !(current && p.level === current.level && p.cycle === current.cycle && p.at === current.at) &&
      !isActor(p.recipient, ack?.by) &&
      !isActor(p.recipient, view.acknowledgedBy),
  );
}

// ---------------------------------------------------------------------------------------------
// Mails

const ackHeading = 'Acknowledge, so the escalation stops:';
const oneClickLine = (url: string) => `  - one click: ${url}`;

/**
 * What a page says comes after it: who is paged next and when, or that nobody further is paged.
 * `sentAt` (ISO) is when this page goes out; without `next`, nothing is promised.
 */
export function nextLine(next: WhoIsNext | undefined, sentAt: string | undefined): string | undefined {
  if (!next) return undefined;
  if (next.kind === 'nobody')
    return 'This is the last level: nobody further is paged automatically. If you cannot take it, find someone who can.';
  const who = next.names.length > 0 ? next.names.join(', ') : 'nobody (no one is configured)';
  const step = next.fallback ? 'the final fallback' : `level ${next.level}`;
  const at = sentAt ? Date.parse(sentAt) : NaN;
  const when = !Number.isNaN(at) ? ` (at ${formatUtc(new Date(at + next.afterMs).toISOString())})` : '';
  return `If nobody acknowledges within ${formatDuration(next.afterMs)}${when}, ${step} is paged next: ${who}.`;
}

/** A page's facts: what is wrong, since when and who saw it, and where the incident is. */
function whatIsWrong(view: IncidentView, incidentUrl: string, links: MailLinks): string[] {
  return [
    'What is wrong:',
    `  ${oneLine(view.reason)}`,
    '',
    `Since: ${formatUtc(view.openedAt)} (detected by ${detectedBy(view)})`,
    `Incident: ${view.id} — ${incidentUrl}`,
    ...(links.consoleUrl ? [`In the console: ${links.consoleUrl}`] : []),
  ];
}

/** The page: what is wrong, since when, who did not answer, who is affected, how to acknowledge. */
export function pageMail(
  view: IncidentView,
  step: PageStep,
  recipient: Recipient,
  links: MailLinks,
  next?: WhoIsNext,
  sentAt?: string,
): MailText {
  const state = health[view.state];
  const subject = `${severityTag(view)} ${view.service.name}: ${state} — ${stepLabel(step)}`;
  const before = pagedBefore(view, step, recipient);
  const incidentUrl = trimSlash(links.incidentUrl);

  const lines = [
    `Hi ${recipient.name},`,
    '',
    `${view.service.name} is ${state} (${view.severity}). ${whyYou(view, step)}`,
    '',
    ...whatIsWrong(view, incidentUrl, links),
    '',
  ];
  if (before.length > 0) {
    lines.push('Paged before you, without an answer:');
    for (const p of before) {
      const level =
        p.reason === 'added' ? 'added as a responder' : p.level === 0 ? 'final fallback' : `level ${p.level}`;
      const who = p.recipient.id === recipient.id ? 'you' : `${p.recipient.name} <${p.recipient.email}>`;
      lines.push(`  - ${who} — ${level}, ${formatUtc(p.at)}`);
    }
  } else {
    lines.push('Nobody was paged before you.');
  }
  lines.push('', 'Affected services:', ...affectedLines(view), '', ackHeading);
  if (links.ackUrl) lines.push(oneClickLine(links.ackUrl));
  lines.push(
    `  - ${links.ackUrl ? 'or ' : ''}with the API:`,
    `    curl -X POST -H "Authorization: Bearer $TOKEN" ${incidentUrl}/acknowledge`,
  );
  const after = nextLine(next, sentAt);
  if (after) lines.push('', after);
  return { subject, text: `${lines.join('\n')}\n` };
}

/**
 * The page to a contact staff added as a responder: who added them and why, what is wrong, and how
 * to acknowledge while nobody has (once someone has, it says who, and offers no acknowledge link).
 */
export function responderMail(
  view: IncidentView,
  recipient: Recipient,
  added: { by: string; note?: string },
  links: MailLinks,
): MailText {
  const state = health[view.state];
  const subject = `${severityTag(view)} ${view.service.name}: ${state} — you are added as a responder`;
  const incidentUrl = trimSlash(links.incidentUrl);
  const note = added.note?.trim() ? `: ${oneLine(added.note)}` : '.';
  const lines = [
    `Hi ${recipient.name},`,
    '',
    `${view.service.name} is ${state} (${view.severity}). ${added.by} added you as a responder to this incident${note}`,
    '',
    ...whatIsWrong(view, incidentUrl, links),
    '',
    'Affected services:',
    ...affectedLines(view),
    '',
  ];
  if (view.state === 'triggered') {
    lines.push(ackHeading);
    if (links.ackUrl) lines.push(oneClickLine(links.ackUrl));
    lines.push(
      `  - ${links.ackUrl ? 'or ' : ''}with the API:`,
      `    curl -X POST -H "Authorization: Bearer $TOKEN" ${incidentUrl}/acknowledge`,
    );
  } else if (view.acknowledgedAt) {
    lines.push(
      `${view.acknowledgedBy ?? 'Someone'} acknowledged it at ${formatUtc(view.acknowledgedAt)}; the escalation is stopped, and you are asked to help.`,
    );
  }
  return { subject, text: `${lines.join('\n')}\n` };
}

/**
 * A page rendered without a link, with the signed one-click link put where `pageMail` would have
 * printed it (the activity signs links, so the secret stays out of workflow history). Text without
 * that section gets the link appended.
 */
export function insertAckUrl(text: string, ackUrl: string): string {
  if (text.includes(oneClickLine(ackUrl))) return text;
  const lines = text.split('\n');
  const at = lines.indexOf(ackHeading);
  if (at < 0) return `${text.replace(/\n*$/, '\n')}\nAcknowledge with one click: ${ackUrl}\n`;
  if (lines[at + 1] === '  - with the API:') lines[at + 1] = '  - or with the API:';
  lines.splice(at + 1, 0, oneClickLine(ackUrl));
  return lines.join('\n');
}

/** How recovery was proven (domain/recovery-facts.ts: the same facts as the console and the postmortem). */
function recoveryProof(view: IncidentView): string[] {
  const facts = recoveryFacts(view);
  const out = recoverySentences(facts);
  if (facts.proof === 'probes') {
    const passing = facts.checks.slice(-facts.passes);
    out.push(...passing.map((e: TimelineEvent) => `  - ${formatUtc(e.at)}: ${oneLine(e.detail)}`));
  }
  return out;
}

/** The notice to everyone who was paged: it is over, how long it took, how we know. */
export function resolvedMail(view: IncidentView, recipient: Recipient, links: MailLinks): MailText {
  const resolvedAt = view.resolvedAt ?? view.closedAt;
  const duration = msBetween(view.openedAt, resolvedAt);
  const subject =
    `${severityTag(view)} ${view.service.name}: RESOLVED` +
    (duration !== undefined ? ` after ${formatDuration(duration)}` : '');
  const ack = firstAcknowledgement(view);
  const lines = [
    `Hi ${recipient.name},`,
    '',
    `${view.service.name} works again; incident ${view.id} is resolved.`,
    '',
    `What was wrong: ${oneLine(view.reason)}`,
    `Opened:   ${formatUtc(view.openedAt)} (detected by ${detectedBy(view)})`,
    `Resolved: ${resolvedAt ? formatUtc(resolvedAt) : 'not recorded'}`,
  ];
  if (duration !== undefined) lines.push(`Duration: ${formatDuration(duration)}`);
  if (ack) {
    const after = msBetween(view.openedAt, ack.at);
    lines.push(
      `Acknowledged by ${ack.by} at ${formatUtc(ack.at)}${after !== undefined ? ` (${formatDuration(after)} after it opened)` : ''}`,
    );
  }
  lines.push(
    '',
    ...recoveryProof(view),
    '',
    'Affected services:',
    ...affectedLines(view),
    '',
    `The timeline: ${trimSlash(links.incidentUrl)}`,
    'A postmortem draft goes to the service owner.',
  );
  return { subject, text: `${lines.join('\n')}\n` };
}

export function postmortemFilename(view: Pick<IncidentView, 'id'>): string {
  return `postmortem-${view.id.replace(/[^A-Za-z0-9._-]+/g, '-')}.md`;
}

export interface Attachment {
  filename: string;
  content: string;
  contentType: string;
}

/** Links in postmortem mails: the incident, and its postmortem in the API. */
export interface PostmortemLinks extends MailLinks {
  postmortemUrl?: string;
}

/** What goes with the owner's mail once the meeting is scheduled. */
export interface PostmortemExtras {
  meeting?: MeetingInfo;
  /** The `.ics` text (METHOD:REQUEST) from `postmortemInvitation`. */
  invitation?: string;
}

export function invitationFilename(): string {
  return 'invite.ics';
}

const icsAttachment = (ics: string, method: 'REQUEST' | 'CANCEL' = 'REQUEST'): Attachment => ({
  filename: invitationFilename(),
  content: ics,
  contentType: `text/calendar; charset=utf-8; method=${method}`,
});

/**
 * The meeting moved (an updated invitation: same UID, SEQUENCE + 1) or was called off
 * (METHOD:CANCEL), to everyone invited; calendars update or remove the event they already hold.
 */
export function meetingChangeMail(
  view: IncidentView,
  owner: Recipient,
  meeting: MeetingInfo,
  change:
    { kind: 'moved'; from: MeetingInfo; by: string } | { kind: 'cancelled'; by: string; reason: string },
  ics: string,
  links: PostmortemLinks,
): MailText & { attachments: Attachment[] } {
  const lines = ['Hi,', ''];
  if (change.kind === 'moved')
    lines.push(
      `The postmortem meeting of incident ${view.id} (${view.service.name}) has moved:`,
      '',
      `  now:    ${meetingLine(meeting)}`,
      `  was:    ${meetingLine(change.from)}`,
      '',
      `Moved by ${change.by}. The updated invitation (${invitationFilename()}) replaces the one in your calendar.`,
    );
  else
    lines.push(
      `The postmortem meeting of incident ${view.id} (${view.service.name}) on ${meetingLine(meeting)} is cancelled.`,
      '',
      `Cancelled by ${change.by}: ${oneLine(change.reason)}`,
      `The attached cancellation (${invitationFilename()}) removes it from your calendar.`,
    );
  lines.push(
    '',
    `${owner.name} <${owner.email}> owns the postmortem.`,
    `The incident: ${trimSlash(links.incidentUrl)}`,
  );
  return {
    subject:
      change.kind === 'moved'
        ? `${severityTag(view)} Moved: postmortem of ${view.service.name}, now ${meeting.local.date} ${meeting.local.time}`
        : `${severityTag(view)} Cancelled: postmortem meeting of ${view.service.name}, ${meeting.local.date} ${meeting.local.time}`,
    text: `${lines.join('\n')}\n`,
    attachments: [icsAttachment(ics, change.kind === 'moved' ? 'REQUEST' : 'CANCEL')],
  };
}

const meetingLine = (m: MeetingInfo) =>
  `${m.local.date} at ${m.local.time} (${m.local.timeZone}), ${formatUtc(m.start)}`;

function completeHint(links: PostmortemLinks): string[] {
  const base = trimSlash(links.postmortemUrl ?? `${trimSlash(links.incidentUrl)}/postmortem`);
  return [
    'When the postmortem is written, mark it done with a link to the final document:',
    `  curl -X POST -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
    `    -d '{"url":"https://…"}' ${base}/complete`,
  ];
}

/** The invitation to write the postmortem; the draft goes along as `postmortem-<id>.md`. */
export function postmortemMail(
  view: IncidentView,
  markdown: string,
  dueDate: string,
  owner: Recipient,
  links: PostmortemLinks,
  extras: PostmortemExtras = {},
): MailText & { attachments: Attachment[] } {
  const filename = postmortemFilename(view);
  const resolvedAt = view.resolvedAt ?? view.closedAt;
  const duration = msBetween(view.openedAt, resolvedAt);
  const lines = [
    `Hi ${owner.name},`,
    '',
    `You own the postmortem of incident ${view.id}: ${view.service.name} (${view.severity}) — ${oneLine(view.reason)}.`,
    `It opened ${formatUtc(view.openedAt)}` +
      (resolvedAt ? ` and was resolved ${formatUtc(resolvedAt)}` : '') +
      (duration !== undefined ? `, after ${formatDuration(duration)}.` : '.'),
    '',
    `The draft is attached (${filename}), pre-filled with the real timeline in UTC and the computed figures.`,
    'Complete the fault, impact, five whys, lessons learned and follow-up tasks (each with an owner,',
    'a due date and where it is tracked).',
    '',
    `It is due by ${dueDate}.`,
  ];
  if (extras.meeting) {
    const others = extras.meeting.attendees.filter((a) => a.id !== owner.id);
    lines.push(
      '',
      `The postmortem meeting: ${meetingLine(extras.meeting)}` +
        (extras.invitation ? ` — the invitation (${invitationFilename()}) is attached` : '') +
        '.',
      others.length > 0
        ? `Invited with you: ${others.map((a) => a.name).join(', ')}.`
        : 'Nobody else is invited.',
    );
  }
  lines.push('', ...completeHint(links), '', `The incident: ${trimSlash(links.incidentUrl)}`);
  return {
    subject: `${severityTag(view)} Postmortem due ${dueDate}: ${view.service.name} (${view.id})`,
    text: `${lines.join('\n')}\n`,
    attachments: [
      { filename, content: markdown, contentType: 'text/markdown; charset=utf-8' },
      ...(extras.invitation ? [icsAttachment(extras.invitation)] : []),
    ],
  };
}

/** The meeting invitation to everyone but the owner (who has it with the draft), with the draft. */
export function postmortemInviteMail(
  view: IncidentView,
  owner: Recipient,
  meeting: MeetingInfo,
  markdown: string,
  invitation: string,
  links: PostmortemLinks,
): MailText & { attachments: Attachment[] } {
  const lines = [
    'Hi,',
    '',
    `You were paged for, or acted on, incident ${view.id}: ${view.service.name} (${view.severity}) — ${oneLine(view.reason)}.`,
    `${owner.name} <${owner.email}> owns its postmortem; you are invited to the meeting:`,
    '',
    `  ${meetingLine(meeting)}`,
    '',
    `The invitation (${invitationFilename()}) and the draft (${postmortemFilename(view)}) are attached; the draft`,
    'has the real timeline in UTC. Please check that it matches what you saw.',
    '',
    `The incident: ${trimSlash(links.incidentUrl)}`,
  ];
  return {
    subject: `${severityTag(view)} Invitation: postmortem of ${view.service.name}, ${meeting.local.date} ${meeting.local.time}`,
    text: `${lines.join('\n')}\n`,
    attachments: [
      icsAttachment(invitation),
      { filename: postmortemFilename(view), content: markdown, contentType: 'text/markdown; charset=utf-8' },
    ],
  };
}

/** The `.ics` for the meeting: UID stable per incident, the owner organizes, every attendee invited. */
export function postmortemInvitation(
  view: IncidentView,
  owner: Recipient,
  meeting: MeetingInfo,
  stampMs: number,
  links: PostmortemLinks,
  method: 'REQUEST' | 'CANCEL' = 'REQUEST',
): string {
  return buildInvitation({
    uid: `postmortem-${view.id}@incident-orchestrator`,
    sequence: meeting.sequence ?? 0,
    method,
    stamp: stampMs,
    start: Date.parse(meeting.start),
    end: Date.parse(meeting.end),
    summary: `Postmortem: ${view.service.name} (${view.severity}) — ${oneLine(view.reason)}`,
    description:
      `Postmortem of incident ${view.id}, owned by ${owner.name}.\n` +
      `Opened ${formatUtc(view.openedAt)}` +
      (view.resolvedAt ? `, resolved ${formatUtc(view.resolvedAt)}` : '') +
      '.\nThe draft, with the timeline in UTC, was sent with this invitation.\n' +
      `Incident: ${trimSlash(links.incidentUrl)}`,
    url: links.postmortemUrl ?? `${trimSlash(links.incidentUrl)}/postmortem`,
    organizer: owner,
    attendees: meeting.attendees.map((a) => ({
      name: a.name,
      email: a.email,
      role: a.id === owner.id ? ('CHAIR' as const) : ('REQ-PARTICIPANT' as const),
    })),
  });
}

export interface ReminderState {
  dueDate: string;
  /** 1-based. */
  number: number;
  overdue: boolean;
  meeting?: MeetingInfo;
}

/** The reminder to the owner while the postmortem is not marked done. */
export function postmortemReminderMail(
  view: IncidentView,
  owner: Recipient,
  r: ReminderState,
  links: PostmortemLinks,
): MailText {
  const lines = [
    `Hi ${owner.name},`,
    '',
    r.overdue
      ? `The postmortem of incident ${view.id} (${view.service.name}) was due ${r.dueDate} and is not marked done yet.`
      : `A reminder: the postmortem of incident ${view.id} (${view.service.name}) is due ${r.dueDate}.`,
  ];
  if (r.meeting) lines.push(`The meeting: ${meetingLine(r.meeting)}.`);
  lines.push(
    '',
    ...completeHint(links),
    '',
    'You get this reminder until it is marked done.',
    `The draft: ${links.postmortemUrl ?? `${trimSlash(links.incidentUrl)}/postmortem`}`,
  );
  return {
    subject: `${severityTag(view)} ${r.overdue ? 'OVERDUE' : 'Reminder'} #${r.number}: postmortem ${view.service.name} (${view.id}) due ${r.dueDate}`,
    text: `${lines.join('\n')}\n`,
  };
}

/** To the owner's escalation level above, once the postmortem is overdue. */
export function postmortemOverdueMail(
  view: IncidentView,
  owner: Recipient,
  recipient: Recipient,
  dueDate: string,
  remindersSent: number,
  links: PostmortemLinks,
): MailText {
  const lines = [
    `Hi ${recipient.name},`,
    '',
    `The postmortem of incident ${view.id} — ${view.service.name} (${view.severity}): ${oneLine(view.reason)} —`,
    `was due ${dueDate}. Its owner, ${owner.name} <${owner.email}>, has not marked it done` +
      (remindersSent > 0 ? ` after ${remindersSent} reminder${remindersSent === 1 ? '' : 's'}.` : '.'),
    '',
    `You are told because you are the next level above ${owner.name} in the escalation policy.`,
    'Please follow up, or take it over.',
    '',
    `The draft: ${links.postmortemUrl ?? `${trimSlash(links.incidentUrl)}/postmortem`}`,
    `The incident: ${trimSlash(links.incidentUrl)}`,
  ];
  return {
    subject: `${severityTag(view)} Postmortem OVERDUE: ${view.service.name} (${view.id}), owner ${owner.name}, due ${dueDate}`,
    text: `${lines.join('\n')}\n`,
  };
}

/** A follow-up task's reminder, on its due date, to its owner. */
export function followUpReminderMail(view: IncidentView, task: FollowUp, links: PostmortemLinks): MailText {
  const lines = [
    `Hi ${task.owner.name},`,
    '',
    `A follow-up task from the postmortem of incident ${view.id} (${view.service.name}) is due today, ${task.dueDate}:`,
    '',
    `  ${oneLine(task.title)}`,
    '',
    `It was recorded by ${task.recordedBy} on ${formatUtc(task.recordedAt)}.`,
    `The postmortem: ${links.postmortemUrl ?? `${trimSlash(links.incidentUrl)}/postmortem`}`,
  ];
  return {
    subject: `${severityTag(view)} Follow-up due ${task.dueDate}: ${oneLine(task.title)}`,
    text: `${lines.join('\n')}\n`,
  };
}

// ---------------------------------------------------------------------------------------------
// Public status texts

export interface StatusContext {
  /** The public component name, e.g. "student-system → Canvas integration". */
  component: string;
  severity: Severity;
  reason: string;
  language?: StatusLanguage;
}

const major = (s: Severity) => s === 'P0' || s === 'P1';

const statusTexts: Record<StatusLanguage, Record<StatusState, (c: StatusContext) => string>> = {
  en: {
    investigating: (c) =>
      `We are investigating a problem with the ${c.component}. ` +
      (major(c.severity)
        ? 'It may be unavailable for everyone who uses it. '
        : 'It may be slow or partly unavailable. ') +
      'We will post an update here as soon as we know more.',
    identified: (c) =>
      `We have identified the cause of the problem with the ${c.component}` +
      (c.reason.trim() ? `: ${oneLine(c.reason)}. ` : '. ') +
      'We are working on a fix.',
    monitoring: (c) =>
      `A fix for the problem with the ${c.component} is in place. ` +
      'We are monitoring to confirm that everything works as normal.',
    resolved: (c) =>
      `The problem with the ${c.component} is resolved, and everything works as normal again. ` +
      'Thank you for your patience.',
  },
  nb: {
    investigating: (c) =>
      `Vi undersøker et problem med ${c.component}. ` +
      (major(c.severity)
        ? 'Tjenesten kan være utilgjengelig for alle som bruker den. '
        : 'Tjenesten kan være treg eller delvis utilgjengelig. ') +
      'Vi oppdaterer denne meldingen så snart vi vet mer.',
    identified: (c) =>
      `Vi har funnet årsaken til problemet med ${c.component}` +
      (c.reason.trim() ? `: ${oneLine(c.reason)}. ` : '. ') +
      'Vi jobber med å rette feilen.',
    monitoring: (c) =>
      `En retting av problemet med ${c.component} er på plass. ` +
      'Vi følger med for å bekrefte at alt fungerer som normalt.',
    resolved: (c) =>
      `Problemet med ${c.component} er løst, og alt fungerer som normalt igjen. Takk for tålmodigheten.`,
  },
};

/** The default public text for a status state, naming the component; staff may edit it before it goes out. */
export function statusMessage(state: StatusState, ctx: StatusContext): string {
  return statusTexts[ctx.language ?? 'en'][state](ctx);
}

/** The communications page: the public status message is overdue; here is the draft to approve. */
export function communicationsMail(
  view: IncidentView,
  draft: string,
  deadlineMs: number,
  recipient: Recipient,
  links: MailLinks,
): MailText {
  const incidentUrl = trimSlash(links.incidentUrl);
  const lines = [
    `Hi ${recipient.name},`,
    '',
    `${view.service.name} has a verified ${view.severity} incident and no public status message yet:`,
    `the deadline for public communication (${Math.round(deadlineMs / 60_000) || '<1'} min after verification) has passed.`,
    '',
    'Draft, ready to publish as it is:',
    `  ${oneLine(draft)}`,
    '',
    'Publish the draft (or send your own "message"):',
    `  curl -X POST -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
    `    -d '{"state":"investigating"}' ${incidentUrl}/status`,
    '',
    `Incident: ${view.id} — ${incidentUrl}`,
  ];
  return {
    subject: `${severityTag(view)} ${view.service.name}: public status message overdue`,
    text: `${lines.join('\n')}\n`,
  };
}
