/**
 * The postmortem draft, in the structure of the seed incident's report, pre-filled from the incident's
 * timeline. Pure: no I/O, no Node built-ins, no clock (it runs in workflow code too).
 */
import type { ChangeEvent } from './changes.js';
import type { PostmortemConfig } from './config-schema.js';
import { durationMs, formatDuration } from './duration.js';
import type {
  DetectionSource,
  EscalationStep,
  IncidentView,
  PageRecord,
  Recipient,
  StatusMessage,
} from './incident.js';
import { firstAcknowledgement, isActor, msBetween, parseProbeDetails } from './templates.js';
import type { ProbeFinding } from './templates.js';
import { recoveryFacts, recoverySentences } from './recovery-facts.js';

export type FirstStatus = Pick<StatusMessage, 'at' | 'message' | 'author'> & {
  state?: StatusMessage['state'];
};

/** The figures a postmortem reports, measured from when the incident opened. Milliseconds. */
export interface IncidentFigures {
  timeToVerifyMs?: number;
  timeToFirstPageMs?: number;
  timeToAcknowledgeMs?: number;
  timeToFirstStatusMs?: number;
  /** Opened → resolved. */
  timeToRecoverMs?: number;
  firstPage?: PageRecord;
  firstAcknowledgement?: { at: string; by: string };
  firstStatus?: FirstStatus;
  resolvedAt?: string;
  /** Paged before the (first) acknowledgement, or at all when nobody acknowledged; not the acknowledger. */
  pagedWithoutAnswer: Recipient[];
  /** The first failing probe result in the timeline. */
  firstProbeFailureAt?: string;
  /** When the fault began as far as the record shows: the first failing probe or the opening, whichever is earlier. */
  faultBeganAt: string;
  /** First failing probe → opened; undefined when the probes only failed once someone had reported it. */
  timeToDetectMs?: number;
  /** Who noticed first: the report that opened the incident. */
  noticedFirstBy: Noticer;
  /** The first report by monitoring (a probe or an alerting tool), the opening one or one that joined. */
  monitoringReportedAt?: string;
  /** The first report by a customer, the opening one or one that joined. */
  customerReportedAt?: string;
}

export type Noticer = 'monitoring' | 'customer' | 'staff';

const noticerOf: Record<DetectionSource, Noticer> = {
  probe: 'monitoring',
  event: 'monitoring',
  customer: 'customer',
  api: 'staff',
};

/** A recorded follow-up task: reminded to its owner on its due date. */
export interface FollowUp {
  id: string;
  title: string;
  owner: Recipient;
  /** Local date in the service's time zone, `YYYY-MM-DD`. */
  dueDate: string;
  recordedBy: string;
  recordedAt: string;
  remindedAt?: string;
  /** Marked done (one by one, from the API or the console): when, and by whom. */
  doneAt?: string;
  doneBy?: string;
}

/** How a follow-up stands, as the draft and the console say it. */
export function followUpTracking(f: FollowUp): string {
  if (f.doneAt) return `done ${f.doneAt} by ${f.doneBy ?? 'someone'}`;
  return f.remindedAt
    ? `recorded by ${f.recordedBy}; reminded ${f.remindedAt}`
    : `recorded by ${f.recordedBy}; reminder on the due date`;
}

/** The postmortem meeting, as invited. */
export interface MeetingInfo {
  /** UTC ISO-8601. */
  start: string;
  end: string;
  local: { date: string; time: string; timeZone: string };
  attendees: Recipient[];
  /** The invitation's SEQUENCE: 0 as first sent, +1 at every move and at the cancellation. */
  sequence?: number;
  /** Called off (METHOD:CANCEL sent): when, by whom, why. */
  cancelled?: { at: string; by: string; reason: string };
}

export interface PostmortemOptions {
  owner: Recipient;
  /** YYYY-MM-DD */
  dueDate: string;
  /** ISO-8601, when the draft was rendered (passed in: no clock here). */
  generatedAt: string;
  meeting?: MeetingInfo;
  /**
   * Changes to the affected hosts and services from `changeWindowMs` before the fault began until it
   * was resolved. Undefined: the change log could not be consulted.
   */
  changes?: ChangeEvent[];
  changeWindowMs?: number;
  followUps?: FollowUp[];
  completed?: { at: string; by: string; url: string };
}

