/**
 * On-call schedules in the configuration: bad schedules are errors naming the path; a schedule with
 * nobody on call for a while is a warning naming the period in the schedule's zone.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, configWarnings, parseConfig } from '../../config/load.js';

const base = (schedules: string, notify = '[schedule:integration]') => `
contacts:
  - { id: kari, name: Kari Nordmann, email: kari@example.org }
  - { id: ola, name: Ola Hansen, email: ola@example.org }
  - { id: ingrid, name: Ingrid Berg, email: ingrid@example.org }
schedules:
${schedules}
policies:
  - id: chain
    levels:
      - { notify: ${notify}, ackTimeout: 5m }
      - { notify: [ingrid], ackTimeout: 5m }
    acknowledgementTimeout: 1h
services:
  - { id: fs-canvas, name: FS, owner: kari, policy: chain }
`;

const weekly = `
  - id: integration
    name: Integration team
    layers:
      - name: weekly
        rotation:
          participants: [kari, ola]
          shiftLength: 1
          shiftUnit: weeks
          handoff: '09:00'
          timeZone: Europe/Oslo
          start: '2026-11-30'
`;

const errorsOf = (text: string) => {
  try {
    parseConfig(text, 'test.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
};

describe('schedules in the config', () => {
  it('accepts a weekly rotation targeted by a policy level', () => {
    const c = parseConfig(base(weekly), 'test.yaml');
    expect(c.schedules[0]!.layers[0]!.rotation.participants).toEqual(['kari', 'ola']);
    expect(c.policies[0]!.levels[0]!.notify).toEqual(['schedule:integration']);
    // Always someone on call: no warning.
    expect(configWarnings(c, Date.parse('2026-12-02T12:00:00Z'))).toEqual([]);
  });

  it('names the path of an unknown participant, a zero-length shift, an unknown zone, a bad handoff, overlapping windows and an unknown schedule', () => {
    const errors = errorsOf(
      base(
        `
  - id: integration
    name: Integration team
    layers:
      - rotation:
          participants: [kari, nobody]
          shiftLength: 0
          shiftUnit: weeks
          handoff: '25:00'
          timeZone: Europe/Osloo
          start: '2026-11-30'
      - rotation: { participants: [ola], shiftLength: 1, shiftUnit: days, handoff: '08:00', timeZone: Europe/Oslo, start: '2026-02-30' }
        restrictions:
          - { days: [mon, tue], start: '08:00', end: '16:00' }
          - { days: [tue], start: '15:00', end: '18:00' }
          - { start: '10:00', end: '10:00' }
`,
        '[schedule:integration, schedule:ghost]',
      ),
    );
    expect(errors).toEqual(
      expect.arrayContaining([
        'schedules[0].layers[0].rotation.participants[1]: unknown contact "nobody"',
        expect.stringMatching(/^schedules\[0\]\.layers\[0\]\.rotation\.shiftLength: /),
        'schedules[0].layers[0].rotation.timeZone: unknown time zone "Europe/Osloo"',
        'schedules[0].layers[0].rotation.handoff: must be a local time HH:MM, not "25:00"',
        'schedules[0].layers[1].rotation.start: must be a date YYYY-MM-DD, not "2026-02-30"',
        'schedules[0].layers[1].restrictions[1]: overlaps restrictions[0] (tue 15:00–18:00)',
        'schedules[0].layers[1].restrictions[2]: window 10:00–10:00 is empty',
        'policies[0].levels[0].notify[1]: unknown schedule "ghost"',
      ]),
    );
  });

  it('warns about a 6-hour gap, naming the period in the schedule zone', () => {
    // Every day but Tuesday 02:00–08:00 (Oslo).
    const c = parseConfig(
      base(`
  - id: integration
    name: Integration team
    layers:
      - rotation: { participants: [kari, ola], shiftLength: 1, shiftUnit: weeks, handoff: '09:00', timeZone: Europe/Oslo, start: '2026-11-30' }
        restrictions:
          - { days: [wed, thu, fri, sat, sun, mon], start: '00:00', end: '24:00' }
          - { days: [tue], start: '00:00', end: '02:00' }
          - { days: [tue], start: '08:00', end: '24:00' }
`),
      'test.yaml',
    );
    const warnings = configWarnings(c, Date.parse('2026-12-02T12:00:00Z'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.path).toBe('schedules[0]');
    expect(warnings[0]!.message).toBe(
      'nobody on call in schedule "integration" Tue 2026-12-08 02:00 – Tue 2026-12-08 08:00 Europe/Oslo (6 h); ' +
        'Tue 2026-12-15 02:00 – Tue 2026-12-15 08:00 Europe/Oslo (6 h); ' +
        'Tue 2026-12-22 02:00 – Tue 2026-12-22 08:00 Europe/Oslo (6 h); and 1 more gap(s) in the next 28 days',
    );
  });

  it('warns about a rotation that has not started yet', () => {
    const c = parseConfig(base(weekly.replace("'2026-11-30'", "'2026-12-07'")), 'test.yaml');
    expect(configWarnings(c, Date.parse('2026-12-02T12:00:00Z')).map((w) => w.message)).toEqual([
      'nobody on call in schedule "integration" Wed 2026-12-02 13:00 – Mon 2026-12-07 09:00 Europe/Oslo (116 h)',
    ]);
  });
});
