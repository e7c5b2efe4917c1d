import { describe, expect, it } from 'vitest';
import { opsgenieNamedService, opsgenieReason, opsgenieSeverity } from '../../domain/opsgenie.js';

describe('Opsgenie priority → severity', () => {
  it.each([
    // priority, service floor, expected
    ['P1', 'P3', 'P1'],
    ['P2', 'P3', 'P2'],
    ['P3', 'P3', 'P3'],
    ['P4', 'P3', 'P3'],
    ['P5', 'P3', 'P3'],
    [undefined, 'P3', 'P3'], // Opsgenie's default is P3
    ['', 'P2', 'P2'],
    ['P1', 'P0', 'P0'], // never less severe than the service's own severity
    ['P5', 'P1', 'P1'],
    ['P2', 'P1', 'P1'],
    ['P1', 'P2', 'P1'],
    ['bogus', 'P3', 'P3'],
  ] as const)('%s on a %s service → %s', (priority, floor, expected) => {
    expect(opsgenieSeverity(priority, floor)).toBe(expected);
  });
});

describe('the service an Opsgenie alert names', () => {
  const configured = new Set(['fs-canvas', 'datasync02']);
  it.each([
    [{ details: { service: 'datasync02' } }, { service: 'datasync02', field: 'details.service' }],
    [{ entity: 'fs-canvas' }, { service: 'fs-canvas', field: 'entity' }],
    [
      { details: { service: 'datasync02' }, entity: 'fs-canvas' },
      { service: 'datasync02', field: 'details.service' },
    ],
    [
      { details: { service: 'nope' }, entity: 'fs-canvas' },
      { service: 'fs-canvas', field: 'entity' },
    ],
    [{ entity: 'An example entity' }, undefined],
    [{}, undefined],
  ])('%j → %j', (alert, expected) => {
    expect(opsgenieNamedService(alert, configured)).toEqual(expected);
  });
});

describe('the reason an Opsgenie alert gives', () => {
  it.each([
    [{ message: 'Disk full' }, 'Disk full'],
    [{ message: 'Disk full', entity: 'db01' }, 'Disk full (db01)'],
    [{ message: 'Disk full', entity: 'db01', source: 'Zabbix' }, 'Disk full (db01, Zabbix)'],
    [{ message: 'Disk full', entity: '', source: ' ' }, 'Disk full'],
  ])('%j → %s', (alert, expected) => {
    expect(opsgenieReason(alert)).toBe(expected);
  });
  it('is clipped to the limit', () => {
    expect(opsgenieReason({ message: 'x'.repeat(3000) })).toHaveLength(2000);
  });
});
