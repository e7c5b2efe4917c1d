import { describe, expect, it } from 'vitest';
import {
  compareSeverity,
  highestSeverity,
  incidentSeverity,
  severityChange,
  severityRule,
} from '../../domain/severity.js';
import { buildIncidentInput } from '../../domain/model.js';
import { validateConfig } from '../../config/load.js';
import type { SeverityChangeInput } from '../../domain/severity.js';

const base: SeverityChangeInput = {
  from: 'P2',
  to: 'P1',
  rule: { autoPublish: true, communicationDeadlineMs: 900_000 },
  state: 'triggered',
  published: false,
  deadlineStarted: false,
};

describe('severityChange', () => {
  it.each([
    [
      'P2 → P1 that auto-publishes, nothing out yet: raised and published now',
      {},
      { outcome: 'raised', publish: true, deadline: undefined },
    ],
    [
      'P2 → P1 already published: raised, nothing more',
      { published: true },
      { outcome: 'raised', publish: false, deadline: undefined },
    ],
    [
      'P3 → P2 with a deadline, no auto-publish: the deadline starts',
      { from: 'P3', to: 'P2', rule: { autoPublish: false, communicationDeadlineMs: 3_600_000 } },
      { outcome: 'raised', publish: false, deadline: 3_600_000 },
    ],
    [
      'P3 → P2 when a deadline ran already: no second one',
      {
        from: 'P3',
        to: 'P2',
        rule: { autoPublish: false, communicationDeadlineMs: 3_600_000 },
        deadlineStarted: true,
      },
      { outcome: 'raised', publish: false, deadline: undefined },
    ],
    [
      'raised while still verifying: verification publishes, nothing now',
      { state: 'verifying' },
      { outcome: 'raised', publish: false, deadline: undefined },
    ],
    [
      'P1 → P3 lowered by staff: recorded, nothing published',
      { from: 'P1', to: 'P3', rule: { autoPublish: false } },
      { outcome: 'lowered', publish: false, deadline: undefined },
    ],
    [
      'acknowledged P2 → P0: published',
      { state: 'acknowledged', to: 'P0' },
      { outcome: 'raised', publish: true, deadline: undefined },
    ],
  ] as [string, Partial<SeverityChangeInput>, { outcome: string; publish: boolean; deadline?: number }][])(
    '%s',
    (_name, change, want) => {
      const d = severityChange({ ...base, ...change });
      expect(d.outcome).toBe(want.outcome);
      if (d.outcome === 'same') throw new Error('unexpected');
      expect(d.publish).toBe(want.publish);
      expect(d.startDeadlineMs).toBe(want.deadline);
      expect(d.detail).toMatch(new RegExp(`^${want.outcome} the severity from P\\d to P\\d`));
    },
  );

  it('the same severity again changes nothing and says so', () => {
    expect(severityChange({ ...base, to: 'P2' })).toEqual({
      outcome: 'same',
      message: 'severity: the incident is already P2',
    });
  });

  it('the timeline line says what followed', () => {
    const d = severityChange(base);
    expect(d.outcome !== 'same' && d.detail).toBe(
      'raised the severity from P2 to P1; the status message is published automatically',
    );
  });
});

describe('highestSeverity', () => {
  it.each([
    [['P2', 'P1'], 'P1'],
    [['P3', undefined, 'P0', 'P2'], 'P0'],
    [['P2'], 'P2'],
    [[], undefined],
  ] as const)('%j → %s', (list, want) => {
    expect(highestSeverity(list)).toBe(want);
  });
  it('compares P0 as the highest', () => {
    expect(compareSeverity('P0', 'P3')).toBe(-1);
    expect(compareSeverity('P3', 'P0')).toBe(1);
    expect(compareSeverity('P1', 'P1')).toBe(0);
  });
});

describe('severityRule', () => {
  it('carries the deadline in ms, and none when unset', () => {
    const severities = {
      P0: { autoPublish: true, postmortemDueDays: 3, communicationDeadline: '10m' },
      P1: { autoPublish: true, postmortemDueDays: 5, communicationDeadline: '15m' },
      P2: { autoPublish: false, postmortemDueDays: 10, communicationDeadline: '1h' },
      P3: { autoPublish: false, postmortemDueDays: 20 },
    };
    expect(severityRule({ severities }, 'P1')).toEqual({
      autoPublish: true,
      postmortemDueDays: 5,
      communicationDeadlineMs: 900_000,
    });
    expect(severityRule({ severities }, 'P3')).toEqual({ autoPublish: false, postmortemDueDays: 20 });
  });
});

describe('incidentSeverity: the highest among the detection and the affected services', () => {
  it.each([
    ['P2 host, no dependents', undefined, 'P2', [], { severity: 'P2' }],
    [
      'P2 host under a P1 integration',
      undefined,
      'P2',
      [{ id: 'fs-canvas', severity: 'P1' }],
      { severity: 'P1', from: 'fs-canvas' },
    ],
    [
      'a P0 alert on a P2 host under a P1 integration',
      'P0',
      'P2',
      [{ id: 'fs-canvas', severity: 'P1' }],
      { severity: 'P0' },
    ],
    [
      'a P3 alert on a P2 host under a P1 integration',
      'P3',
      'P2',
      [{ id: 'fs-canvas', severity: 'P1' }],
      { severity: 'P1', from: 'fs-canvas' },
    ],
    [
      'the highest of two dependents',
      undefined,
      'P3',
      [
        { id: 'a', severity: 'P2' },
        { id: 'b', severity: 'P0' },
      ],
      { severity: 'P0', from: 'b' },
    ],
    ['a lower dependent changes nothing', undefined, 'P1', [{ id: 'a', severity: 'P3' }], { severity: 'P1' }],
  ] as const)('%s', (_name, detected, own, affected, expected) => {
    expect(incidentSeverity(detected, own, affected)).toEqual(expected);
  });

  it('is never lower than any input (property, all combinations of up to 3 affected)', () => {
    const all = ['P0', 'P1', 'P2', 'P3'] as const;
    const opt = [undefined, ...all];
    for (const d of opt)
      for (const own of all)
        for (const a of opt)
          for (const b of opt) {
            const affected = [a, b]
              .filter((x) => x !== undefined)
              .map((s, i) => ({ id: `s${i}`, severity: s! }));
            const r = incidentSeverity(d, own, affected).severity;
            expect(r).toBe(highestSeverity([d ?? own, ...affected.map((x) => x.severity)]));
          }
  });

  it('buildIncidentInput opens a P2 host incident as P1 when a P1 integration depends on it, with the P1 rule', () => {
    const config = validateConfig(
      {
        contacts: [{ id: 'kari', name: 'Kari', email: 'kari@test.local' }],
        policies: [
          { id: 'chain', levels: [{ notify: ['kari'], ackTimeout: '5m' }], acknowledgementTimeout: '1h' },
        ],
        services: [
          { id: 'host', name: 'data-sync host', owner: 'kari', policy: 'chain', severity: 'P2' },
          {
            id: 'canvas',
            name: 'FS → Canvas',
            owner: 'kari',
            policy: 'chain',
            severity: 'P1',
            dependsOn: ['host'],
          },
        ],
      },
      'test',
    );
    const input = buildIncidentInput(config, 'host', {
      eventId: 'e',
      source: 'probe',
      actor: 'm',
      reason: 'r',
    });
    expect(input.severity).toBe('P1');
    expect(input.autoPublish).toBe(config.severities.P1.autoPublish);
    expect(input.detection.severity).toBe('P1');
    expect(input.detection.severityRule).toEqual(severityRule(config, 'P1'));
  });
});
