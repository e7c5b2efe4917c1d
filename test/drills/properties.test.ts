/**
 * Fault drill 5: property-based, model-based tests (fast-check) of the incident lifecycle reducer
 * (domain/incident-lifecycle.ts — the rules the incident workflow runs), the escalation planner
 * (domain/escalation.ts) and the check threshold state machine (domain/thresholds.ts).
 *
 * The real reducer is driven three ways:
 *
 *   1. by fast-check `commands` — any sequence of level timeouts, acknowledgements (by anyone, again
 *      and again) and acknowledgement timeouts — against an independent model built straight from the
 *      policy (not from `buildPlan`);
 *   2. in virtual time — acknowledgements at arbitrary moments, the reducer's own timers firing when
 *      they are due — with the trace checked against rules derived from the inputs alone;
 *   3. through the whole lifecycle — verification, acknowledgements, resolve requests, monitors and
 *      alerts recovering, probe rounds passing and failing, timers firing, in any order — with
 *      invariants checked on every decision: nothing after resolved or dismissed, one acknowledgement
 *      per acknowledged period, pages in the plan's order, no escalation clock after the last step,
 *      resolved only by proof.
 *
 * For any policy and any sequence: nobody is paged while the incident is acknowledged (until an
 * acknowledgement timeout re-arms it, which pages the acknowledger and the current level, each once),
 * every level is paged in order, once, on schedule, and nothing comes after the final fallback.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Policy } from '../../domain/config-schema.js';
import type { EscalationStep, PageRecord, Recipient } from '../../domain/incident.js';
import { durationMs } from '../../domain/duration.js';
import { buildPlan, nextStep } from '../../domain/escalation.js';
import {
  decide,
  initialState,
  type LifecycleCommand,
  type LifecycleEvent,
  type LifecycleRules,
  type LifecycleState,
} from '../../domain/incident-lifecycle.js';
import { observe, type ThresholdState, type Thresholds } from '../../domain/thresholds.js';

// ---- the system under test: the real reducer, as the workflow runs it ---------------------------

const person = (id: string): Recipient => ({ id, name: id.toUpperCase(), email: `${id}@x.test` });

/** resolveTargets' contract: targets to recipients, each once, in order. */
const resolve = (targets: string[]): Recipient[] => [...new Set(targets)].map(person);

interface Page {
  /** One per page command, like the workflow's send sequence: recipients paged together. */
  batch: number;
  stepIndex: number;
  level: number;
  cycle: number;
  recipient: string;
  reason: PageRecord['reason'];
}

function lifecycleRules(
  plan: EscalationStep[],
  owner: Recipient,
  o: Partial<LifecycleRules> = {},
): LifecycleRules {
  return {
    serviceName: 'svc',
    plan,
    owner,
    acknowledgementTimeoutMs: 600_000,
    probes: 0,
    recoveryPasses: 1,
    recoveryIntervalMs: 1000,
    autoPublish: false,
    notifyResolved: false,
    ...o,
  };
}

/**
 * The reducer behind the escalation part of the lifecycle: verified (the first page), then only
 * timeouts and acknowledgements. Keeps the pages the commands asked for.
 */
class EscalationLoop {
  s: LifecycleState;
  pages: Page[] = [];
  private batch = 0;
  now = 0;

  constructor(
    readonly plan: EscalationStep[],
    owner: Recipient,
    ackTimeoutMs = 600_000,
  ) {
    this.s = initialState(lifecycleRules(plan, owner, { acknowledgementTimeoutMs: ackTimeoutMs }), []);
    this.send({ type: 'verified', now: 0 });
  }

  get state() {
    return this.s.state;
  }
  get step() {
    return this.s.escalationStep;
  }

  send(e: LifecycleEvent): LifecycleCommand[] {
    this.now = e.now;
    const d = decide(this.s, e);
    this.s = d.state;
    for (const c of d.commands) {
      if (c.kind !== 'page') continue;
      const step = this.plan[c.stepIndex]!;
      const batch = ++this.batch;
      for (const r of c.recipients)
        this.pages.push({
          batch,
          stepIndex: c.stepIndex,
          level: step.level,
          cycle: step.cycle,
          recipient: r.id,
          reason: c.reason,
        });
    }
    return d.commands;
  }

