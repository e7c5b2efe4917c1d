/**
 * The lifecycle reducer (domain/incident-lifecycle.ts), rule by rule: state + event → new state and
 * the commands the workflow runs. Random sequences of all of it: test/drills/properties.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Policy } from '../../domain/config-schema.js';
import { buildPlan } from '../../domain/escalation.js';
import type { Recipient } from '../../domain/incident.js';
import {
  decide,
  initialState,
  resumedState,
  type LifecycleCommand,
  type LifecycleEvent,
  type LifecycleRules,
  type LifecycleState,
} from '../../domain/incident-lifecycle.js';

const person = (id: string): Recipient => ({ id, name: id.toUpperCase(), email: `${id}@x.test` });
const minute = 60_000;
const T0 = Date.parse('2026-03-02T10:00:00.000Z');

const policy: Policy = {
  id: 'p',
  levels: [
    { notify: ['kari'], ackTimeout: '5m' },
    { notify: ['ola', 'kari'], ackTimeout: '10m' },
  ],
  repeat: 0,
  finalFallback: { notify: ['per'] },
  acknowledgementTimeout: '30m',
};

function rules(o: Partial<LifecycleRules> & { policy?: Policy } = {}): LifecycleRules {
  const { policy: p = policy, ...rest } = o;
  return {
    serviceName: 'Canvas',
    plan: buildPlan(p, (ids) => ids.map(person)),
    owner: person('owner'),
    acknowledgementTimeoutMs: 30 * minute,
    probes: 1,
    recoveryPasses: 2,
    recoveryIntervalMs: minute,
    autoPublish: false,
    notifyResolved: false,
    ...rest,
  };
}

/** Runs events one after another; answers the last state and every command, in order. */
function play(start: LifecycleState, events: LifecycleEvent[]) {
  let s = start;
  const all: LifecycleCommand[][] = [];
  for (const e of events) {
    const d = decide(s, e);
    all.push(d.commands);
    s = d.state;
  }
  return { state: s, commands: all, last: all.at(-1) ?? [] };
}

const at = (m: number) => T0 + m * minute;
const verified = (m = 0): LifecycleEvent => ({ type: 'verified', now: at(m) });
const ack = (actor: string, m: number): LifecycleEvent => ({ type: 'acknowledge', actor, now: at(m) });
const timeout = (timer: 'escalation' | 'acknowledgement' | 'recovery-round', m: number): LifecycleEvent => ({
  type: 'timeout',
  timer,
  now: at(m),
});
const pages = (cs: LifecycleCommand[]) =>
  cs.flatMap((c) =>
    c.kind === 'page' ? [`${c.stepIndex}:${c.reason}:${c.recipients.map((r) => r.id)}`] : [],
  );
const kinds = (cs: LifecycleCommand[]) => cs.map((c) => (c.kind === 'record' ? `record:${c.event}` : c.kind));

describe('verification', () => {
  it('verified: triggered, the first level paged, its clock started; investigating published when autoPublish', () => {
    const { state, last } = play(initialState(rules({ autoPublish: true }), []), [verified()]);
    expect(last).toEqual([
      { kind: 'publish', state: 'investigating' },
      { kind: 'state', state: 'triggered' },
      { kind: 'page', stepIndex: 0, reason: 'initial', recipients: [person('kari')] },
      { kind: 'timer', name: 'escalation', ms: 5 * minute },
    ]);
    expect(state).toMatchObject({ state: 'triggered', escalationStep: 0, timer: { dueAt: at(5) } });
  });

  it('acknowledged while verifying: nobody is paged, the acknowledgement clock starts at verification', () => {
    const { state, commands } = play(initialState(rules(), []), [ack('ola', 0), ack('kari', 1), verified(2)]);
    expect(commands[0]).toEqual([
      {
        kind: 'record',
        event: 'acknowledged',
        actor: 'ola',
        detail: 'acknowledged by ola; escalation stopped',
      },
      {
        kind: 'chat',
        event: 'acknowledged',
        title: 'Canvas: acknowledged by ola',
        text: 'Escalation stopped.',
      },
    ]);
    // The first acknowledgement stands: a second one is only recorded.
    expect(commands[1]).toEqual([
      { kind: 'record', event: 'acknowledged', actor: 'kari', detail: 'acknowledged again by kari' },
    ]);
    expect(commands[2]).toEqual([
      { kind: 'state', state: 'acknowledged' },
      { kind: 'timer', name: 'acknowledgement', ms: 30 * minute },
    ]);
    expect(state).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'ola',
      acknowledger: person('ola'),
      acknowledgedAt: new Date(at(0)).toISOString(),
      acks: 2,
      timer: { name: 'acknowledgement', dueAt: at(32) },
    });
  });

  it('not reproduced: dismissed, and a dismissed incident decides nothing more', () => {
    const { state, commands } = play(initialState(rules(), []), [
      { type: 'not-reproduced', now: at(0) },
      verified(1),
      ack('kari', 2),
    ]);
    expect(commands[0]).toEqual([
      { kind: 'state', state: 'dismissed' },
      {
        kind: 'record',
        event: 'dismissed',
        actor: 'system',
        detail: 'the problem did not reproduce on verification; nobody was paged',
      },
    ]);
    expect(commands.slice(1)).toEqual([[], []]);
    expect(state.state).toBe('dismissed');
  });
});

