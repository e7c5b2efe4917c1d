import { describe, expect, it } from 'vitest';
import {
  changeMatches,
  changeTargets,
  filterChanges,
  pruneChanges,
  type ChangeEvent,
} from '../../domain/changes.js';
import type { Check } from '../../domain/config-schema.js';
import { buildIncidentView } from '../helpers/incident-fixture.js';

const change = (id: string, at: string, hosts: string[] = [], services: string[] = []): ChangeEvent => ({
  id,
  who: 'netops',
  what: `change ${id}`,
  hosts,
  services,
  at,
  recordedBy: 'kari',
  recordedAt: at,
});

describe('changes', () => {
  it.each([
    [['w3prod-datasync02.example.edu'], [], ['w3prod-datasync02'], true],
    [['W3PROD-DATASYNC02'], [], ['w3prod-datasync02.example.edu.'], true],
    [[], ['fs-canvas'], ['fs-canvas', 'datasync02'], true],
    [['w3prod-web01'], ['canvas'], ['w3prod-datasync02', 'fs-canvas'], false],
  ])('hosts %j services %j concern %j: %s', (hosts, services, targets, expected) => {
    expect(changeMatches({ hosts, services }, targets)).toBe(expected);
  });

  it('filters by window and targets, oldest first', () => {
    const all = [
      change('late', '2022-06-14T08:00:00Z', ['w3prod-datasync02']),
      change('fw', '2022-06-13T15:00:00Z', ['w3prod-datasync02.example.edu']),
      change('old', '2022-06-12T15:00:00Z', ['w3prod-datasync02']),
      change('other', '2022-06-13T16:00:00Z', ['w3prod-web01']),
    ];
    const found = filterChanges(all, {
      from: '2022-06-13T07:10:00Z',
      to: '2022-06-14T09:11:00Z',
      targets: ['w3prod-datasync02'],
    });
    expect(found.map((c) => c.id)).toEqual(['fw', 'late']);
    expect(filterChanges(all, {}).map((c) => c.id)).toEqual(['old', 'fw', 'other', 'late']);
  });

  it('keeps a backfilled old change for the retention after it is recorded', () => {
    const now = Date.parse('2022-06-14T00:00:00Z');
    const old = { ...change('old', '2021-01-01T00:00:00Z', ['h']), recordedAt: '2022-06-13T00:00:00Z' };
    expect(pruneChanges([old], now, { retentionMs: 86_400_000, maxEntries: 10 })).toEqual([old]);
    expect(pruneChanges([old], now + 2 * 86_400_000, { retentionMs: 86_400_000, maxEntries: 10 })).toEqual(
      [],
    );
  });

  it('keeps what is within the retention, at most maxEntries, the newest', () => {
    const now = Date.parse('2022-06-14T00:00:00Z');
    const all = [
      change('a', '2022-05-01T00:00:00Z', ['h']),
      change('b', '2022-06-10T00:00:00Z', ['h']),
      change('c', '2022-06-11T00:00:00Z', ['h']),
      change('d', '2022-06-12T00:00:00Z', ['h']),
    ];
    expect(pruneChanges(all, now, { retentionMs: 30 * 86_400_000, maxEntries: 10 }).map((c) => c.id)).toEqual(
      ['b', 'c', 'd'],
    );
    expect(pruneChanges(all, now, { retentionMs: 30 * 86_400_000, maxEntries: 2 }).map((c) => c.id)).toEqual([
      'c',
      'd',
    ]);
  });

  it('takes the targets from the service, what is affected, and the checks’ services and hosts', () => {
    const checks = [
      { id: 'ssh', service: 'datasync02', kind: 'ssh', host: 'w3prod-datasync02.example.edu', port: 22 },
      { id: 'web', service: 'fs-canvas', kind: 'http', url: 'https://user@canvas.example.edu:8443/health' },
    ] as unknown as Check[];
    expect(changeTargets(buildIncidentView(), checks)).toEqual([
      'fs-canvas',
      'canvas-enrolment',
      'datasync02',
      'w3prod-datasync02.example.edu',
      'canvas.example.edu',
    ]);
  });
});
