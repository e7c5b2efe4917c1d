/** Builds a small, valid configuration for a test, with ids unique to the test. */
import { randomUUID } from 'node:crypto';
import type { Config } from '../../domain/config-schema.js';
import { validateConfig } from '../../config/load.js';

export interface TestConfigOptions {
  ssh?: { port: number; fingerprint?: string };
  levelTimeout?: string;
  acknowledgementTimeout?: string;
  severity?: 'P0' | 'P1' | 'P2' | 'P3';
  verifyAttempts?: number;
  recoveryPasses?: number;
  repeat?: number;
}

export function testConfig(o: TestConfigOptions = {}): { config: Config; serviceId: string } {
  const serviceId = `svc-${randomUUID().slice(0, 8)}`;
  const raw = {
    contacts: [
      { id: 'kari', name: 'Kari Nordmann', email: 'kari@test.local' },
      { id: 'ola', name: 'Ola Hansen', email: 'ola@test.local' },
      { id: 'ingrid', name: 'Ingrid Berg', email: 'ingrid@test.local' },
      { id: 'per', name: 'Per Johansen', email: 'per@test.local' },
    ],
    policies: [
      {
        id: 'chain',
        levels: [
          { notify: ['kari'], ackTimeout: o.levelTimeout ?? '3s' },
          { notify: ['ola'], ackTimeout: o.levelTimeout ?? '3s' },
          { notify: ['ingrid'], ackTimeout: o.levelTimeout ?? '3s' },
        ],
        repeat: o.repeat ?? 0,
        finalFallback: { notify: ['per'] },
        acknowledgementTimeout: o.acknowledgementTimeout ?? '10m',
      },
    ],
    services: [
      {
        id: `${serviceId}-host`,
        name: 'data-sync host',
        type: 'host',
        owner: 'kari',
        policy: 'chain',
        severity: 'P1',
      },
      {
        id: serviceId,
        name: 'FS → Canvas integration',
        owner: 'kari',
        policy: 'chain',
        severity: o.severity ?? 'P1',
        dependsOn: [`${serviceId}-host`],
        component: 'Student system → Canvas integration',
        subscribers: Array.from({ length: 25 }, (_, i) => ({ name: `Institution ${i + 1}` })),
      },
    ],
    checks: o.ssh
      ? [
          {
            id: `${serviceId}-ssh`,
            service: `${serviceId}-host`,
            kind: 'ssh',
            host: '127.0.0.1',
            port: o.ssh.port,
            fingerprint: o.ssh.fingerprint,
            timeout: '2s',
            interval: '5s',
          },
        ]
      : [],
    incidents: {
      verifyAttempts: o.verifyAttempts ?? 1,
      verifyInterval: '1s',
      recoveryPasses: o.recoveryPasses ?? 2,
      recoveryInterval: '1s',
    },
  };
  return { config: validateConfig(JSON.parse(JSON.stringify(raw)), 'test'), serviceId };
}
