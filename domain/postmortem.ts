/**
 * The postmortem draft, in the structure of the seed incident's report, pre-filled from the incident's
 * timeline. Pure: no I/O, no Node built-ins, no clock (it runs in workflow code too).
 */
import { formatDuration } from './duration.js';
import type { IncidentView, PageRecord, Recipient, StatusMessage } from './incident.js';
import { firstAcknowledgement, isActor, msBetween, parseProbeDetails } from './templates.js';
import type { ProbeFinding } from './templates.js';

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
}

export interface PostmortemOptions {
  owner: Recipient;
  /** YYYY-MM-DD */
  dueDate: string;
  /** ISO-8601, when the draft was rendered (passed in: no clock here). */
  generatedAt: string;
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
  };
}

/** A Markdown table cell: `|` escaped, line breaks as `<br>`. */
export function mdCell(s: string): string {
  return s
    .replace(/\|/g, '\\|')
    .replace(/\r\n|\r|\n/g, '<br>')
    .trim();
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function table(head: string[], rows: string[][]): string[] {
  return [
    `| ${head.map(mdCell).join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`),
  ];
}

const dur = (ms: number | undefined, none = 'n/a') =>
  ms === undefined ? none : formatDuration(Math.max(0, ms));
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
  const who = actor ? ` (${actor})` : '';
  if (view.source === 'probe') return { text: `monitoring${who}`, monitoring: true };
  if (view.source === 'api') return { text: `a person or customer report${who}`, monitoring: false };
  return { text: `an external event${who}`, monitoring: false };
}

/** The draft: Summary, Fault, Impact, Detection, Recovery, Timeline (UTC), Five whys, Lessons, Follow-up. */
export function renderPostmortem(view: IncidentView, opts: PostmortemOptions): string {
  const fig = incidentFigures(view);
  const source = detectionSource(view);
  const service = view.service.name;
  const reason = oneLine(view.reason);
  const affected = view.affected.map(
    (a) => `${a.name}${a.root ? '' : ` (depends on ${service})`}: ${plural(a.subscribers, 'subscriber')}`,
  );
  const unanswered = fig.pagedWithoutAnswer.map(person).join(', ') || 'nobody';
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
          `${service}${view.service.component ? ` (public component: ${view.service.component})` : ''}`,
        ],
        ['Affected services', affected.join('\n') || 'none recorded'],
        ['Opened', view.openedAt],
        ['Resolved', fig.resolvedAt ?? 'not resolved'],
        ['Postmortem due', opts.dueDate],
      ],
    ),
    '',
    '### Figures',
    '',
    ...table(
      ['Measure (from opened)', 'Value'],
      [
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
    ...(affected.length ? affected.map((a) => `- ${a}`) : ['- No affected services recorded.']),
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
    `- Verified: ${view.verifiedAt ? `${view.verifiedAt} (after ${dur(fig.timeToVerifyMs)})` : 'not verified by a probe'}.`,
    `- First page: ${page ? `${page.at} to ${person(page.recipient)} (after ${dur(fig.timeToFirstPageMs)})` : 'nobody was paged'}.`,
    `- First acknowledgement: ${ack ? `${ack.at} by ${ack.by} (after ${dur(fig.timeToAcknowledgeMs)})` : 'none'}.`,
    `- Paged without answering: ${unanswered}.`,
    `- First public status message: ${status ? `${status.at} (after ${dur(fig.timeToFirstStatusMs)}): "${oneLine(status.message)}"` : 'none published.'}`,
    source.monitoring
      ? '- _Could monitoring have noticed sooner (interval, thresholds, a check that was missing)?_'
      : '- _Monitoring did not detect this: which check would have, and who adds it?_',
    '',
  );

  const requested = [...view.timeline].reverse().find((e) => e.kind === 'resolve-requested');
  const checks = view.timeline.filter((e) => e.kind === 'recovery-check');
  L.push(
    '## Recovery',
    '',
    `- Resolve requested: ${requested ? `${requested.at} by ${requested.actor}` : (view.resolveRequestedAt ?? 'no')}.`,
    `- Recovery checks: ${checks.length === 0 ? 'none ran' : `${checks.length}, the last at ${checks[checks.length - 1]!.at}: ${oneLine(checks[checks.length - 1]!.detail)}`}.`,
    `- Resolved: ${fig.resolvedAt ? `${fig.resolvedAt} (after ${dur(fig.timeToRecoverMs)})` : 'not resolved'}.`,
    '- Status messages:',
    ...(view.status.length
      ? byTime(view.status).map((s) => `  - ${s.at} ${s.state} (${s.author}): ${oneLine(s.message)}`)
      : ['  - none published']),
    '- _What fixed it, and what made fixing it slow._',
    '',
  );

  L.push(
    '## Timeline (UTC)',
    '',
    ...table(
      ['Time (UTC)', 'Actor', 'Kind', 'Detail'],
      view.timeline.map((e) => [e.at, e.actor, e.kind, e.detail]),
    ),
    '',
  );

  L.push(
    '## Five whys',
    '',
    `1. Why did ${service} fail? ${reason} — _why did that happen?_`,
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

  const suggestions: string[][] = [];
  if (!source.monitoring) {
    suggestions.push([`Add monitoring that detects this fault in ${service}`, opts.owner.name, '', '']);
  }
  if (fig.pagedWithoutAnswer.length > 0) {
    suggestions.push([
      `Review the escalation chain: ${fig.pagedWithoutAnswer.length} ${fig.pagedWithoutAnswer.length === 1 ? 'person' : 'people'} paged without answering`,
      opts.owner.name,
      '',
      '',
    ]);
  }
  L.push(
    '## Follow-up tasks',
    '',
    ...table(['Task', 'Owner', 'Due date', 'Tracking'], [...suggestions, ['_…_', '', '', '']]),
    '',
  );
  return L.join('\n');
}
