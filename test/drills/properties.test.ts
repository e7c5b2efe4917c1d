/**
 * Fault drill 5: property-based, model-based tests (fast-check) of the escalation planner
 * (domain/escalation.ts) and the check threshold state machine (domain/thresholds.ts).
 *
 * `EscalationLoop` below is the incident workflow's escalation loop (workflows/incident.ts: the
 * first page, `waitAfter` + `nextStep` on each level timeout, acknowledgement, `ackTimeoutRecipients`
 * when an acknowledgement expires) with the Temporal parts taken out. It is driven two ways:
 *
 *   1. by fast-check `commands` — any sequence of level timeouts, acknowledgements (by anyone, again
 *      and again) and acknowledgement timeouts — against an independent model built straight from the
 *      policy (not from `buildPlan`);
 *   2. in virtual time — acknowledgements at arbitrary moments, timers firing by themselves — with the
 *      trace checked against rules derived from the inputs alone.
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
import { ackTimeoutRecipients, buildPlan, nextStep, waitAfter } from '../../domain/escalation.js';
import { observe, type ThresholdState, type Thresholds } from '../../domain/thresholds.js';

// ---- the system under test: the workflow's loop, without Temporal ------------------------------

const person = (id: string): Recipient => ({ id, name: id.toUpperCase(), email: `${id}@x.test` });

/** resolveTargets' contract: targets to recipients, each once, in order. */
const resolve = (targets: string[]): Recipient[] => [...new Set(targets)].map(person);

interface Page {
  /** One per page() call, like the workflow's send sequence: recipients paged together. */
  batch: number;
  stepIndex: number;
  level: number;
  cycle: number;
  recipient: string;
  reason: PageRecord['reason'];
}

class EscalationLoop {
  state: 'triggered' | 'acknowledged' = 'triggered';
  /** view.escalationStep */
  step = -1;
  pages: Page[] = [];
  private acknowledger: Recipient | undefined;
  private batch = 0;

  constructor(
    readonly plan: EscalationStep[],
    private readonly owner: Recipient,
  ) {
    const first = nextStep(plan, -1);
    if (first.kind === 'notify') this.escalateTo(first.stepIndex, 'initial');
  }

  /** Whether the workflow waits on a level timer now (`condition(…, waitAfter(…))`). */
  timerArmed(): boolean {
    return this.state === 'triggered' && waitAfter(this.plan, this.step) !== undefined;
  }

  /** The level timer fired (`condition` returned false). */
  levelTimeout(): void {
    if (!this.timerArmed()) throw new Error('no level timer is armed');
    const next = nextStep(this.plan, this.step);
    if (next.kind === 'notify') this.escalateTo(next.stepIndex, 'escalation');
  }

  acknowledge(actor: string): void {
    if (this.state === 'acknowledged') return; // "acknowledged again": the timeout restarts
    this.acknowledger = this.lookupRecipient(actor);
    this.state = 'acknowledged';
  }

  /** The acknowledgement timed out: acknowledgementExpired(). */
  acknowledgementTimeout(): void {
    if (this.state !== 'acknowledged') throw new Error('not acknowledged');
    this.state = 'triggered';
    const step = Math.max(0, this.step);
    this.step = step;
    this.page(step, 'ack-timeout', ackTimeoutRecipients(this.plan, step, this.acknowledger));
    this.acknowledger = undefined;
  }

  private lookupRecipient(actor: string): Recipient | undefined {
    for (const step of this.plan) {
      const r = step.recipients.find((x) => x.id === actor);
      if (r) return r;
    }
    return this.owner.id === actor ? this.owner : undefined;
  }

  private escalateTo(stepIndex: number, reason: PageRecord['reason']) {
    const step = this.plan[stepIndex]!;
    this.step = stepIndex;
    this.page(stepIndex, step.fallback ? 'fallback' : reason, step.recipients);
  }

  private page(stepIndex: number, reason: PageRecord['reason'], recipients: Recipient[]) {
    const step = this.plan[stepIndex];
    if (!step) return;
    const batch = ++this.batch;
    for (const r of recipients)
      this.pages.push({ batch, stepIndex, level: step.level, cycle: step.cycle, recipient: r.id, reason });
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
  // The level clock runs exactly while unacknowledged and the current step is not the last word.
  const cur = m.steps[m.current];
  expect(r.timerArmed()).toBe(!m.acked && cur !== undefined && !cur.fallback);
  expect(r.state).toBe(m.acked ? 'acknowledged' : 'triggered');
  expect(r.step).toBe(m.current);
}

class LevelTimeout implements Cmd {
  check(m: Readonly<Model>) {
    const cur = m.steps[m.current];
    return !m.acked && cur !== undefined && !cur.fallback;
  }
  run(m: Model, r: EscalationLoop) {
    r.levelTimeout();
    const next = m.steps[m.current + 1];
    if (next) {
      m.current++;
      const reason = next.fallback ? 'fallback' : 'escalation';
      expectPages(
        m,
        r,
        next.ids.map((id) => ({ level: next.level, cycle: next.cycle, recipient: id, reason })),
        m.current,
      );
    } else {
      // The chain is exhausted without a fallback: the incident stays open, nobody more is paged.
      expectPages(m, r, []);
    }
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
 * Runs the loop in virtual time, as Temporal would: `condition(state changed, waitAfter)` while
 * triggered, `condition(re-acknowledged, acknowledgementTimeout)` while acknowledged.
 */
function simulate(
  plan: EscalationStep[],
  owner: string,
  ackTimeoutMs: number,
  acks: { at: number; actor: string }[],
  horizon: number,
) {
  const loop = new EscalationLoop(plan, person(owner));
  const pages: TimedPage[] = loop.pages.map((p) => ({ ...p, at: 0 }));
  let seen = loop.pages.length;
  const stamp = (t: number) => {
    for (const p of loop.pages.slice(seen)) pages.push({ ...p, at: t });
    seen = loop.pages.length;
  };
  let clockStart = 0; // when the current condition started waiting
  let i = 0;
  for (;;) {
    const ack = acks[i];
    if (loop.state === 'triggered') {
      const wait = waitAfter(plan, loop.step);
      const deadline = wait === undefined ? Infinity : clockStart + wait;
      if (ack && ack.at < deadline) {
        loop.acknowledge(ack.actor);
        clockStart = ack.at;
        i++;
      } else if (deadline <= horizon) {
        loop.levelTimeout();
        stamp(deadline);
        clockStart = deadline;
      } else break;
    } else {
      const deadline = clockStart + ackTimeoutMs;
      if (ack && ack.at < deadline) {
        loop.acknowledge(ack.actor); // acknowledged again: the acknowledgement timeout restarts
        clockStart = ack.at;
        i++;
      } else if (deadline <= horizon) {
        loop.acknowledgementTimeout();
        stamp(deadline);
        clockStart = deadline;
      } else break;
    }
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

// ---- 3. the threshold state machine ----------------------------------------------------------

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