describe('acknowledge', () => {
  const triggered = play(initialState(rules(), []), [verified()]).state;

  it('the first acknowledgement stops escalation and starts the acknowledgement timeout', () => {
    const { state, last } = play(triggered, [ack('kari', 2)]);
    expect(kinds(last)).toEqual(['record:acknowledged', 'chat', 'state', 'timer']);
    expect(last.at(-1)).toEqual({ kind: 'timer', name: 'acknowledgement', ms: 30 * minute });
    expect(state).toMatchObject({ state: 'acknowledged', timer: { name: 'acknowledgement', dueAt: at(32) } });
  });

  it('acknowledged again: recorded, and the timeout restarts; nothing else changes', () => {
    const first = play(triggered, [ack('kari', 2)]).state;
    const { state, last } = play(first, [ack('ola', 20)]);
    expect(last).toEqual([
      {
        kind: 'record',
        event: 'acknowledged',
        actor: 'ola',
        detail: 'acknowledged again by ola; acknowledgement timeout restarts',
      },
      { kind: 'timer', name: 'acknowledgement', ms: 30 * minute },
    ]);
    expect(state).toMatchObject({
      acknowledgedBy: 'kari',
      acknowledger: person('kari'),
      acknowledgedAt: first.acknowledgedAt,
      acks: 2,
      timer: { dueAt: at(50) },
    });
  });

  it('ignored while resolving', () => {
    const resolving = play(triggered, [{ type: 'resolve-request', actor: 'kari', now: at(1) }]).state;
    const { state, last } = play(resolving, [ack('ola', 2)]);
    expect(last).toEqual([]);
    expect(state).toEqual(resolving);
  });

  it('a stranger acknowledges: recorded as them, but nobody unknown is re-paged later', () => {
    const { state } = play(triggered, [ack('stranger', 1)]);
    expect(state.acknowledgedBy).toBe('stranger');
    expect(state.acknowledger).toBeUndefined();
  });
});