/** The postmortem's settings, from the config's `postmortem` section (durations in milliseconds). */
export interface PostmortemSettings {
  meetingDelayWorkingDays: number;
  meetingDurationMs: number;
  /** Local `HH:MM`. */
  workingHours: { start: string; end: string };
  /** Local dates, `YYYY-MM-DD`. */
  holidays: string[];
  reminderIntervalMs: number;
  /** Past the due date, before the owner's escalation level above is told. */
  overdueAfterMs: number;
  changeWindowMs: number;
}

/** The schema's defaults (a test keeps the two in step). */
export const defaultPostmortemSettings: PostmortemSettings = {
  meetingDelayWorkingDays: 2,
  meetingDurationMs: 3_600_000,
  workingHours: { start: '09:00', end: '16:00' },
  holidays: [],
  reminderIntervalMs: 86_400_000,
  overdueAfterMs: 86_400_000,
  changeWindowMs: 86_400_000,
};

export function postmortemSettings(c: PostmortemConfig): PostmortemSettings {
  return {
    meetingDelayWorkingDays: c.meetingDelay,
    meetingDurationMs: durationMs(c.meetingDuration),
    workingHours: { ...c.workingHours },
    holidays: [...c.holidays],
    reminderIntervalMs: durationMs(c.reminderInterval),
    overdueAfterMs: durationMs(c.overdueAfter),
    changeWindowMs: durationMs(c.changeWindow),
  };
}

/**
 * Who hears that the owner's postmortem is overdue: the first step of the chain's first pass after
 * the owner's own level whose recipients do not include the owner (the final fallback if nothing else
 * is left). When the owner is not on the chain, level 2 (or level 1 when there is no second level).
 */
export function overdueRecipients(plan: readonly EscalationStep[], owner: Recipient): Recipient[] {
  const firstPass = plan.filter((s) => s.cycle === 0 || s.fallback);
  const hasOwner = (s: EscalationStep) => s.recipients.some((r) => r.id === owner.id);
  const own = firstPass.findIndex(hasOwner);
  const step =
    own >= 0
      ? firstPass.slice(own + 1).find((s) => !hasOwner(s))
      : (firstPass.find((s) => s.level === 2 && !s.fallback) ?? firstPass.find((s) => !s.fallback));
  return (step?.recipients ?? []).filter((r) => r.id !== owner.id);
}

/**
 * Who is invited to the postmortem meeting: the owner, everyone paged, and everyone who acted (a
 * timeline actor that is a known contact id), each once, the owner first.
 */
export function meetingAttendees(
  view: Pick<IncidentView, 'paged' | 'timeline'>,
  owner: Recipient,
  contacts: readonly Recipient[] = [],
): Recipient[] {
  const out: Recipient[] = [owner];
  const add = (r: Recipient | undefined) => {
    if (r && !out.some((x) => x.id === r.id || x.email.toLowerCase() === r.email.toLowerCase())) out.push(r);
  };
  for (const p of view.paged) add(p.recipient);
  const known = [...contacts, ...view.paged.map((p) => p.recipient)];
  for (const e of view.timeline) add(known.find((c) => c.id === e.actor || e.actor.endsWith(`:${c.id}`)));
  return out;
}

const byTime = <T extends { at: string }>(xs: readonly T[]): T[] =>
  [...xs].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));

