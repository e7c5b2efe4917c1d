import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, formatPath, loadConfigFile, parseConfig } from '../../config/load.js';
import { affectedServices, buildIncidentInput, checksForService } from '../../domain/model.js';

const errorsOf = (text: string) => {
  try {
    parseConfig(text, 'test.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
};

describe('config/example.yaml', () => {
  const config = loadConfigFile('config/example.yaml');

  it('models the seed incident: the data-sync host, the integration, 25 institutions, the on-call chain', () => {
    expect(config.services.map((s) => s.id)).toEqual(['datasync02', 'fs-canvas']);
    const affected = affectedServices(config, 'datasync02');
    expect(affected.map((a) => [a.id, a.subscribers])).toEqual([
      ['datasync02', 0],
      ['fs-canvas', 25],
    ]);
    const input = buildIncidentInput(config, 'fs-canvas', {
      eventId: 'e',
      source: 'api',
      actor: 'kari',
      reason: 'r',
    });
    // Level 1 is whoever of the integration team (Kari, Ola: weekly) is on call when it pages.
    expect(
      input.plan
        .filter((s) => s.cycle === 0)
        .map((s) => [...s.recipients.map((r) => r.id), ...(s.schedules ?? [])]),
    ).toEqual([['integration'], ['ingrid'], ['per']]);
    expect(config.schedules[0]!.layers[0]!.rotation).toMatchObject({
      participants: ['kari', 'ola'],
      shiftUnit: 'weeks',
    });
    expect(checksForService(config, 'fs-canvas').map((c) => c.id)).toEqual([
      'datasync02-ssh',
      'datasync02-export-fresh',
    ]);
  });
});

describe('config validation', () => {
  it('reports every error with its path', () => {
    const errors = errorsOf(`
contacts:
  - { id: kari, name: Kari, email: not-an-email }
policies:
  - id: chain
    levels: [{ notify: [nobody], ackTimeout: 5x }]
    acknowledgementTimeout: 1h
services:
  - { id: fs-canvas, name: FS, owner: kari, policy: oncall, dependsOn: [ghost] }
checks:
  - { id: a, service: fs-canvas, kind: ftp }
  - { id: b, service: fs-canvas, kind: ssh, host: h, fingerprint: "MD5:ab" }
  - { id: c, service: fs-canvas, kind: tcp, host: h, port: 1, failThreshold: 0 }
  - { id: d, service: fs-canvas, kind: tcp, host: h, port: 1, interval: 5s, timeout: 10s }
`);
    expect(errors).toEqual([
      'contacts[0].email: not an email address',
      'policies[0].levels[0].ackTimeout: expected a duration: seconds as a number, or a string such as 30s, 15m, 2h, 1d',
      'checks[0].kind: unknown probe kind "ftp" (one of ssh, sftpFileAge, http, tcp, heartbeat)',
      'checks[1].fingerprint: malformed host-key fingerprint: expected SHA256:<43 base64 characters>, as `ssh-keygen -lf` prints it',
      'checks[2].failThreshold: must be >= 1',
      'policies[0].levels[0].notify[0]: unknown contact "nobody"',
      'services[0].policy: unknown policy "oncall"',
      'services[0].dependsOn[0]: unknown service "ghost"',
      "checks[3].interval: interval (5s) is below the probe's timeout (10s)",
    ]);
  });

  it('checks heartbeats, maintenance windows, integrations, webhooks and deadlines', () => {
    const errors = errorsOf(`
contacts: [{ id: kari, name: Kari, email: kari@x.no }]
teams: [{ id: t, name: T, members: [kari], webhooks: [{ format: slack }, { format: teams, url: "https://x", urlEnv: HOOK }] }]
policies: [{ id: p, levels: [{ notify: [kari], ackTimeout: 1m }], acknowledgementTimeout: 1h }]
services: [{ id: s, name: S, owner: kari, policy: p }]
checks: [{ id: hb, service: s, kind: heartbeat, period: 1d }]
maintenance: [{ checks: [nope], from: "2026-01-02T00:00:00Z", until: "2026-01-01T00:00:00Z" }]
integrations: [{ id: pd, kind: pagerduty, service: ghost, services: [s, phantom] }]
severities:
  P0: { autoPublish: true, postmortemDueDays: 1, communicationDeadline: soon }
  P1: { autoPublish: true, postmortemDueDays: 1 }
  P2: { autoPublish: false, postmortemDueDays: 1 }
  P3: { autoPublish: false, postmortemDueDays: 1 }
`);
    expect(errors).toEqual([
      'severities.P0.communicationDeadline: expected a duration: seconds as a number, or a string such as 30s, 15m, 2h, 1d',
      'teams[0].webhooks[0]: give exactly one of url or urlEnv',
      'teams[0].webhooks[1]: give exactly one of url or urlEnv',
      'checks[0]: a heartbeat check needs tokenSha256 or tokenEnv',
      'maintenance[0].checks[0]: unknown check "nope"',
      'maintenance[0].until: must be after "from"',
      'integrations[0].service: unknown service "ghost"',
      'integrations[0].services[1]: unknown service "phantom"',
      'integrations[0]: needs keySha256 or keyEnv (the routing key / token is a secret)',
    ]);
  });

  it('names unknown fields and missing ones', () => {
    expect(
      errorsOf('contacts: [{ id: k, name: K, email: k@x.no, phone: 1 }]\npolicies: []\nservices: []'),
    ).toEqual([
      'contacts[0]: unknown field "phone"',
      'policies: must not have fewer than 1 items',
      'services: must not have fewer than 1 items',
    ]);
  });

  it('reports YAML syntax errors with line and column', () => {
    expect(errorsOf('contacts: [\n  - a')[0]).toMatch(/^line \d+, column \d+: /);
  });

  it('formats JSON pointers as paths', () => {
    expect(formatPath('/services/2/policy')).toBe('services[2].policy');
    expect(formatPath('/a/0/b/1')).toBe('a[0].b[1]');
  });

  it('an invalid file stops the worker with a non-zero exit and every error', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'contacts: []\npolicies: []\nservices: [{ id: x }]\n');
    const r = spawnSync(path.resolve('node_modules/.bin/tsx'), ['worker/main.ts'], {
      env: { ...process.env, INCIDENT_CONFIG: file, TEMPORAL_ADDRESS: '127.0.0.1:1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('contacts: must not have fewer than 1 items');
    expect(r.stderr).toContain('services[0]: missing required fields "name", "owner", "policy"');
  });
});
