import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  defaultReach,
  failOver,
  nobodyReached,
  notificationPlan,
  personOutcome,
  reachOf,
  type PlannedSend,
  type Reach,
} from '../../domain/notification-plan.js';
import { validateConfig } from '../../config/load.js';
import { buildIncidentInput } from '../../domain/model.js';

const T0 = Date.parse('2026-12-02T03:00:00Z');
const MIN = 60_000;

const kari: Reach = {
  methods: [
    { id: 'email', kind: 'email', to: 'kari@x.test' },
    { id: 'push', kind: 'ntfy', to: 'kari-pager' },
    { id: 'phone', kind: 'sms', to: '+4791234567' },
  ],
  rules: [
    { method: 'push', afterMs: 0 },
    { method: 'phone', afterMs: 2 * MIN },
    { method: 'email', afterMs: 0 },
  ],
};
const show = (plan: PlannedSend[]) => plan.map((s) => `${s.method.id}@${(s.dueAt - T0) / 1000}s:${s.state}`);

describe('notificationPlan', () => {
  it.each([
    [
      'push@0, SMS@2min, email@0 (the issue’s example)',
      kari,
      ['push@0s:waiting', 'email@0s:waiting', 'phone@120s:waiting'],
    ],
    ['no rules: email at once', defaultReach('ola@x.test'), ['email@0s:waiting']],
    [
      'the same method at two delays is sent twice',
      {
        ...kari,
        rules: [
          { method: 'phone', afterMs: 5 * MIN },
          { method: 'phone', afterMs: MIN },
        ],
      },
      ['phone@60s:waiting', 'phone@300s:waiting'],
    ],
    [
      'the same method at the same delay is sent once',
      {
        ...kari,
        rules: [
          { method: 'push', afterMs: 0 },
          { method: 'push', afterMs: 0 },
        ],
      },
      ['push@0s:waiting'],
    ],
    [
      'a rule naming an unknown method is left out',
      { ...kari, rules: [{ method: 'pager', afterMs: 0 }] },
      [],
    ],
  ])('%s', (_name, reach, expected) => {
    expect(show(notificationPlan(reach, T0))).toEqual(expected);
  });
});

describe('failOver', () => {
  it('a permanent failure makes the next waiting method due at once', () => {
    const plan = notificationPlan(kari, T0);
    plan[0]!.state = 'sending';
    plan[1]!.state = 'sending';
    // push fails for good 10 s after the page: the SMS (due at 2 min) goes now
    expect(failOver(plan, 0, T0 + 10_000)).toBe(2);
    expect(show(plan)).toEqual(['push@0s:failed', 'email@0s:sending', 'phone@10s:waiting']);
    expect(personOutcome(plan)).toBe('open');
    plan[2]!.state = 'sending';
    expect(failOver(plan, 2, T0 + 11_000)).toBeUndefined();
    expect(personOutcome(plan)).toBe('open'); // email is still being tried
    failOver(plan, 1, T0 + 12_000);
    expect(personOutcome(plan)).toBe('unreached');
  });

  it('a send that already is due later keeps the earliest due one first', () => {
    const plan = notificationPlan(
      {
        ...kari,
        rules: [
          { method: 'push', afterMs: 0 },
          { method: 'phone', afterMs: 5 * MIN },
          { method: 'email', afterMs: 10 * MIN },
        ],
      },
      T0,
    );
    plan[0]!.state = 'sending';
    expect(failOver(plan, 0, T0 + 1000)).toBe(1);
    expect(show(plan)).toEqual(['push@0s:failed', 'phone@1s:waiting', 'email@600s:waiting']);
  });
});

describe('outcomes', () => {
  it.each([
    [['reached', 'failed'], 'reached'],
    [['failed', 'failed'], 'unreached'],
    [['failed', 'waiting'], 'open'],
    [['failed', 'stopped'], 'open'],
    [[], 'unreached'],
  ] as const)('%j → %s', (states, outcome) => {
    const plan = states.map((state, i) => ({
      method: { id: `m${i}`, kind: 'ntfy' as const, to: 't' },
      afterMs: 0,
      dueAt: T0,
      state,
    }));
    expect(personOutcome(plan)).toBe(outcome);
  });

  it.each([
    [['unreached', 'unreached'], true],
    [['unreached', 'open'], false],
    [['unreached', 'reached'], false],
    [[], false],
  ] as const)('level of %j reached nobody: %s', (people, nobody) => {
    expect(nobodyReached(people)).toBe(nobody);
  });
});

const arbReach: fc.Arbitrary<Reach> = fc
  .uniqueArray(fc.constantFrom('email', 'push', 'phone', 'chat'), { minLength: 1 })
  .chain((ids) =>
    fc.record({
      methods: fc.constant(ids.map((id) => ({ id, kind: 'ntfy' as const, to: `${id}-topic` }))),
      rules: fc.array(
        fc.record({ method: fc.constantFrom(...ids), afterMs: fc.integer({ min: 0, max: 3_600_000 }) }),
        { minLength: 1, maxLength: 8 },
      ),
    }),
  );