export function incidentFigures(view: IncidentView): IncidentFigures {
  const firstPage = byTime(view.paged)[0];
  const ack = firstAcknowledgement(view);
  // The published messages; an older view may only have them as `status` events in the timeline.
  const firstStatus: FirstStatus | undefined =
    byTime(view.status)[0] ??
    view.timeline
      .filter((e) => e.kind === 'status')
      .map((e) => ({ at: e.at, message: e.detail, author: e.actor }))[0];
  const resolvedAt = view.resolvedAt ?? [...view.timeline].reverse().find((e) => e.kind === 'resolved')?.at;

  const firstProbeFailureAt = firstFailingProbe(view);
  const faultBeganAt =
    firstProbeFailureAt && Date.parse(firstProbeFailureAt) < Date.parse(view.openedAt)
      ? firstProbeFailureAt
      : view.openedAt;
  const toDetect = msBetween(firstProbeFailureAt, view.openedAt);
  const reports = view.timeline
    .filter((e) => e.kind === 'detected' || e.kind === 'joined')
    .map((e) => ({ at: e.at, by: e.kind === 'detected' ? noticerOf[view.source] : joinedBy(e.detail) }));
  if (!reports.some((r) => r.at === view.openedAt))
    reports.unshift({ at: view.openedAt, by: noticerOf[view.source] });
  const firstBy = (who: Noticer) => byTime(reports.filter((r) => r.by === who))[0]?.at;

  const ackAt = ack ? Date.parse(ack.at) : undefined;
  const pagedWithoutAnswer: Recipient[] = [];
  for (const p of byTime(view.paged)) {
    if (ackAt !== undefined && !(Date.parse(p.at) < ackAt)) continue;
    if (isActor(p.recipient, ack?.by)) continue;
    if (pagedWithoutAnswer.some((r) => r.id === p.recipient.id)) continue;
    pagedWithoutAnswer.push(p.recipient);
  }

  return {
    timeToVerifyMs: msBetween(view.openedAt, view.verifiedAt),
    timeToFirstPageMs: msBetween(view.openedAt, firstPage?.at),
    timeToAcknowledgeMs: msBetween(view.openedAt, ack?.at),
    timeToFirstStatusMs: msBetween(view.openedAt, firstStatus?.at),
    timeToRecoverMs: msBetween(view.openedAt, resolvedAt),
    firstPage,
    firstAcknowledgement: ack,
    firstStatus,
    resolvedAt,
    pagedWithoutAnswer,
    firstProbeFailureAt,
    faultBeganAt,
    timeToDetectMs: toDetect !== undefined && toDetect >= 0 ? toDetect : undefined,
    noticedFirstBy: noticerOf[view.source],
    monitoringReportedAt: firstBy('monitoring'),
    customerReportedAt: firstBy('customer'),
  };
}

/**
 * When the first failing probe ran: what the monitor that opened it said (its first failing probe
 * of the streak), or the earliest probe failure the timeline records.
 */
export function firstFailingProbe(
  view: Pick<IncidentView, 'timeline' | 'firstProbeFailureAt'>,
): string | undefined {
  const fromTimeline = view.timeline.find((e) => parseProbeDetails(e.detail).some((f) => !f.ok))?.at;
  // Records from before the field: the monitor's reason says `(failing since <ISO>)`.
  const said = view.timeline
    .filter((e) => e.kind === 'detected' && e.actor.startsWith('monitor:'))
    .map((e) => /\(failing since (\d{4}-\d\d-\d\dT[\d:.]+Z)\)/.exec(e.detail)?.[1])
    .find((x) => x !== undefined);
  const candidates = [view.firstProbeFailureAt, said, fromTimeline].filter(
    (x): x is string => x !== undefined && !Number.isNaN(Date.parse(x)),
  );
  return candidates.sort((a, b) => Date.parse(a) - Date.parse(b))[0];
}

