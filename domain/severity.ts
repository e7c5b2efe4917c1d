/**
 * Changing an incident's severity: what follows from it. Pure; the incident workflow's
 * changeSeverity update asks `severityChange` and runs what it answers.
 *
 * P0 is the highest. Raising or lowering is allowed (staff, responder or higher) and always recorded;
 * the same severity again is refused (the API answers 409). The new severity's rule re-evaluates
 * auto-publish and the communication deadline: an incident that is verified and has no public
 * message yet gets one at once when the new severity publishes automatically, or a deadline when
 * the new severity has one and none ran. While it is still verifying, verification does both.
 */
import type { Config, Severity } from './config-schema.js';
import { severities } from './severities.js';
import { durationMs } from './duration.js';
import type { IncidentState } from './incident.js';

/** −1 when a is higher (more severe) than b, 1 when lower, 0 when equal. */
export function compareSeverity(a: Severity, b: Severity): number {
  return Math.sign(severities.indexOf(a) - severities.indexOf(b));
}

/** The highest (most severe) of some severities; undefined for none. */
export function highestSeverity(list: readonly (Severity | undefined)[]): Severity | undefined {
  let best: Severity | undefined;
  for (const s of list) if (s && (!best || compareSeverity(s, best) < 0)) best = s;
  return best;
}

export interface SeverityChangeInput {
  from: Severity;
  to: Severity;
  /** The new severity's rule from config. */
  rule: { autoPublish: boolean; communicationDeadlineMs?: number };
  state: IncidentState;
  /** A public status message is out already. */
  published: boolean;
  /** A communication deadline ran or runs already. */
  deadlineStarted: boolean;
}

export type SeverityChangeDecision =
  | { outcome: 'same'; message: string }
  | {
      outcome: 'raised' | 'lowered';
      /** The timeline line (the actor is recorded with it). */
      detail: string;
      autoPublish: boolean;
      /** Publish "investigating" now. */
      publish: boolean;
      /** Start a communication deadline of this length now. */
      startDeadlineMs?: number;
    };

const verified: readonly IncidentState[] = ['triggered', 'acknowledged', 'resolving'];

export function severityChange(i: SeverityChangeInput): SeverityChangeDecision {
  const cmp = compareSeverity(i.to, i.from);
  if (cmp === 0) return { outcome: 'same', message: `severity: the incident is already ${i.from}` };
  const outcome = cmp < 0 ? 'raised' : 'lowered';
  const live = verified.includes(i.state);
  const publish = live && i.rule.autoPublish && !i.published;
  const deadline =
    live && !publish && !i.published && !i.deadlineStarted && i.rule.communicationDeadlineMs !== undefined;
  const then = [
    publish ? 'the status message is published automatically' : '',
    deadline ? 'a public status message is now due' : '',
  ].filter(Boolean);
  return {
    outcome,
    detail: `${outcome} the severity from ${i.from} to ${i.to}${then.length ? `; ${then.join('; ')}` : ''}`,
    autoPublish: i.rule.autoPublish,
    publish,
    ...(deadline ? { startDeadlineMs: i.rule.communicationDeadlineMs } : {}),
  };
}

/** The rule a severity brings from config, in the shape the workflow's changeSeverity update takes. */
export function severityRule(
  config: Pick<Config, 'severities'>,
  severity: Severity,
): { autoPublish: boolean; postmortemDueDays: number; communicationDeadlineMs?: number } {
  const rule = config.severities[severity];
  return {
    autoPublish: rule.autoPublish,
    postmortemDueDays: rule.postmortemDueDays,
    ...(rule.communicationDeadline !== undefined
      ? { communicationDeadlineMs: durationMs(rule.communicationDeadline) }
      : {}),
  };
}

/**
 * The severity an incident opens with (and a report brings when it joins): the highest of what the
 * detection says (else the service's own) and every affected dependent's — a P2 host under a P1
 * integration is a P1 outage. `from` names the dependent whose severity won, when one did.
 */
export function incidentSeverity(
  detected: Severity | undefined,
  own: Severity,
  affected: readonly { id: string; severity: Severity }[],
): { severity: Severity; from?: string } {
  let severity = detected ?? own;
  let from: string | undefined;
  for (const a of affected)
    if (compareSeverity(a.severity, severity) < 0) {
      severity = a.severity;
      from = a.id;
    }
  return from ? { severity, from } : { severity };
}