  /** Whether the workflow waits on a level timer now. */
  timerArmed(): boolean {
    return this.s.timer?.name === 'escalation';
  }

  /** The level timer fired. */
  levelTimeout(at = this.now): void {
    if (!this.timerArmed()) throw new Error('no level timer is armed');
    this.send({ type: 'timeout', timer: 'escalation', now: at });
  }

  acknowledge(actor: string, at = this.now): void {
    this.send({ type: 'acknowledge', actor, now: at });
  }

  /** The acknowledgement timed out. */
  acknowledgementTimeout(at = this.now): void {
    if (this.s.timer?.name !== 'acknowledgement') throw new Error('not acknowledged');
    this.send({ type: 'timeout', timer: 'acknowledgement', now: at });
  }
}

// ---- policies --------------------------------------------------------------------------------

const people = ['ann', 'bob', 'cat', 'dan', 'eve', 'fay'] as const;
const arbPerson = fc.constantFrom(...people);

interface Scenario {
  policy: Policy;
  owner: string;
}

const arbScenario: fc.Arbitrary<Scenario> = fc
  .record({
    levels: fc.array(
      fc.record({
        // Duplicates on purpose: a level names someone twice, or a team overlaps a person.
        notify: fc.array(arbPerson, { minLength: 1, maxLength: 3 }),
        ackTimeoutS: fc.integer({ min: 1, max: 3600 }),
      }),
      { minLength: 1, maxLength: 5 },
    ),
    repeat: fc.integer({ min: 0, max: 3 }),
    fallback: fc.option(fc.array(arbPerson, { minLength: 1, maxLength: 2 }), { nil: undefined }),
    acknowledgementTimeoutS: fc.integer({ min: 1, max: 7200 }),
    owner: arbPerson,
  })
  .map(({ levels, repeat, fallback, acknowledgementTimeoutS, owner }) => ({
    owner,
    policy: {
      id: 'p',
      levels: levels.map((l) => ({ notify: l.notify, ackTimeout: `${l.ackTimeoutS}s` })),
      repeat,
      finalFallback: fallback ? { notify: fallback } : undefined,
      acknowledgementTimeout: acknowledgementTimeoutS,
    },
  }));

/** The spec of a policy's steps, written from the policy itself (not with buildPlan). */
interface SpecStep {
  level: number;
  cycle: number;
  fallback: boolean;
  ids: string[];
  waitMs: number | undefined;
}

function specSteps(p: Policy): SpecStep[] {
  const out: SpecStep[] = [];
  for (let cycle = 0; cycle <= p.repeat; cycle++)
    p.levels.forEach((l, i) =>
      out.push({
        level: i + 1,
        cycle,
        fallback: false,
        ids: [...new Set(l.notify)],
        waitMs: durationMs(l.ackTimeout),
      }),
    );
  if (p.finalFallback)
    out.push({
      level: 0,
      cycle: p.repeat + 1,
      fallback: true,
      ids: [...new Set(p.finalFallback.notify)],
      waitMs: undefined,
    });
  return out;
}

const inPlan = (steps: SpecStep[], owner: string, id: string) =>
  steps.some((s) => s.ids.includes(id)) || id === owner;

// ---- 1. model-based: any sequence of timeouts, acknowledgements and acknowledgement timeouts -------

interface Model {
  steps: SpecStep[];
  owner: string;
  acked: boolean;
  /** The step paged last (the current level); -1 before any. */
  current: number;
  acknowledger: string | undefined;
  /** How many pages the real loop has made, as far as the model knows. */
  seen: number;
}

type Cmd = fc.Command<Model, EscalationLoop>;

/** Checks what the real loop did against what the model expects, then advances the model's count. */
function expectPages(
  m: Model,
  r: EscalationLoop,
  expected: Omit<Page, 'stepIndex' | 'batch'>[],
  stepIndex?: number,
) {
  const made = r.pages.slice(m.seen);
  expect(made.map(({ stepIndex: _s, batch: _b, ...rest }) => rest)).toEqual(expected);
  if (stepIndex !== undefined) for (const p of made) expect(p.stepIndex).toBe(stepIndex);
  m.seen = r.pages.length;
}