describe('properties', () => {
  it('every distinct (method, delay) rule is planned once, due at page time + delay, in order of due time', () => {
    fc.assert(
      fc.property(arbReach, fc.integer({ min: 0, max: 2 ** 40 }), (reach, pagedAt) => {
        const plan = notificationPlan(reach, pagedAt);
        const distinct = new Set(reach.rules.map((r) => `${r.method}@${r.afterMs}`));
        expect(plan).toHaveLength(distinct.size);
        for (const s of plan) {
          expect(s.dueAt).toBe(pagedAt + s.afterMs);
          expect(s.state).toBe('waiting');
        }
        for (let i = 1; i < plan.length; i++)
          expect(plan[i]!.dueAt).toBeGreaterThanOrEqual(plan[i - 1]!.dueAt);
      }),
    );
  });

  it('failing sends one after another in any order: nothing moves later, each failure starts at most one, and all failed ⇔ unreached', () => {
    fc.assert(
      fc.property(arbReach, fc.array(fc.nat(), { maxLength: 12 }), (reach, picks) => {
        const plan = notificationPlan(reach, T0);
        let now = T0;
        for (const pick of picks) {
          const live = plan
            .map((p, i) => [p, i] as const)
            .filter(([p]) => p.state === 'waiting' || p.state === 'sending');
          if (live.length === 0) break;
          const [, i] = live[pick % live.length]!;
          now += 1000;
          const before = plan.map((p) => p.dueAt);
          const moved = failOver(plan, i, now);
          expect(plan[i]!.state).toBe('failed');
          plan.forEach((p, j) => expect(p.dueAt).toBeLessThanOrEqual(before[j]!));
          const waiting = plan.map((p, j) => [p, j] as const).filter(([p]) => p.state === 'waiting');
          if (moved === undefined) expect(waiting).toHaveLength(0);
          else {
            // the earliest waiting send, now due; the others unchanged
            expect(plan[moved]!.state).toBe('waiting');
            expect(plan[moved]!.dueAt).toBe(Math.min(before[moved]!, now));
            for (const [, j] of waiting) {
              expect(before[moved]!).toBeLessThanOrEqual(before[j]!);
              if (j !== moved) expect(plan[j]!.dueAt).toBe(before[j]!);
            }
          }
        }
        const allFailed = plan.every((p) => p.state === 'failed');
        expect(personOutcome(plan) === 'unreached').toBe(allFailed);
      }),
    );
  });
});

describe('from the config', () => {
  const raw = (contact: Record<string, unknown>) => ({
    contacts: [{ id: 'kari', name: 'Kari', email: 'kari@x.test', ...contact }],
    channels: {
      ntfy: { url: 'https://ntfy.example' },
      sms: { url: 'https://sms.example/send', body: '{"to":{{to}},"text":{{message}}}' },
    },
    policies: [{ id: 'p', levels: [{ notify: ['kari'], ackTimeout: '5m' }], acknowledgementTimeout: '1h' }],
    services: [{ id: 'svc', name: 'Svc', owner: 'kari', policy: 'p' }],
  });

  it('a contact with rules is paged by them; its methods’ addresses are resolved and durations in ms', () => {
    const config = validateConfig(
      raw({
        methods: [
          { id: 'push', kind: 'ntfy', to: 'kari-pager' },
          { id: 'phone', kind: 'sms', to: '+4791234567' },
          { id: 'unused', kind: 'ntfy', to: 'other' },
        ],
        rules: [{ method: 'push' }, { method: 'phone', after: '2m' }, { method: 'email', after: 0 }],
      }),
      'test',
    );
    expect(reachOf(config.contacts[0]!)).toEqual({
      methods: [
        { id: 'email', kind: 'email', to: 'kari@x.test' },
        { id: 'push', kind: 'ntfy', to: 'kari-pager' },
        { id: 'phone', kind: 'sms', to: '+4791234567' },
      ],
      rules: [
        { method: 'push', afterMs: 0 },
        { method: 'phone', afterMs: 120_000 },
        { method: 'email', afterMs: 0 },
      ],
    });
    const input = buildIncidentInput(config, 'svc', {
      eventId: 'e',
      source: 'api',
      actor: 'kari',
      reason: 'r',
    });
    expect(input.plan[0]!.recipients[0]!.reach?.rules).toHaveLength(3);
  });

  it('a contact without rules has no reach: one email at once, as before', () => {
    const config = validateConfig(raw({ methods: [{ id: 'push', kind: 'ntfy', to: 'kari-pager' }] }), 'test');
    expect(reachOf(config.contacts[0]!)).toBeUndefined();
    const input = buildIncidentInput(config, 'svc', {
      eventId: 'e',
      source: 'api',
      actor: 'kari',
      reason: 'r',
    });
    expect(input.plan[0]!.recipients[0]).toEqual({ id: 'kari', name: 'Kari', email: 'kari@x.test' });
  });
});