/** The source a `joined` detail names: `another report joined this incident (customer): …`. */
function joinedBy(detail: string): Noticer | undefined {
  const m = /\((api|probe|event|customer)\b/.exec(detail);
  return m ? noticerOf[m[1] as DetectionSource] : undefined;
}

/**
 * Text people (or probes, or alerting tools) wrote, as literal Markdown: every character that could
 * start markup — HTML (`<`, `&`), links and images (`[`, `]`, `!`), emphasis, code, tables — is
 * backslash-escaped (CommonMark: an escaped punctuation character is always literal), so a report
 * with `<script>` or `[click](https://evil)` renders as the text it is, in any Markdown renderer.
 */
export function md(s: string): string {
  return s.replace(/[\\`*_[\]<>&|~!{}#]/g, '\\$&');
}

/** Our own Markdown in a table cell (not escaped). */
interface Raw {
  raw: string;
}
const raw = (s: string): Raw => ({ raw: s });

/** A Markdown table cell: people's text escaped (see `md`), line breaks as `<br>`. */
export function mdCell(s: string | Raw): string {
  return (typeof s === 'string' ? md(s) : s.raw).replace(/\r\n|\r|\n/g, '<br>').trim();
}

function oneLine(s: string): string {
  return md(s.replace(/\s+/g, ' ').trim());
}

function table(head: string[], rows: Array<Array<string | Raw>>): string[] {
  return [
    `| ${head.map(mdCell).join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`),
  ];
}

/** Whole seconds: a postmortem has no use for milliseconds. */
const dur = (ms: number | undefined, none = 'n/a') => {
  if (ms === undefined) return none;
  const s = Math.round(Math.max(0, ms) / 1000) * 1000;
  return s === 0 ? '0s' : formatDuration(s);
};
/** Plain text (table cells escape it); inline, wrap it in `md`. */
const person = (r: Recipient) => `${r.name} <${r.email}>`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

interface FaultRow extends ProbeFinding {
  firstAt: string;
  times: number;
}

/** Distinct probe failures found in the timeline, first seen first. */
function faults(view: IncidentView): FaultRow[] {
  const out: FaultRow[] = [];
  for (const e of view.timeline) {
    for (const f of parseProbeDetails(e.detail)) {
      if (f.ok) continue;
      const seen = out.find((x) => x.check === f.check && x.code === f.code && x.message === f.message);
      if (seen) seen.times += 1;
      else out.push({ ...f, firstAt: e.at, times: 1 });
    }
  }
  return out;
}

function detectionSource(view: IncidentView): { text: string; monitoring: boolean } {
  const actor = view.timeline.find((e) => e.kind === 'detected')?.actor;
  const who = actor ? ` (${md(actor)})` : '';
  switch (view.source) {
    case 'probe':
      return { text: `monitoring${who}`, monitoring: true };
    case 'event':
      return { text: `an alert from a monitoring tool${who}`, monitoring: true };
    case 'customer':
      return { text: `a customer report${who}`, monitoring: false };
    case 'api':
      return { text: `a person or customer report${who}`, monitoring: false };
  }
}

function noticedText(fig: IncidentFigures): string {
  const first = { monitoring: 'monitoring', customer: 'a customer', staff: 'staff' }[fig.noticedFirstBy];
  if (fig.noticedFirstBy === 'monitoring') {
    const customer = fig.customerReportedAt
      ? `; a customer reported it ${dur(msBetween(fig.monitoringReportedAt, fig.customerReportedAt))} later`
      : '';
    return `monitoring${customer}`;
  }
  const monitoring = fig.monitoringReportedAt
    ? `monitoring reported it ${dur(msBetween(fig.customerReportedAt ?? fig.faultBeganAt, fig.monitoringReportedAt))} later`
    : 'monitoring never reported it';
  return `${first}, not monitoring (${monitoring})`;
}

const utcRange = (m: MeetingInfo) =>
  `${m.start.slice(0, 16).replace('T', ' ')}–${m.end.slice(11, 16)} UTC (${m.local.date} ${m.local.time} ${m.local.timeZone})`;

function changeRows(changes: readonly ChangeEvent[], anchor: string): string[][] {
  return changes.map((c) => {
    const before = msBetween(c.at, anchor);
    return [
      c.at,
      before !== undefined && before >= 0 ? dur(before) : 'during',
      c.who,
      c.what,
      [...c.hosts, ...c.services].join(', '),
    ];
  });
}

/** The draft: Summary, Fault, Impact, Detection, Recovery, Timeline (UTC), Five whys, Lessons, Follow-up. */
export function renderPostmortem(view: IncidentView, opts: PostmortemOptions): string {
  const fig = incidentFigures(view);
  const source = detectionSource(view);
  const service = md(view.service.name);
  const reason = oneLine(view.reason);
  const affected = view.affected.map(
    (a) =>
      `${a.name}${a.root ? '' : ` (depends on ${view.service.name})`}: ${plural(a.subscribers, 'subscriber')}`,
  );
  const unanswered = fig.pagedWithoutAnswer.map(person).join(', ') || 'nobody';
  const unansweredMd = md(unanswered);
  const L: string[] = [];

  L.push(
    `# Postmortem: ${service} — ${reason}`,
    '',
    `_Draft generated ${opts.generatedAt} from incident \`${view.id}\`. All times are UTC. ` +
      `Due ${opts.dueDate}. Sections in italics are for you to complete._`,
    '',
    '## Summary',
    '',
    ...table(
      ['Field', 'Value'],
      [
        ['Owner', person(opts.owner)],
        ['Incident', `${view.id} (workflow ${view.workflowId})`],
        ['Priority', view.severity],
        ['State', view.state],
        [
          'Service',
          `${view.service.name}${view.service.component ? ` (public component: ${view.service.component})` : ''}`,
        ],
        ['Affected services', affected.join('\n') || 'none recorded'],
        ['Opened', view.openedAt],
        ['Resolved', fig.resolvedAt ?? 'not resolved'],
        ['Postmortem due', opts.dueDate],
        ...(opts.meeting
          ? [
              ['Postmortem meeting', utcRange(opts.meeting)],
              ['Invited', opts.meeting.attendees.map(person).join('\n')],
            ]
          : []),
        ...(opts.completed
          ? [['Completed', `${opts.completed.at} by ${opts.completed.by}: ${opts.completed.url}`]]
          : []),
      ],
    ),
    '',
    '### Figures',
    '',
    ...table(
      ['Measure (durations from when it opened)', 'Value'],
      [
        ['Fault began (per the record)', fig.faultBeganAt],
        [
          'Time to detect (first failing probe → opened)',
          dur(
            fig.timeToDetectMs,
            fig.firstProbeFailureAt
              ? 'the probes failed only once it was reported'
              : 'no failing probe recorded',
          ),
        ],
        ['Noticed first by', noticedText(fig)],
        ['Time to verify', dur(fig.timeToVerifyMs)],
        ['Time to first page', dur(fig.timeToFirstPageMs, 'nobody was paged')],
        ['Time to acknowledge', dur(fig.timeToAcknowledgeMs, 'never acknowledged')],
        ['Time to first public status message', dur(fig.timeToFirstStatusMs, 'none published')],
        ['Time to recover (opened → resolved)', dur(fig.timeToRecoverMs, 'not resolved')],
        ['Paged without answering', unanswered],
      ],
    ),
    '',
  );

  const found = faults(view);
  L.push('## Fault', '', `What was reported: ${reason}`, '');
  if (found.length > 0) {
    L.push(
      'What the probes found:',
      '',
      ...table(
        ['Check', 'Code', 'Message', 'First seen (UTC)', 'Times'],
        found.map((f) => [f.check || '—', f.code, f.message || '—', f.firstAt, String(f.times)]),
      ),
      '',
    );
  } else {
    L.push('No probe failure is recorded in the timeline.', '');
  }
  L.push('_The underlying cause: what changed, and why it broke this service._', '');

  const totalSubscribers = view.affected.reduce((n, a) => n + a.subscribers, 0);
  L.push(
    '## Impact',
    '',
    ...(affected.length ? affected.map((a) => `- ${md(a)}`) : ['- No affected services recorded.']),
    `- Subscribers across the affected services: ${totalSubscribers} (one subscriber may follow several).`,
    `- Impact as recorded: ${view.openedAt} → ${fig.resolvedAt ?? 'not resolved'}` +
      (fig.timeToRecoverMs !== undefined ? ` (${dur(fig.timeToRecoverMs)})` : '') +
      '. The fault may have begun before it was detected.',
    '- _Who was affected and how (could not work, data late, …); how many support cases._',
    '',
  );

  const page = fig.firstPage;
  const ack = fig.firstAcknowledgement;
  const status = fig.firstStatus;
  L.push(
    '## Detection',
    '',
    `- Detected: ${view.openedAt}, by ${source.text}.`,
    `- Noticed first by ${noticedText(fig)}.`,
    `- First failing probe: ${fig.firstProbeFailureAt ?? 'none recorded'}.`,
    ...(fig.timeToDetectMs !== undefined
      ? [`- Time to detect (opened − first failing probe): ${dur(fig.timeToDetectMs)}.`]
      : []),
    `- Verified: ${view.verifiedAt ? `${view.verifiedAt} (after ${dur(fig.timeToVerifyMs)})` : 'not verified by a probe'}.`,
    `- First page: ${page ? `${page.at} to ${md(person(page.recipient))} (after ${dur(fig.timeToFirstPageMs)})` : 'nobody was paged'}.`,
    `- First acknowledgement: ${ack ? `${ack.at} by ${md(ack.by)} (after ${dur(fig.timeToAcknowledgeMs)})` : 'none'}.`,
    `- Paged without answering: ${unansweredMd}.`,
    `- First public status message: ${status ? `${status.at} (after ${dur(fig.timeToFirstStatusMs)}): "${oneLine(status.message)}"` : 'none published.'}`,
    source.monitoring
      ? '- _Could monitoring have noticed sooner (interval, thresholds, a check that was missing)?_'
      : '- _Monitoring did not detect this: which check would have, and who adds it?_',
    '',
  );

  const recovery = recoveryFacts(view);
  L.push(
    '## Recovery',
    '',
    `- Resolve requested: ${recovery.requested ? `${recovery.requested.at} by ${md(recovery.requested.by)}` : 'no'}.`,
    ...recoverySentences(recovery).map((line) => `- ${oneLine(line)}`),
    `- Resolved: ${fig.resolvedAt ? `${fig.resolvedAt} (after ${dur(fig.timeToRecoverMs)})` : 'not resolved'}.`,
    '- Status messages:',
    ...(view.status.length
      ? byTime(view.status).map((s) => `  - ${s.at} ${s.state} (${md(s.author)}): ${oneLine(s.message)}`)
      : ['  - none published']),
  );
  const anchor = fig.faultBeganAt;
  const during = (opts.changes ?? []).filter((c) => Date.parse(c.at) > Date.parse(anchor));
  const before = (opts.changes ?? []).filter((c) => Date.parse(c.at) <= Date.parse(anchor));
  if (during.length > 0)
    L.push(
      '- Changes recorded to the affected hosts and services during the incident:',
      ...during.map(
        (c) => `  - ${c.at} ${md(c.who)}: ${oneLine(c.what)} (${md([...c.hosts, ...c.services].join(', '))})`,
      ),
    );
  L.push('- _What fixed it, and what made fixing it slow._', '');

  L.push(
    '## Timeline (UTC)',
    '',
    ...table(
      ['Time (UTC)', 'Actor', 'Kind', 'Detail'],
      view.timeline.map((e) => [e.at, e.actor, e.kind, e.detail]),
    ),
    '',
  );

  const hours = opts.changeWindowMs !== undefined ? opts.changeWindowMs / 3_600_000 : undefined;
  const window =
    hours === undefined
      ? 'hours'
      : Number.isInteger(hours) && hours <= 72
        ? plural(hours, 'hour')
        : formatDuration(opts.changeWindowMs!);
  const suspect = before[before.length - 1];
  L.push('## Five whys', '');
  if (opts.changes === undefined) {
    L.push(
      '_The change log could not be consulted: look for changes to the affected hosts and services._',
      '',
    );
  } else if (before.length === 0) {
    L.push(
      `No change to the affected hosts or services was recorded in the ${window} before the fault began.`,
      '',
    );
  } else {
    L.push(
      `Changes to the affected hosts and services in the ${window} before the fault began (${anchor}), ` +
        'the first candidates for the cause:',
      '',
      ...table(
        ['Changed (UTC)', 'Before the fault', 'Who', 'What', 'Hosts and services'],
        changeRows(before, anchor),
      ),
      '',
    );
  }
  L.push(
    `1. Why did ${service} fail? ${reason} — ` +
      (suspect
        ? `_was it the change at ${suspect.at} by ${md(suspect.who)}: ${oneLine(suspect.what)}?_`
        : '_why did that happen?_'),
    '2. _Why …?_',
    '3. _Why …?_',
    '4. _Why …?_',
    '5. _Why …?_',
    '',
    '## Lessons learned',
    '',
    '- What went well: _…_',
    '- What went badly: _…_',
    '- Where we were lucky: _…_',
    '- Did everyone know whom to contact, who could help, whose process to follow and where to report? _…_',
    '',
  );

  const suggestions: Array<Array<string | Raw>> = [];
  if (!source.monitoring) {
    suggestions.push([
      `Add monitoring that detects this fault in ${view.service.name}`,
      opts.owner.name,
      '',
      '',
    ]);
  }
  if (fig.pagedWithoutAnswer.length > 0) {
    suggestions.push([
      `Review the escalation chain: ${fig.pagedWithoutAnswer.length} ${fig.pagedWithoutAnswer.length === 1 ? 'person' : 'people'} paged without answering`,
      opts.owner.name,
      '',
      '',
    ]);
  }
  const recorded = (opts.followUps ?? []).map((f) => [
    f.title,
    person(f.owner),
    f.dueDate,
    followUpTracking(f),
  ]);
  L.push(
    '## Follow-up tasks',
    '',
    ...table(
      ['Task', 'Owner', 'Due date', 'Tracking'],
      [...recorded, ...suggestions, [raw('_…_'), '', '', '']],
    ),
    '',
  );
  return L.join('\n');
}
