import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ackTimeoutRecipients, buildPlan, nextStep, waitAfter } from '../../domain/escalation.js';
import type { Policy } from '../../domain/config-schema.js';
import type { Recipient } from '../../domain/incident.js';

const person = (id: string): Recipient => ({ id, name: id.toUpperCase(), email: `${id}@x.test` });
const resolve = (targets: string[]) => targets.map(person);

const policy: Policy = {
  id: 'p',
  levels: [
    { notify: ['owner'], ackTimeout: '10m' },
    { notify: ['lead'], ackTimeout: 600 },
    { notify: ['po', 'lead'], ackTimeout: '15m' },
  ],
  repeat: 1,
  finalFallback: { notify: ['centre'] },
  acknowledgementTimeout: '1h',
};

describe('buildPlan', () => {
  it('walks the levels in order, repeats the chain, then the final fallback', () => {
    const plan = buildPlan(policy, resolve);
    expect(plan.map((s) => [s.cycle, s.level, s.recipients.map((r) => r.id).join('+'), s.waitMs])).toEqual([
      [0, 1, 'owner', 600_000],
      [0, 2, 'lead', 600_000],
      [0, 3, 'po+lead', 900_000],
      [1, 1, 'owner', 600_000],
      [1, 2, 'lead', 600_000],
      [1, 3, 'po+lead', 900_000],
      [2, 0, 'centre', 0],
    ]);
    expect(plan.at(-1)?.fallback).toBe(true);
  });

  it('without repeat or fallback the plan is just the levels', () => {
    const plan = buildPlan({ ...policy, repeat: 0, finalFallback: undefined }, resolve);
    expect(plan).toHaveLength(3);
    expect(nextStep(plan, 2)).toEqual({ kind: 'exhausted' });
    expect(waitAfter(plan, 2)).toBe(900_000);
    expect(waitAfter(plan, 3)).toBeUndefined();
  });
});

describe('ackTimeoutRecipients', () => {
  it('re-notifies the acknowledger and the current level, each once', () => {
    const plan = buildPlan(policy, resolve);
    expect(ackTimeoutRecipients(plan, 2, person('lead')).map((r) => r.id)).toEqual(['lead', 'po']);
    expect(ackTimeoutRecipients(plan, 0, person('kari')).map((r) => r.id)).toEqual(['kari', 'owner']);
    expect(ackTimeoutRecipients(plan, -1, undefined).map((r) => r.id)).toEqual(['owner']);
  });
});

describe('escalation properties', () => {
  const arbPolicy = fc.record({
    levels: fc.array(fc.integer({ min: 1, max: 3600 }), { minLength: 1, maxLength: 6 }),
    repeat: fc.integer({ min: 0, max: 3 }),
    fallback: fc.boolean(),
  });

  it('for any policy and any point of acknowledgement, levels are paged in order and nobody after the ack', () => {
    fc.assert(
      fc.property(arbPolicy, fc.nat(), ({ levels, repeat, fallback }, ackAfter) => {
        const p: Policy = {
          id: 'p',
          levels: levels.map((s, i) => ({ notify: [`l${i + 1}`], ackTimeout: s })),
          repeat,
          finalFallback: fallback ? { notify: ['fb'] } : undefined,
          acknowledgementTimeout: 60,
        };
        const plan = buildPlan(p, resolve);
        expect(plan).toHaveLength(levels.length * (repeat + 1) + (fallback ? 1 : 0));
        // Simulate: walk the plan until the acknowledgement arrives after `ackAfter` pages.
        const paged: string[] = [];
        let current = -1;
        const stopAt = ackAfter % (plan.length + 1);
        for (;;) {
          if (paged.length === stopAt) break; // acknowledged: the loop stops asking for the next step
          const d = nextStep(plan, current);
          if (d.kind === 'exhausted') break;
          paged.push(...d.step.recipients.map((r) => r.id));
          current = d.stepIndex;
        }
        expect(paged.length).toBe(Math.min(stopAt, plan.length));
        // In order: l1, l2, ... per cycle.
        paged.forEach((id, i) => {
          const inCycle = i % levels.length;
          if (id !== 'fb') expect(id).toBe(`l${inCycle + 1}`);
        });
      }),
      { numRuns: 300 },
    );
  });
});
