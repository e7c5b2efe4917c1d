/**
 * The escalation planner: policies are data, and this pure code turns one into the ordered steps the
 * incident workflow walks. No I/O, no clocks: the workflow supplies time.
 */
import type { Policy } from './config-schema.js';
import { durationMs } from './duration.js';
import type { EscalationStep, Recipient } from './incident.js';
import { scheduleTargets } from './oncall.js';

/** `schedules` only where a level names one, so plans without schedules stay as they were. */
const withSchedules = (targets: string[]) => {
  const schedules = scheduleTargets(targets);
  return schedules.length > 0 ? { schedules } : {};
};

/**
 * Every step of a policy in order: levels 1..n, the whole chain again `repeat` times, then the final
 * fallback (which waits for nothing: after it there is nobody left to tell).
 */
export function buildPlan(policy: Policy, resolve: (targets: string[]) => Recipient[]): EscalationStep[] {
  const steps: EscalationStep[] = [];
  for (let cycle = 0; cycle <= policy.repeat; cycle++) {
    policy.levels.forEach((level, i) => {
      steps.push({
        level: i + 1,
        cycle,
        fallback: false,
        recipients: resolve(level.notify),
        ...withSchedules(level.notify),
        waitMs: durationMs(level.ackTimeout),
      });
    });
  }
  if (policy.finalFallback) {
    steps.push({
      level: 0,
      cycle: policy.repeat + 1,
      fallback: true,
      recipients: resolve(policy.finalFallback.notify),
      ...withSchedules(policy.finalFallback.notify),
      waitMs: 0,
    });
  }
  return steps;
}

/** What the workflow does next while nobody has acknowledged. */
export type EscalationDecision =
  { kind: 'notify'; stepIndex: number; step: EscalationStep } | { kind: 'exhausted' };

/** The step after `current` (−1 before the first page), or `exhausted` when the plan has run out. */
export function nextStep(plan: readonly EscalationStep[], current: number): EscalationDecision {
  const stepIndex = current + 1;
  const step = plan[stepIndex];
  return step ? { kind: 'notify', stepIndex, step } : { kind: 'exhausted' };
}

/**
 * Who is told when an acknowledgement times out (PagerDuty's rule): the person who acknowledged and
 * the current level again, each once. The escalation clock then restarts on the current level.
 */
export function ackTimeoutRecipients(
  plan: readonly EscalationStep[],
  current: number,
  acknowledger: Recipient | undefined,
): Recipient[] {
  const step = plan[Math.max(0, current)];
  const list = [...(acknowledger ? [acknowledger] : []), ...(step?.recipients ?? [])];
  return dedupeRecipients(list);
}

export function dedupeRecipients(list: readonly Recipient[]): Recipient[] {
  const seen = new Set<string>();
  return list.filter((r) => (seen.has(r.id) ? false : (seen.add(r.id), true)));
}

/** How long to wait after notifying `step` before the next one; the last step waits for nothing. */
export function waitAfter(plan: readonly EscalationStep[], stepIndex: number): number | undefined {
  const step = plan[stepIndex];
  if (!step || step.fallback) return undefined;
  return step.waitMs;
}

/** Who a page says comes after it: the next step's people and when, or nobody further. */
export type WhoIsNext =
  { kind: 'next'; level: number; fallback: boolean; names: string[]; afterMs: number } | { kind: 'nobody' };

/** After `stepIndex` is paged: the next step (its people, the wait before it), or nobody further. */
export function whoIsNext(plan: readonly EscalationStep[], stepIndex: number): WhoIsNext {
  const next = nextStep(plan, stepIndex);
  const wait = waitAfter(plan, stepIndex);
  if (next.kind === 'exhausted' || wait === undefined) return { kind: 'nobody' };
  return {
    kind: 'next',
    level: next.step.level,
    fallback: next.step.fallback,
    names: [
      ...next.step.recipients.map((r) => r.name),
      ...(next.step.schedules ?? []).map((id) => `whoever is on call in ${id}`),
    ],
    afterMs: wait,
  };
}