describe('escalation timeout', () => {
  it('pages the next level, then the final fallback, and no clock runs after the fallback', () => {
    const { state, commands } = play(initialState(rules(), []), [
      verified(),
      timeout('escalation', 5),
      timeout('escalation', 15),
    ]);
    expect(commands[1]).toEqual([
      {
        kind: 'record',
        event: 'escalated',
        actor: 'system',
        detail: 'nobody acknowledged within the timeout; escalating to level 2: OLA, KARI',
      },
      { kind: 'chat', event: 'escalated', title: 'Canvas: escalated', text: 'level 2: OLA, KARI' },
      { kind: 'page', stepIndex: 1, reason: 'escalation', recipients: [person('ola'), person('kari')] },
      { kind: 'timer', name: 'escalation', ms: 10 * minute },
    ]);
    expect(commands[2]).toEqual([
      {
        kind: 'record',
        event: 'escalated',
        actor: 'system',
        detail: 'nobody acknowledged; final fallback: notifying PER',
      },
      { kind: 'chat', event: 'escalated', title: 'Canvas: escalated', text: 'final fallback: PER' },
      { kind: 'page', stepIndex: 2, reason: 'fallback', recipients: [person('per')] },
    ]);
    expect(state.timer).toBeUndefined();
    expect(state.escalationStep).toBe(2);
  });

  it('without a fallback the last level arms no clock: nobody is left to escalate to', () => {
    const r = rules({ policy: { ...policy, finalFallback: undefined } });
    const { state, commands } = play(initialState(r, []), [verified(), timeout('escalation', 5)]);
    expect(pages(commands[1]!)).toEqual(['1:escalation:ola,kari']);
    expect(kinds(commands[1]!)).not.toContain('timer');
    expect(state.timer).toBeUndefined();
    // A timeout nobody armed (a stale one) decides nothing.
    expect(play(state, [timeout('escalation', 20)]).last).toEqual([]);
  });

  it('the repeat cycle is named in the escalation', () => {
    const r = rules({ policy: { ...policy, repeat: 1 } });
    const { commands } = play(initialState(r, []), [
      verified(),
      timeout('escalation', 5),
      timeout('escalation', 15),
    ]);
    expect(commands[2]![0]).toMatchObject({
      detail: 'nobody acknowledged within the timeout; escalating to level 1 (repeat 1): KARI',
    });
  });

  it('a timeout that arrives after an acknowledgement replaced the clock decides nothing', () => {
    const { last } = play(initialState(rules(), []), [verified(), ack('kari', 1), timeout('escalation', 5)]);
    expect(last).toEqual([]);
  });
});

describe('acknowledgement timeout', () => {
  it('back to triggered; the acknowledger and the current level are paged once each; the clock restarts', () => {
    const { state, last } = play(initialState(rules(), []), [
      verified(),
      timeout('escalation', 5),
      ack('ola', 6),
      timeout('acknowledgement', 36),
    ]);
    expect(last).toEqual([
      {
        kind: 'record',
        event: 'ack-timeout',
        actor: 'system',
        detail: 'acknowledged 30m ago and not resolved; back to unacknowledged, escalation resumes',
      },
      { kind: 'state', state: 'triggered' },
      { kind: 'page', stepIndex: 1, reason: 'ack-timeout', recipients: [person('ola'), person('kari')] },
      { kind: 'timer', name: 'escalation', ms: 10 * minute },
    ]);
    expect(state).toMatchObject({ state: 'triggered', escalationStep: 1 });
    expect(state.acknowledgedBy).toBeUndefined();
    expect(state.acknowledger).toBeUndefined();
  });

  it('acknowledged while verifying, then timed out: the first level is the current one', () => {
    const { last } = play(initialState(rules(), []), [
      ack('per', 0),
      verified(1),
      timeout('acknowledgement', 31),
    ]);
    expect(pages(last)).toEqual(['0:ack-timeout:per,kari']);
  });
});

