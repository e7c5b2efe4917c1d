/** `npm run config:check [file]`: every error with its path and exit code 2; a good file exits 0. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const tmp = mkdtempSync(path.join(tmpdir(), 'config-check-'));
const run = (...args: string[]) =>
  spawnSync(path.resolve('node_modules/.bin/tsx'), ['scripts/config-check.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, INCIDENT_CONFIG: '' },
  });

describe('npm run config:check', () => {
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('accepts the example configuration', () => {
    const r = run('config/example.yaml');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/config\/example\.yaml: ok \(\d+ services, \d+ checks/);
  });

  it('reports every error with its path and exits 2', () => {
    const file = path.join(tmp, 'bad.yaml');
    writeFileSync(
      file,
      [
        'contacts: [{ id: kari, name: Kari, email: kari@example.edu }]',
        'policies: [{ id: p, levels: [{ notify: [kari], ackTimeout: 5m }] }]',
        'services:',
        '  - { id: a, name: A, owner: kari, policy: oncall, severity: P1 }',
        '  - { id: b, name: B, owner: nobody, policy: p, severity: P9 }',
        'checks: [{ id: c, service: a, kind: tcp, host: 127.0.0.1, port: 99999, interval: 1m }]',
      ].join('\n'),
    );
    const r = run(file);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml: \d+ configuration errors:/);
    expect(r.stderr).toContain('services[1].severity');
    expect(r.stderr).toContain('checks[0].port');
    expect(r.stdout).toBe('');
  });

  it('names a file that cannot be read', () => {
    const r = run(path.join(tmp, 'missing.yaml'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/missing\.yaml: 1 configuration error:\n {2}- \(root\): cannot read file/);
  });
});