function expectArmed(m: Model, r: EscalationLoop) {
  // The level clock runs exactly while unacknowledged and a step follows the current one (not after
  // the final fallback, not after the last level); the acknowledgement clock exactly while acknowledged.
  expect(r.timerArmed()).toBe(levelClock(m));
  expect(r.s.timer?.name === 'acknowledgement').toBe(m.acked);
  expect(r.state).toBe(m.acked ? 'acknowledged' : 'triggered');
  expect(r.step).toBe(m.current);
}

function levelClock(m: Readonly<Model>) {
  const cur = m.steps[m.current];
  return !m.acked && cur !== undefined && !cur.fallback && m.steps[m.current + 1] !== undefined;
}

class LevelTimeout implements Cmd {
  check(m: Readonly<Model>) {
    return levelClock(m);
  }
  run(m: Model, r: EscalationLoop) {
    r.levelTimeout();
    const next = m.steps[m.current + 1]!;
    m.current++;
    const reason = next.fallback ? 'fallback' : 'escalation';
    expectPages(
      m,
      r,
      next.ids.map((id) => ({ level: next.level, cycle: next.cycle, recipient: id, reason })),
      m.current,
    );
    expectArmed(m, r);
  }
  toString() {
    return 'levelTimeout';
  }
}

class Acknowledge implements Cmd {
  constructor(readonly actor: string) {}
  check() {
    return true;
  }
  run(m: Model, r: EscalationLoop) {
    r.acknowledge(this.actor);
    if (!m.acked) {
      m.acked = true;
      m.acknowledger = inPlan(m.steps, m.owner, this.actor) ? this.actor : undefined;
    }
    expectPages(m, r, []); // an acknowledgement never pages anyone
    expectArmed(m, r);
  }
  toString() {
    return `acknowledge(${this.actor})`;
  }
}

class AcknowledgementTimeout implements Cmd {
  check(m: Readonly<Model>) {
    return m.acked;
  }
  run(m: Model, r: EscalationLoop) {
    r.acknowledgementTimeout();
    m.acked = false;
    m.current = Math.max(0, m.current);
    const cur = m.steps[m.current]!;
    const ids = [...new Set([...(m.acknowledger ? [m.acknowledger] : []), ...cur.ids])];
    m.acknowledger = undefined;
    expectPages(
      m,
      r,
      ids.map((id) => ({ level: cur.level, cycle: cur.cycle, recipient: id, reason: 'ack-timeout' })),
      m.current,
    );
    expectArmed(m, r);
  }
  toString() {
    return 'acknowledgementTimeout';
  }
}

const commands = fc.commands(
  [
    fc.constant(new LevelTimeout()),
    fc.constant(new LevelTimeout()),
    fc.oneof(arbPerson, fc.constant('stranger')).map((a) => new Acknowledge(a)),
    fc.constant(new AcknowledgementTimeout()),
  ],
  { maxCommands: 60 },
);

/** Properties of a whole trace, whatever the commands were. */
function checkTrace(plan: EscalationStep[], pages: Page[]) {
  // Escalation pages (not re-pages after an expired acknowledgement) walk the plan in order, each
  // step once: 0, 1, 2, …, and the final fallback is the last thing ever escalated to.
  const escalations = pages.filter((p) => p.reason !== 'ack-timeout');
  const stepsPaged = escalations.map((p) => p.stepIndex).filter((s, i, a) => a.indexOf(s) === i);
  expect(stepsPaged).toEqual(stepsPaged.map((_, i) => i));
  expect(stepsPaged.length).toBeLessThanOrEqual(plan.length);
  for (const s of stepsPaged)
    expect(escalations.filter((p) => p.stepIndex === s).map((p) => p.recipient)).toEqual(
      plan[s]!.recipients.map((r) => r.id),
    );
  // Within a cycle the levels rise 1, 2, 3 …; the next cycle starts at level 1; the fallback is last.
  for (let i = 1; i < stepsPaged.length; i++) {
    const a = plan[stepsPaged[i - 1]!]!;
    const b = plan[stepsPaged[i]!]!;
    if (b.fallback) expect(i).toBe(plan.length - 1);
    else if (b.cycle === a.cycle) expect(b.level).toBe(a.level + 1);
    else expect([b.cycle, b.level]).toEqual([a.cycle + 1, 1]);
  }
  const fallbackAt = pages.findIndex((p) => p.reason === 'fallback');
  if (fallbackAt >= 0)
    expect(pages.slice(fallbackAt).every((p) => p.stepIndex === plan.length - 1)).toBe(true);
  // Nobody is paged twice at once.
  const batches = new Map<number, string[]>();
  for (const p of pages) batches.set(p.batch, [...(batches.get(p.batch) ?? []), p.recipient]);
  for (const ids of batches.values()) expect(new Set(ids).size).toBe(ids.length);
}