describe('resolve and recovery', () => {
  const acked = play(initialState(rules({ autoPublish: true, notifyResolved: true }), []), [
    verified(),
    ack('kari', 1),
  ]).state;

  it('a resolve request: resolving, the acknowledgement clock stops; recovery starts with monitoring and a probe', () => {
    const { state, commands } = play(acked, [
      { type: 'resolve-request', actor: 'kari', note: 'restarted', now: at(2) },
      { type: 'recovery-start', now: at(2) },
    ]);
    expect(commands[0]).toEqual([
      {
        kind: 'record',
        event: 'resolve-requested',
        actor: 'kari',
        detail: 'kari says it is resolved: restarted; waiting for 2 passing probe round(s) in a row',
      },
      { kind: 'state', state: 'resolving' },
      { kind: 'cancelTimer', name: 'acknowledgement' },
    ]);
    expect(commands[1]).toEqual([{ kind: 'publish', state: 'monitoring' }, { kind: 'probe' }]);
    expect(state.resolveRequestedAt).toBe(new Date(at(2)).toISOString());
    // Asked again while resolving: nothing.
    expect(play(state, [{ type: 'resolve-request', actor: 'ola', now: at(3) }]).last).toEqual([]);
  });

  /** Open states staff can close it from at once (force-resolve, merge): how it got there. */
  const openStates = (): [string, LifecycleEvent[]][] => [
    ['triggered (nobody answered)', [verified()]],
    ['acknowledged', [verified(), ack('kari', 1)]],
    [
      'resolving, with a probe round out',
      [
        verified(),
        ack('kari', 1),
        { type: 'resolve-request', actor: 'kari', now: at(2) },
        { type: 'recovery-start', now: at(2) },
      ],
    ],
  ];

  it.each(openStates())(
    'force-resolve from %s: resolved at once, by its actor, "without probe proof"',
    (_name, before) => {
      const start = play(initialState(rules({ autoPublish: true, notifyResolved: true }), []), before).state;
      const { state, last } = play(start, [
        { type: 'force-resolve', actor: 'kari', reason: 'the host was decommissioned', now: at(5) },
      ]);
      expect(state.state).toBe('resolved');
      expect(last).toContainEqual({
        kind: 'resolve',
        detail: 'resolved without probe proof by kari: the host was decommissioned',
        proof: 'forced',
      });
      expect(last).toContainEqual({
        kind: 'record',
        event: 'resolved',
        actor: 'kari',
        detail: 'resolved without probe proof by kari: the host was decommissioned',
      });
      expect(last).toContainEqual({ kind: 'publish', state: 'resolved' });
      expect(last).toContainEqual({ kind: 'notify-resolved' });
      // No clock keeps running, and nothing is paged any more.
      expect(pages(last)).toEqual([]);
      expect(kinds(last).filter((k) => k === 'timer')).toEqual([]);
      // A probe result that comes back afterwards changes nothing; neither does a second force-resolve.
      expect(play(state, [{ type: 'probe-result', probes: 1, failures: '', now: at(6) }]).last).toEqual([]);
      expect(
        play(state, [{ type: 'force-resolve', actor: 'ola', reason: 'again', now: at(7) }]).last,
      ).toEqual([]);
    },
  );

  it.each(openStates())(
    'merge from %s: closed at once as merged, by its actor, with no publish and no resolved notice',
    (_name, before) => {
      const start = play(initialState(rules({ autoPublish: true, notifyResolved: true }), []), before).state;
      const detail = 'ola merged this incident into web.r2; it has no postmortem of its own';
      const { state, last } = play(start, [{ type: 'merge', actor: 'ola', detail, now: at(5) }]);
      expect(state.state).toBe('resolved');
      expect(last).toContainEqual({ kind: 'resolve', detail, proof: 'merged' });
      expect(last).toContainEqual({ kind: 'record', event: 'merged', actor: 'ola', detail });
      // The incident it joined carries the public story and tells everyone when it is over.
      expect(kinds(last)).not.toContain('publish');
      expect(kinds(last)).not.toContain('notify-resolved');
      expect(pages(last)).toEqual([]);
      expect(kinds(last).filter((k) => k === 'timer')).toEqual([]);
      expect(play(state, [{ type: 'merge', actor: 'kari', detail, now: at(6) }]).last).toEqual([]);
      expect(play(state, [{ type: 'probe-result', probes: 1, failures: '', now: at(6) }]).last).toEqual([]);
    },
  );

  it('N passing rounds in a row resolve it; a failure in between starts the count again', () => {
    const resolving = play(acked, [
      { type: 'resolve-request', actor: 'kari', now: at(2) },
      { type: 'recovery-start', now: at(2) },
    ]).state;
    const pass = (m: number): LifecycleEvent => ({
      type: 'probe-result',
      probes: 2,
      failures: '',
      now: at(m),
    });
    const fail = (m: number): LifecycleEvent => ({
      type: 'probe-result',
      probes: 2,
      failures: 'tcp down',
      now: at(m),
    });
    const { state, commands } = play(resolving, [
      pass(3),
      timeout('recovery-round', 4),
      fail(4),
      timeout('recovery-round', 5),
      fail(5),
      timeout('recovery-round', 6),
      pass(6),
      timeout('recovery-round', 7),
      pass(7),
    ]);
    expect(commands[0]).toEqual([
      { kind: 'record', event: 'recovery-check', actor: 'probe', detail: 'pass 1/2: all 2 probe(s) pass' },
      { kind: 'timer', name: 'recovery-round', ms: minute },
    ]);
    expect(commands[1]).toEqual([{ kind: 'probe' }]);
    expect(kinds(commands[2]!)).toEqual(['record:recovery-check', 'timer']);
    // A second failure in a row is not recorded again.
    expect(kinds(commands[4]!)).toEqual(['timer']);
    expect(commands[8]).toEqual([
      { kind: 'record', event: 'recovery-check', actor: 'probe', detail: 'pass 2/2: all 2 probe(s) pass' },
      { kind: 'resolve', detail: 'recovery proven: 2 passing probe round(s) in a row', proof: 'probes' },
      {
        kind: 'record',
        event: 'resolved',
        actor: 'probe',
        detail: 'recovery proven: 2 passing probe round(s) in a row',
      },
      {
        kind: 'chat',
        event: 'resolved',
        title: 'Canvas is resolved',
        text: 'recovery proven: 2 passing probe round(s) in a row',
      },
      { kind: 'publish', state: 'resolved' },
      { kind: 'notify-resolved' },
    ]);
    expect(state.state).toBe('resolved');
    // Closed: a late round, a timer, an acknowledgement decide nothing.
    expect(play(state, [pass(8), timeout('escalation', 9), ack('kari', 9)]).commands).toEqual([[], [], []]);
  });

  it('recovery not proven within the acknowledgement timeout: back to triggered, the resolver re-paged', () => {
    const r = rules();
    const { state, last } = play(initialState(r, []), [
      verified(),
      { type: 'resolve-request', actor: 'ola', now: at(1) },
      { type: 'recovery-start', now: at(1) },
      { type: 'probe-result', probes: 1, failures: 'still down', now: at(31) },
    ]);
    expect(last).toEqual([
      {
        kind: 'record',
        event: 'recovery-check',
        actor: 'probe',
        detail: 'still failing, incident stays open: still down',
      },
      { kind: 'record', event: 'ack-timeout', actor: 'system', detail: 'recovery not proven within 30m' },
      {
        kind: 'record',
        event: 'ack-timeout',
        actor: 'system',
        detail: 'acknowledged 30m ago and not resolved; back to unacknowledged, escalation resumes',
      },
      { kind: 'state', state: 'triggered' },
      { kind: 'page', stepIndex: 0, reason: 'ack-timeout', recipients: [person('ola'), person('kari')] },
      { kind: 'timer', name: 'escalation', ms: 5 * minute },
    ]);
    expect(state.resolveRequestedAt).toBeUndefined();
    expect(state.recovery).toBeUndefined();
  });

  it('no probe configured: resolved on the responder’s word; nothing published unless it was before', () => {
    const r = rules({ probes: 0 });
    const { commands } = play(initialState(r, []), [
      verified(),
      { type: 'resolve-request', actor: 'kari', now: at(1) },
      { type: 'recovery-start', now: at(1) },
    ]);
    expect(commands[1]![0]).toMatchObject({
      detail: 'kari says it is resolved; no probe is configured, so it is taken on their word',
    });
    expect(kinds(commands[2]!)).toEqual(['resolve', 'record:resolved', 'chat']);
    const published = play(initialState(r, []), [
      verified(),
      { type: 'status-published', now: at(1) },
      { type: 'resolve-request', actor: 'kari', now: at(1) },
      { type: 'recovery-start', now: at(1) },
    ]);
    expect(kinds(published.last)).toEqual(['publish', 'resolve', 'record:resolved', 'chat', 'publish']);
    expect(published.last[1]).toMatchObject({ proof: 'no-probe' });
  });
});

