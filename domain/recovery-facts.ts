/**
 * What proved an incident's recovery, read once from the incident and stated the same way by the
 * resolved mail, the console and the postmortem. Pure: no I/O, no clock (bundled into workflow code).
 */
import type { IncidentView, TimelineEvent } from './incident.js';

/**
 * How the incident was resolved: `probes`, the incident's own probe rounds passed in a row after
 * staff asked to resolve it; `keys`, every monitor check and alert that reported it recovered (each
 * proven by its own source); `no-probe`, staff resolved it and no probe is configured; `unproven`,
 * resolved without any probe proof (by hand, or forced).
 */
export type RecoveryProof = 'probes' | 'keys' | 'no-probe' | 'unproven';

export interface RecoveryFacts {
  resolved: boolean;
  resolvedAt?: string;
  proof?: RecoveryProof;
  /** Who asked to resolve it, when, and their note. */
  requested?: { at: string; by: string; note?: string };
  /** Passing probe rounds in a row that proved it (`probes`), as the resolve counted them. */
  passes: number;
  /** The incident's own recovery probe rounds that ran (the view may hold only the last few). */
  checks: TimelineEvent[];
  /** How many rounds ran in all. */
  rounds: number;
  /** Who closed it, when a person did (a forced or hand-made resolve). */
  resolvedBy?: string;
  /** The resolve's own words (`every failing check and alert recovered (last: …)`, …). */
  detail?: string;
}

/** A passing round, in the workflow's wording (`pass 1/2: …`) or a probe's (`ssh-datasync: ok (41ms)`). */
const passing = /^pass \d+|^[a-z0-9][a-z0-9-]*: ok\b/;
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

/** The proof a resolve's detail names (for records written before the proof was kept). */
export function proofOf(detail: string): RecoveryProof {
  if (/^every failing check and alert recovered/.test(detail)) return 'keys';
  if (/^recovery proven\b|\bpass(?:ed|ing)?\b.*\bin a row\b/.test(detail)) return 'probes';
  if (/^no probe configured/.test(detail)) return 'no-probe';
  return 'unproven';
}

export function recoveryFacts(
  view: Pick<
    IncidentView,
    'timeline' | 'resolvedAt' | 'resolveRequestedAt' | 'recoveryProof' | 'recoveryRounds' | 'state'
  >,
): RecoveryFacts {
  const resolvedEvent = [...view.timeline].reverse().find((e) => e.kind === 'resolved');
  const req = [...view.timeline].reverse().find((e) => e.kind === 'resolve-requested');
  const checks = view.timeline.filter((e) => e.kind === 'recovery-check');
  const resolved = view.state === 'resolved' || resolvedEvent !== undefined;
  const detail = resolvedEvent ? oneLine(resolvedEvent.detail) : undefined;
  const proof = resolved ? (view.recoveryProof ?? proofOf(detail ?? '')) : undefined;
  const counted = detail ? /(\d+) (?:passing probe round|recovery checks? passed)/.exec(detail) : null;
  let trailing = 0;
  for (const e of [...checks].reverse()) {
    if (!passing.test(e.detail)) break;
    trailing++;
  }
  const note = req
    ? /says it is resolved: (.*?); (?:waiting for|no probe is configured)/.exec(req.detail)
    : null;
  const requested = req
    ? { at: req.at, by: req.actor, ...(note?.[1] ? { note: oneLine(note[1]) } : {}) }
    : view.resolveRequestedAt
      ? { at: view.resolveRequestedAt, by: 'staff' }
      : undefined;
  return {
    resolved,
    ...(view.resolvedAt || resolvedEvent ? { resolvedAt: view.resolvedAt ?? resolvedEvent!.at } : {}),
    ...(proof ? { proof } : {}),
    ...(requested ? { requested } : {}),
    passes: proof === 'probes' ? (counted ? Number(counted[1]) : trailing) : 0,
    checks,
    ...(resolvedEvent && !['probe', 'system'].includes(resolvedEvent.actor)
      ? { resolvedBy: resolvedEvent.actor }
      : {}),
    rounds: Math.max(view.recoveryRounds ?? 0, checks.length),
    ...(detail ? { detail } : {}),
  };
}

const rounds = (n: number) => `${n} passing probe round${n === 1 ? '' : 's'} in a row`;

/**
 * The recovery facts as sentences: the first says what proved it (or that nothing did), the next
 * what the incident's own recovery probes did. The same words in the mail, the console and the draft.
 */
export function recoverySentences(f: RecoveryFacts): string[] {
  if (!f.resolved) return ['Not resolved yet.'];
  const by = f.requested
    ? `${f.requested.by}${f.requested.note ? ` (“${f.requested.note}”)` : ''}`
    : undefined;
  const checks =
    f.rounds === 0
      ? 'Recovery probe rounds run by the incident: none.'
      : `Recovery probe rounds run by the incident: ${f.rounds}` +
        (f.checks.length > 0 ? `, the last: ${oneLine(f.checks[f.checks.length - 1]!.detail)}.` : '.');
  switch (f.proof) {
    case 'probes':
      return [
        `Recovery was proven by ${rounds(f.passes)}` + (by ? `, after ${by} asked to resolve it.` : '.'),
        checks,
      ];
    case 'keys': {
      const last = f.detail ? /\(last: (.*)\)$/.exec(f.detail)?.[1] : undefined;
      return [
        'Recovery was proven by the monitoring that reported it: every failing check and alert recovered' +
          (last ? ` (last: ${last}).` : '.'),
        by ? `${by} had asked to resolve it. ${checks}` : checks,
      ];
    }
    case 'no-probe':
      return [
        `No probe proved the recovery: none is configured for the service, so it was resolved on the word of ${by ?? 'staff'}.`,
      ];
    default:
      // A force-resolve says it in its own words: `resolved without probe proof by <admin>: <reason>`.
      if (f.detail?.startsWith('resolved without probe proof'))
        return [`No probe proved the recovery: it was ${f.detail}.`, checks];
      return [
        `No probe proved the recovery: it was resolved without probe proof${f.resolvedBy ? ` by ${f.resolvedBy}` : by ? ` by ${by}` : ''}` +
          (f.detail ? ` (${f.detail}).` : '.'),
        checks,
      ];
  }
}