describe('escalation, model-based: any sequence of timeouts, acknowledgements and acknowledgement timeouts', () => {
  it('pages exactly what the policy says, in order, and nobody while acknowledged', () => {
    fc.assert(
      fc.property(arbScenario, commands, ({ policy, owner }, cmds) => {
        const plan = buildPlan(policy, resolve);
        const steps = specSteps(policy);
        // The planner agrees with the policy read directly.
        expect(
          plan.map((s) => ({
            level: s.level,
            cycle: s.cycle,
            fallback: s.fallback,
            ids: s.recipients.map((r) => r.id),
            waitMs: s.fallback ? undefined : s.waitMs,
          })),
        ).toEqual(steps);
        const real = new EscalationLoop(plan, person(owner));
        const model: Model = { steps, owner, acked: false, current: 0, acknowledger: undefined, seen: 0 };
        expectPages(
          model,
          real,
          steps[0]!.ids.map((id) => ({
            level: steps[0]!.level,
            cycle: 0,
            recipient: id,
            reason: steps[0]!.fallback ? 'fallback' : 'initial',
          })),
          0,
        );
        fc.modelRun(() => ({ model, real }), cmds);
        checkTrace(plan, real.pages);
      }),
      { numRuns: 400 },
    );
  });
});

// ---- 2. in virtual time: acknowledgements at any moment, timers firing by themselves -------------

interface TimedPage extends Page {
  at: number;
}

/**
 * Runs the reducer in virtual time, as the workflow does on Temporal: the next thing to happen is the
 * next acknowledgement or the timer the reducer armed, whichever comes first.
 */
function simulate(
  plan: EscalationStep[],
  owner: string,
  ackTimeoutMs: number,
  acks: { at: number; actor: string }[],
  horizon: number,
) {
  const loop = new EscalationLoop(plan, person(owner), ackTimeoutMs);
  const pages: TimedPage[] = loop.pages.map((p) => ({ ...p, at: 0 }));
  let seen = loop.pages.length;
  const stamp = (t: number) => {
    for (const p of loop.pages.slice(seen)) pages.push({ ...p, at: t });
    seen = loop.pages.length;
  };
  let i = 0;
  for (;;) {
    const ack = acks[i];
    const timer = loop.s.timer;
    const due = timer?.dueAt ?? Infinity;
    if (ack && ack.at < due) {
      loop.acknowledge(ack.actor, ack.at);
      stamp(ack.at);
      i++;
    } else if (timer && due <= horizon) {
      loop.send({ type: 'timeout', timer: timer.name, now: due });
      stamp(due);
    } else break;
  }
  return pages;
}

/** Acknowledged periods, from the acknowledgements alone: [first ack, last ack + timeout). */
function acknowledgedPeriods(acks: { at: number }[], ackTimeoutMs: number) {
  const out: { from: number; until: number }[] = [];
  for (const a of acks) {
    const last = out.at(-1);
    if (last && a.at < last.until) last.until = a.at + ackTimeoutMs;
    else out.push({ from: a.at, until: a.at + ackTimeoutMs });
  }
  return out;
}