describe('keys: monitors and alerts that reported it', () => {
  it('every key recovered resolves it; one of two only records the recovery', () => {
    const { state, commands } = play(initialState(rules(), ['check:a']), [
      verified(),
      { type: 'reported', key: 'event:b', now: at(1) },
      { type: 'recovered', key: 'check:a', actor: 'monitor', detail: '3 passes', now: at(2) },
      { type: 'recovered', key: 'event:b', actor: 'alertmanager', detail: 'resolved', now: at(3) },
    ]);
    expect(commands[2]).toEqual([
      { kind: 'record', event: 'recovered', actor: 'monitor', detail: 'check:a recovered: 3 passes' },
    ]);
    expect(commands[3]).toEqual([
      { kind: 'record', event: 'recovered', actor: 'alertmanager', detail: 'event:b recovered: resolved' },
      { kind: 'cancelTimer', name: 'escalation' },
      {
        kind: 'resolve',
        detail: 'every failing check and alert recovered (last: event:b: resolved)',
        proof: 'keys',
      },
      {
        kind: 'record',
        event: 'resolved',
        actor: 'probe',
        detail: 'every failing check and alert recovered (last: event:b: resolved)',
      },
      {
        kind: 'chat',
        event: 'resolved',
        title: 'Canvas is resolved',
        text: 'every failing check and alert recovered (last: event:b: resolved)',
      },
    ]);
    expect(state.state).toBe('resolved');
  });

  it('recovered while verifying: the first page still goes out, then it resolves (settle)', () => {
    const { state, commands } = play(initialState(rules(), ['check:a']), [
      { type: 'recovered', key: 'check:a', actor: 'monitor', detail: 'ok', now: at(0) },
      verified(1),
      { type: 'settle', now: at(1) },
    ]);
    expect(kinds(commands[0]!)).toEqual(['record:recovered']);
    expect(pages(commands[1]!)).toEqual(['0:initial:kari']);
    expect(kinds(commands[2]!)).toEqual(['cancelTimer', 'resolve', 'record:resolved', 'chat']);
    expect(commands[2]![1]).toMatchObject({ kind: 'resolve', proof: 'keys' });
    expect(state.state).toBe('resolved');
  });

  it('a declared incident (no key) never resolves by itself', () => {
    const { last } = play(initialState(rules(), []), [
      verified(),
      { type: 'recovered', key: 'check:x', actor: 'monitor', detail: 'ok', now: at(1) },
      { type: 'settle', now: at(1) },
    ]);
    expect(last).toEqual([]);
  });
});

