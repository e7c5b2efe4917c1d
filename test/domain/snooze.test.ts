import { describe, expect, it } from 'vitest';
import { formatSnoozeTime, parseSnoozeUntil, snoozeDecision } from '../../domain/snooze.js';
import { decide, initialState, type LifecycleRules } from '../../domain/incident-lifecycle.js';
import type { EscalationStep, Recipient } from '../../domain/incident.js';

const now = Date.parse('2026-12-03T12:00:00Z');

describe('snoozeDecision', () => {
  it.each<[string, unknown, string, ReturnType<typeof snoozeDecision>]>([
    ['a duration from now', '30m', 'acknowledged', { outcome: 'snooze', until: now + 30 * 60_000 }],
    ['seconds', '5s', 'acknowledged', { outcome: 'snooze', until: now + 5_000 }],
    [
      'a UTC time',
      '2026-12-03T14:00:00Z',
      'acknowledged',
      { outcome: 'snooze', until: Date.parse('2026-12-03T14:00:00Z') },
    ],
    [
      'a time with an offset',
      '2026-12-03T15:00:00+01:00',
      'acknowledged',
      { outcome: 'snooze', until: Date.parse('2026-12-03T14:00:00Z') },
    ],
    ['exactly 24 hours', '24h', 'acknowledged', { outcome: 'snooze', until: now + 86_400_000 }],
    [
      'more than 24 hours',
      '25h',
      'acknowledged',
      { outcome: 'invalid', message: 'until: at most 24 hours ahead' },
    ],
    [
      'a time in the past',
      '2026-12-03T11:59:00Z',
      'acknowledged',
      { outcome: 'invalid', message: 'until: that time has passed' },
    ],
    [
      'now is not ahead',
      '0s',
      'acknowledged',
      { outcome: 'invalid', message: 'until: that time has passed' },
    ],
    [
      'a time without a zone is ambiguous',
      '2026-12-03T14:00:00',
      'acknowledged',
      {
        outcome: 'invalid',
        message:
          'until: "2026-12-03T14:00:00" is neither a time with a zone (2026-12-03T14:00:00Z) nor a duration (30m)',
      },
    ],
    [
      'nothing',
      '',
      'acknowledged',
      { outcome: 'invalid', message: 'until: say until when (a UTC time, or a duration like 30m)' },
    ],
    [
      'not a string',
      42,
      'acknowledged',
      { outcome: 'invalid', message: 'until: say until when (a UTC time, or a duration like 30m)' },
    ],
    [
      'unacknowledged: conflict',
      '30m',
      'triggered',
      {
        outcome: 'conflict',
        message: 'state: only an acknowledged incident can be snoozed; this one is triggered',
      },
    ],
    [
      'being resolved: conflict',
      '30m',
      'resolving',
      {
        outcome: 'conflict',
        message: 'state: only an acknowledged incident can be snoozed; this one is resolving',
      },
    ],
  ])('%s', (_name, until, state, expected) => {
    expect(snoozeDecision({ until, now, state: state as never })).toEqual(expected);
  });

  it('bad input is 400 before the state is 409', () => {
    expect(snoozeDecision({ until: '48h', now, state: 'triggered' }).outcome).toBe('invalid');
  });

  it('parses and formats to the second', () => {
    expect(parseSnoozeUntil(' 90s ', now)).toBe(now + 90_000);
    expect(parseSnoozeUntil('soon', now)).toBeUndefined();
    expect(formatSnoozeTime(now + 5_000)).toBe('2026-12-03 12:00:05 UTC');
  });
});

describe('the lifecycle of a snooze', () => {
  const kari: Recipient = { id: 'kari', name: 'Kari Nordmann', email: 'kari@test.local' };
  const ola: Recipient = { id: 'ola', name: 'Ola Hansen', email: 'ola@test.local' };
  const plan: EscalationStep[] = [
    { level: 1, cycle: 0, fallback: false, recipients: [kari], waitMs: 60_000 },
    { level: 2, cycle: 0, fallback: false, recipients: [ola], waitMs: 60_000 },
  ];
  const rules: LifecycleRules = {
    serviceName: 'export',
    plan,
    owner: kari,
    acknowledgementTimeoutMs: 600_000,
    probes: 0,
    recoveryPasses: 2,
    recoveryIntervalMs: 1_000,
    autoPublish: false,
    notifyResolved: true,
  };
  const acknowledged = () => {
    let s = decide(initialState(rules, []), { type: 'verified', now }).state;
    s = decide(s, { type: 'acknowledge', actor: 'kari', now }).state;
    return s;
  };

  it('replaces the acknowledgement timeout; at its end it is triggered and the level paged again', () => {
    const snoozed = decide(acknowledged(), { type: 'snooze', actor: 'kari', until: now + 3_600_000, now });
    expect(snoozed.state.timer).toEqual({ name: 'acknowledgement', dueAt: now + 3_600_000 });
    expect(snoozed.commands).toContainEqual({
      kind: 'record',
      event: 'snoozed',
      actor: 'kari',
      detail: 'kari snoozed until 2026-12-03 13:00:00 UTC; then it is paged again unless resolved',
    });
    const over = decide(snoozed.state, { type: 'timeout', timer: 'acknowledgement', now: now + 3_600_000 });
    expect(over.state.state).toBe('triggered');
    expect(over.state.snooze).toBeUndefined();
    expect(over.commands).toContainEqual({
      kind: 'record',
      event: 'ack-timeout',
      actor: 'system',
      detail:
        'the snooze until 2026-12-03 13:00:00 UTC is over and it is not resolved; back to unacknowledged, escalation resumes',
    });
    expect(over.commands).toContainEqual({
      kind: 'page',
      stepIndex: 0,
      reason: 'snoozed',
      recipients: [kari],
    });
  });

  it('acknowledging again ends the snooze (the usual timeout runs); a triggered incident is not snoozed', () => {
    const snoozed = decide(acknowledged(), { type: 'snooze', actor: 'kari', until: now + 3_600_000, now });
    const again = decide(snoozed.state, { type: 'acknowledge', actor: 'ola', now: now + 1_000 });
    expect(again.state.snooze).toBeUndefined();
    expect(again.state.timer).toEqual({ name: 'acknowledgement', dueAt: now + 1_000 + 600_000 });
    const triggered = decide(initialState(rules, []), { type: 'verified', now }).state;
    expect(decide(triggered, { type: 'snooze', actor: 'kari', until: now + 60_000, now }).commands).toEqual(
      [],
    );
  });
});