describe('escalation in virtual time: acknowledgements at any moment', () => {
  it('nobody is paged while acknowledged, the acknowledgement timeout re-pages, and every level fires on schedule', () => {
    fc.assert(
      fc.property(
        arbScenario,
        fc.array(
          fc.record({
            at: fc.integer({ min: 1, max: 40_000_000 }),
            actor: fc.oneof(arbPerson, fc.constant('stranger')),
          }),
          {
            maxLength: 12,
          },
        ),
        ({ policy, owner }, rawAcks) => {
          const plan = buildPlan(policy, resolve);
          const steps = specSteps(policy);
          const ackTimeoutMs = durationMs(policy.acknowledgementTimeout);
          // No ties: a tie between an acknowledgement and a timer is a race, not a rule. Durations are
          // whole seconds, so every timer fires at a whole second or a whole number of seconds after
          // some acknowledgement; giving each acknowledgement its own millisecond residue (1, 2, …)
          // makes every coincidence impossible.
          const acks = [...rawAcks]
            .sort((x, y) => x.at - y.at)
            .map((a, i) => ({ actor: a.actor, at: Math.floor(a.at / 1000) * 1000 + i + 1 }));
          const horizon = 50_000_000;
          const pages = simulate(plan, owner, ackTimeoutMs, acks, horizon);
          checkTrace(plan, pages);

          const periods = acknowledgedPeriods(acks, ackTimeoutMs);
          const acknowledged = (t: number) => periods.some((p) => p.from <= t && t < p.until);
          // 1. Nobody is paged while acknowledged.
          for (const p of pages) expect(acknowledged(p.at), `page at ${p.at}`).toBe(false);
          // 2. Each acknowledgement period that ends re-pages the acknowledger (if they are in the
          //    plan) and the current level at its end, and nothing else happens at that moment.
          for (const period of periods.filter((x) => x.until <= horizon)) {
            const repage = pages.filter((p) => p.at === period.until);
            expect(repage.length).toBeGreaterThan(0);
            expect(repage.every((p) => p.reason === 'ack-timeout')).toBe(true);
            const first = acks.find((a) => a.at === period.from)!;
            // The current level: the step escalated to last (the first level if the acknowledgement
            // came before any page moved on).
            const current = Math.max(
              0,
              ...pages
                .filter((p) => p.at < period.until && p.reason !== 'ack-timeout')
                .map((p) => p.stepIndex),
            );
            expect(repage.every((p) => p.stepIndex === current)).toBe(true);
            const cur = steps[current]!;
            const who = inPlan(steps, owner, first.actor) ? [first.actor] : [];
            expect(repage.map((p) => p.recipient)).toEqual([...new Set([...who, ...cur.ids])]);
          }
          // … and only then.
          const ends = new Set(periods.map((x) => x.until));
          for (const p of pages.filter((x) => x.reason === 'ack-timeout')) expect(ends.has(p.at)).toBe(true);
          // 3. On schedule: the level clock (re)starts at the first page, at each escalation, and at
          //    each expired acknowledgement; the next step is paged exactly the level's ackTimeout
          //    later, unless an acknowledgement came first — and then it is not paged at that moment.
          const starts = [
            ...new Set([
              0,
              ...pages.map((p) => p.at),
              ...periods.map((p) => p.until).filter((t) => t <= horizon),
            ]),
          ].sort((x, y) => x - y);
          for (const s of starts) {
            if (acknowledged(s)) continue;
            const stepNow = pages.filter((p) => p.at <= s).at(-1)!.stepIndex;
            const wait = steps[stepNow]!.waitMs;
            const next = steps[stepNow + 1];
            if (wait === undefined || !next || s + wait > horizon) continue;
            const ackBefore = acks.some((a) => a.at >= s && a.at < s + wait);
            const paged = pages.filter((p) => p.at === s + wait && p.reason !== 'ack-timeout');
            if (ackBefore) expect(paged).toEqual([]);
            else expect(paged.map((p) => p.stepIndex)).toEqual(next.ids.map(() => stepNow + 1));
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

// ---- 3. the whole lifecycle: any events in any order, invariants on every decision ---------------

const keyPool = ['check:a', 'check:b', 'event:c'] as const;

type Step =
  | { kind: 'wait'; ms: number }
  | { kind: 'verify'; confirmed: boolean }
  | { kind: 'ack'; actor: string }
  | { kind: 'resolve'; actor: string }
  | { kind: 'report'; key: string | undefined }
  | { kind: 'recover'; key: string }
  | { kind: 'probe'; pass: boolean }
  | { kind: 'publish' };

const arbActor = fc.oneof(arbPerson, fc.constant('stranger'));
const arbStep: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.integer({ min: 0, max: 4_000_000 }).map((ms) => ({ kind: 'wait' as const, ms })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(true, true, true, false)
      .map((confirmed) => ({ kind: 'verify' as const, confirmed })),
  },
  { weight: 3, arbitrary: arbActor.map((actor) => ({ kind: 'ack' as const, actor })) },
  { weight: 2, arbitrary: arbActor.map((actor) => ({ kind: 'resolve' as const, actor })) },
  {
    weight: 1,
    arbitrary: fc
      .option(fc.constantFrom(...keyPool), { nil: undefined })
      .map((key) => ({ kind: 'report' as const, key })),
  },
  { weight: 2, arbitrary: fc.constantFrom(...keyPool).map((key) => ({ kind: 'recover' as const, key })) },
  { weight: 4, arbitrary: fc.boolean().map((pass) => ({ kind: 'probe' as const, pass })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'publish' as const }) },
);

interface Decided {
  event: LifecycleEvent;
  before: LifecycleState;
  after: LifecycleState;
  commands: LifecycleCommand[];
}

/**
 * Plays steps against the real reducer the way the workflow does: timers fire when due (during a
 * wait), a `probe` command puts a round out until a probe step answers it, `recovery-start` follows a
 * resolve request, `settle` comes between waits. Verification comes first unless a step asks for it.
 */
function playLifecycle(r: LifecycleRules, initialKeys: string[], steps: Step[], verifyAt: number) {
  let s = initialState(r, initialKeys);
  let now = 0;
  let probeOut = false;
  const log: Decided[] = [];
  const send = (event: LifecycleEvent) => {
    const d = decide(s, event);
    log.push({ event, before: s, after: d.state, commands: d.commands });
    s = d.state;
    for (const c of d.commands) if (c.kind === 'probe') probeOut = true;
    // The workflow starts watching a resolve once verification is done.
    if (s.state === 'resolving' && !s.recovery && log.some((x) => x.event.type === 'verified'))
      send({ type: 'recovery-start', now });
  };
  const verify = (confirmed: boolean) => {
    if (log.some((x) => x.event.type === 'verified' || x.event.type === 'not-reproduced')) return;
    send(confirmed ? { type: 'verified', now } : { type: 'not-reproduced', now });
    if (s.state === 'resolving' && !s.recovery) send({ type: 'recovery-start', now });
    send({ type: 'settle', now });
  };
  steps.forEach((step, i) => {
    if (i === verifyAt) verify(true);
    switch (step.kind) {
      case 'wait': {
        const until = now + step.ms;
        // Timers fire in order while time passes; a probe round out holds the recovery clock.
        while (s.timer && s.timer.dueAt <= until && !(s.timer.name === 'recovery-round' && probeOut)) {
          now = Math.max(now, s.timer.dueAt);
          send({ type: 'timeout', timer: s.timer.name, now });
          send({ type: 'settle', now });
        }
        now = until;
        break;
      }
      case 'verify':
        verify(step.confirmed);
        break;
      case 'ack':
        send({ type: 'acknowledge', actor: step.actor, now });
        break;
      case 'resolve':
        send({ type: 'resolve-request', actor: step.actor, now });
        break;
      case 'report':
        send({ type: 'reported', ...(step.key ? { key: step.key } : {}), now });
        break;
      case 'recover':
        send({ type: 'recovered', key: step.key, actor: 'monitor', detail: 'ok', now });
        break;
      case 'probe':
        // Answered even after the incident closed (a round that was out when an alert resolved it).
        if (!probeOut) break;
        probeOut = false;
        send({
          type: 'probe-result',
          probes: r.probes,
          failures: step.pass ? '' : 'tcp refused',
          now,
        });
        send({ type: 'settle', now });
        break;
      case 'publish':
        send({ type: 'status-published', now });
        break;
    }
  });
  return { log, final: s };
}

/** The invariants, checked against a model kept from the events alone (not from the reducer). */
function checkLifecycle(r: LifecycleRules, initialKeys: string[], log: Decided[]) {
  const plan = r.plan;
  const known = (id: string) =>
    plan.some((st) => st.recipients.some((x) => x.id === id)) || id === r.owner.id;
  let closedAt = -1;
  let verified = false;
  const open = new Set(initialKeys);
  let everKeyed = initialKeys.length > 0;
  /** The acknowledged period: who acknowledged first, and how many acknowledgements changed state. */
  let period: { by: string; changes: number } | undefined;
  /** Who an acknowledgement timeout re-pages, kept from the events. */
  let acknowledger: string | undefined;
  let lastEscalated = -1;
  let fallbackPaged = false;
  let resolving = false;
  let passesInARow = 0;
  log.forEach((d, i) => {
    const { event: e, before, after, commands } = d;
    const where = `decision ${i} (${e.type})`;
    // 1. Nothing at all once resolved or dismissed: no page, no timer, no record.
    if (closedAt >= 0) expect(commands, where).toEqual([]);
    // The timer the commands leave running is the state's timer.
    // (A timeout ends the timer that fired.)
    let timer = e.type === 'timeout' && before.timer?.name === e.timer ? undefined : before.timer?.name;
    for (const c of commands) {
      if (c.kind === 'timer') timer = c.name;
      if (c.kind === 'cancelTimer' || c.kind === 'resolve') timer = undefined;
    }
    expect(after.timer?.name, where).toBe(timer);
    if (after.state === 'resolved' || after.state === 'dismissed') expect(after.timer, where).toBeUndefined();

    // 2. One state-changing acknowledgement per acknowledged period.
    if (e.type === 'acknowledge' && closedAt < 0 && before.state !== 'resolving') {
      const changes = commands.some((c) => c.kind === 'chat' || c.kind === 'state');
      if (period) {
        expect(changes, `${where}: acknowledged again`).toBe(false);
        expect(after.acknowledgedBy, where).toBe(period.by);
        expect(after.acknowledgedAt, where).toBe(before.acknowledgedAt);
      } else {
        expect(changes, `${where}: first acknowledgement`).toBe(true);
        period = { by: e.actor, changes: 1 };
        acknowledger = known(e.actor) ? e.actor : undefined;
      }
    }
    if (e.type === 'resolve-request' && before.state !== 'resolving' && closedAt < 0)
      acknowledger ??= known(e.actor) ? e.actor : undefined;

    // The acknowledged period ends with its timeout (back to triggered) or the close.
    if (period && commands.some((c) => c.kind === 'state' && c.state === 'triggered')) period = undefined;
    // 3. Pages: escalation walks the plan in order, each step once, with that step's recipients;
    //    nobody is paged while acknowledged; the fallback is the last step escalated to.
    for (const c of commands.filter((x) => x.kind === 'page')) {
      expect(period, `${where}: page while acknowledged`).toBeUndefined();
      const step = plan[c.stepIndex]!;
      if (c.reason === 'ack-timeout') {
        expect(c.stepIndex, where).toBe(Math.max(0, lastEscalated));
        const want = [
          ...new Set([...(acknowledger ? [acknowledger] : []), ...step.recipients.map((x) => x.id)]),
        ];
        expect(
          c.recipients.map((x) => x.id),
          where,
        ).toEqual(want);
        // Re-paged, the current level counts as paged (the first level, if nobody was paged yet).
        lastEscalated = Math.max(0, lastEscalated);
      } else {
        expect(fallbackPaged, `${where}: escalated after the final fallback`).toBe(false);
        expect(c.stepIndex, where).toBe(lastEscalated + 1);
        expect(c.reason, where).toBe(
          step.fallback ? 'fallback' : lastEscalated < 0 ? 'initial' : 'escalation',
        );
        expect(c.recipients, where).toEqual(step.recipients);
        lastEscalated = c.stepIndex;
        fallbackPaged = step.fallback;
      }
    }
    if (commands.some((c) => c.kind === 'page' && c.reason === 'ack-timeout')) acknowledger = undefined;

    // 4. No escalation clock after the last step: a level clock runs only while a step follows.
    for (const c of commands)
      if (c.kind === 'timer' && c.name === 'escalation') {
        expect(fallbackPaged, where).toBe(false);
        expect(nextStep(plan, after.escalationStep).kind, where).toBe('notify');
        expect(after.state, where).toBe('triggered');
      }

    // The model of what proves recovery, from the events.
    if (e.type === 'verified') verified = true;
    if (e.type === 'reported' && e.key && closedAt < 0) {
      open.add(e.key);
      everKeyed = true;
    }
    if (e.type === 'recovered' && closedAt < 0) open.delete(e.key);
    if (e.type === 'resolve-request' && before.state !== 'resolving' && closedAt < 0) resolving = true;
    if (e.type === 'recovery-start') passesInARow = 0;
    if (e.type === 'probe-result' && closedAt < 0) passesInARow = e.failures ? 0 : passesInARow + 1;
    if (commands.some((c) => c.kind === 'state' && c.state === 'triggered')) resolving = false;

    // 5. Resolved only by proof: every key recovered, N passing rounds in a row, or no probe at all.
    const res = commands.find((c) => c.kind === 'resolve');
    if (res) {
      expect(after.state, where).toBe('resolved');
      const proven =
        (res.proof === 'keys' && everKeyed && open.size === 0 && before.state !== 'verifying') ||
        (res.proof === 'probes' && resolving && r.probes > 0 && passesInARow >= r.recoveryPasses) ||
        (res.proof === 'no-probe' && resolving && r.probes === 0 && verified);
      expect(proven, `${where}: resolved by ${res.proof} without proof`).toBe(true);
    } else expect(after.state === 'resolved' && before.state !== 'resolved', where).toBe(false);

    if (after.state === 'resolved' || after.state === 'dismissed') {
      if (closedAt < 0) closedAt = i;
      period = undefined;
    }
  });
}

describe('the whole lifecycle, model-based: verification, acknowledgements, resolves, recoveries, probe rounds, timers', () => {
  it('never pages after the close, one acknowledgement per period, pages in order, no clock after the last step, resolved only by proof', () => {
    fc.assert(
      fc.property(
        arbScenario,
        fc.record({
          probes: fc.integer({ min: 0, max: 2 }),
          recoveryPasses: fc.integer({ min: 1, max: 3 }),
          recoveryIntervalS: fc.integer({ min: 1, max: 600 }),
          autoPublish: fc.boolean(),
          keys: fc.subarray([...keyPool]),
          verifyAt: fc.integer({ min: 0, max: 4 }),
        }),
        fc.array(arbStep, { maxLength: 80 }),
        ({ policy, owner }, o, steps) => {
          const plan = buildPlan(policy, resolve);
          const r = lifecycleRules(plan, person(owner), {
            acknowledgementTimeoutMs: durationMs(policy.acknowledgementTimeout),
            probes: o.probes,
            recoveryPasses: o.recoveryPasses,
            recoveryIntervalMs: o.recoveryIntervalS * 1000,
            autoPublish: o.autoPublish,
            notifyResolved: true,
          });
          const { log } = playLifecycle(r, o.keys, steps, o.verifyAt);
          checkLifecycle(r, o.keys, log);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

// ---- 4. the threshold state machine ----------------------------------------------------------

describe('threshold state machine, model-based', () => {
  it('for any results and thresholds: a change needs exactly the threshold in a row, changes alternate, re-probe on the first failure only', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { maxLength: 80 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom<ThresholdState['health']>('healthy', 'failing'),
        (results, failThreshold, recoverThreshold, start) => {
          const t: Thresholds = { failThreshold, recoverThreshold };
          let state: ThresholdState = { health: start, streak: 0 };
          // The model: the health, and the results since it last changed.
          let health = start;
          let since: boolean[] = [];
          let opened = 0;
          let recovered = 0;
          for (const ok of results) {
            const o = observe(state, ok, t);
            since.push(ok);
            const bad = (r: boolean) => (health === 'healthy' ? !r : r);
            let run = 0;
            for (let i = since.length - 1; i >= 0 && bad(since[i]!); i--) run++;
            const need = health === 'healthy' ? failThreshold : recoverThreshold;
            const change = run >= need;
            expect(o.changed).toBe(change);
            expect(o.reprobeNow).toBe(!change && health === 'healthy' && !ok && run === 1);
            if (change) {
              health = health === 'healthy' ? 'failing' : 'healthy';
              since = [];
              if (health === 'failing') opened++;
              else recovered++;
            }
            expect(o.state.health).toBe(health);
            expect(o.state.streak).toBe(change ? 0 : run);
            state = o.state;
          }
          // An incident per failing period: opens and recoveries alternate.
          const offset = start === 'failing' ? 1 : 0;
          expect(opened + offset - recovered === 0 || opened + offset - recovered === 1).toBe(true);
          expect(health === 'failing').toBe(opened + offset - recovered === 1);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('from healthy, k failures in a row open at the failThreshold-th, and never earlier', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 12 }), (f, k) => {
        let s: ThresholdState = { health: 'healthy', streak: 0 };
        const changedAt: number[] = [];
        for (let i = 1; i <= k; i++) {
          const o = observe(s, false, { failThreshold: f, recoverThreshold: 2 });
          if (o.changed) changedAt.push(i);
          s = o.state;
        }
        expect(changedAt).toEqual(k >= f ? [f] : []);
      }),
    );
  });
});