describe('resumed runs (continue-as-new)', () => {
  const base = {
    rules: rules(),
    acks: 1,
    openKeys: [],
    hadKeys: false,
    published: false,
  };
  it('triggered: the escalation that was due, or a fresh wait on the current level', () => {
    const r1 = resumedState(
      { ...base, state: 'triggered', escalationStep: 0 },
      { nextEscalationAt: new Date(at(3)).toISOString() },
      at(1),
    );
    expect(r1.timer).toEqual({ name: 'escalation', dueAt: at(3) });
    const r2 = resumedState({ ...base, state: 'triggered', escalationStep: 0 }, {}, at(1));
    expect(r2.timer).toEqual({ name: 'escalation', dueAt: at(6) });
    const last = resumedState({ ...base, state: 'triggered', escalationStep: 2 }, {}, at(1));
    expect(last.timer).toBeUndefined();
  });
  it('acknowledged: the deadline that was set, or a fresh one', () => {
    const a1 = resumedState(
      { ...base, state: 'acknowledged', escalationStep: 0 },
      { ackDeadlineAt: new Date(at(9)).toISOString() },
      at(1),
    );
    expect(a1.timer).toEqual({ name: 'acknowledgement', dueAt: at(9) });
    const a2 = resumedState({ ...base, state: 'acknowledged', escalationStep: 0 }, {}, at(1));
    expect(a2.timer).toEqual({ name: 'acknowledgement', dueAt: at(31) });
  });
});

describe('purity', () => {
  it('never changes the state it is given', () => {
    const deepFreeze = <T>(o: T): T => {
      if (o && typeof o === 'object') {
        Object.freeze(o);
        for (const v of Object.values(o)) deepFreeze(v);
      }
      return o;
    };
    let s = deepFreeze(initialState(rules({ autoPublish: true }), ['check:a']));
    const events: LifecycleEvent[] = [
      ack('kari', 0),
      verified(1),
      { type: 'resolve-request', actor: 'kari', now: at(2) },
      { type: 'recovery-start', now: at(2) },
      { type: 'probe-result', probes: 1, failures: '', now: at(3) },
      { type: 'recovered', key: 'check:a', actor: 'm', detail: 'ok', now: at(3) },
    ];
    for (const e of events) {
      const before = JSON.stringify(s);
      const d = decide(s, e);
      expect(JSON.stringify(s)).toBe(before);
      s = deepFreeze(d.state);
    }
    expect(s.state).toBe('resolved');
  });
});
