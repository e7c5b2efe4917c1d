/**
 * The README's quick start, for real: `npm start` (scripts/start.ts) brings up Temporal with its UI,
 * the worker and the API on the example config; a curl-equivalent declaration puts a page in the
 * outbox; Ctrl-C (SIGINT) stops everything.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, getRetentionSeconds } from '../../scripts/dev-server.js';
import { eventually } from '../helpers/harness.js';

describe('npm start (embedded default)', () => {
  let proc: ChildProcess | undefined;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'incident-start-'));
  let output = '';

  afterAll(async () => {
    if (proc && proc.exitCode === null) {
      proc.kill('SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the API and the Temporal UI, pages into the outbox, and stops on Ctrl-C; incidents survive a restart', async () => {
    const [temporalPort, uiPort, apiPort, recordsPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const start = () => {
      const p = spawn(path.resolve('node_modules/.bin/tsx'), ['scripts/start.ts'], {
        env: {
          ...process.env,
          DATA_DIR: dataDir,
          TEMPORAL_PORT: String(temporalPort),
          TEMPORAL_UI_PORT: String(uiPort),
          PORT: String(apiPort),
          RECORDS_PORT: String(recordsPort),
          DATABASE_URL: '',
          STAFF_TOKENS: '',
          SMTP_URL: '',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      p.stdout!.on('data', (d) => (output += d));
      p.stderr!.on('data', (d) => (output += d));
      return p;
    };
    proc = start();

    const api = `http://127.0.0.1:${apiPort}`;
    await eventually(
      async () => (await fetch(`${api}/readyz`)).status === 200,
      90_000,
      `the API (output so far: ${output})`,
    );
    const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
    expect(ui.status).toBe(200);
    // The record store is embedded (nothing installed), and histories are kept 7 days on purpose.
    expect(output).toContain('record store: embedded PostgreSQL (PGlite)');
    expect(existsSync(path.join(dataDir, 'records'))).toBe(true);
    expect(await getRetentionSeconds(`127.0.0.1:${temporalPort}`)).toBe(7 * 24 * 3600);
    expect(output).toContain('staff token for "kari"');

    const token = readFileSync(path.join(dataDir, 'staff-token'), 'utf8').trim();
    expect(output).not.toContain(token);
    const declared = await fetch(`${api}/api/incidents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'fs-canvas', reason: 'institutions cannot fetch the XML export' }),
    });
    expect(declared.status).toBe(201);

    const outbox = path.join(dataDir, 'outbox');
    const eml = await eventually(
      async () =>
        existsSync(outbox) && readdirSync(outbox).find((f) => f.endsWith('.eml') && f.includes('level-1')),
      60_000,
      'a level-1 page in the outbox',
    );
    const mail = readFileSync(path.join(outbox, eml), 'utf8');
    // Level 1 is the integration team's weekly rotation: whoever of Kari and Ola is on call now.
    const oncall = (await (
      await fetch(`${api}/api/oncall`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { policies: { id: string; levels: { now: { name: string }[] }[] }[] };
    const onCallNow = oncall.policies.find((p) => p.id === 'fs-canvas-chain')!.levels[0]!.now[0]!.name;
    expect(['Kari Nordmann', 'Ola Hansen']).toContain(onCallNow);
    expect(mail).toMatch(new RegExp(`^To: ${onCallNow} <`, 'm'));
    expect(output).toMatch(/written to outbox/);

    proc.kill('SIGINT');
    const code = await new Promise<number | null>((r) => proc!.once('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(output).toContain('[start] stopped');
    // The dev server kept its state in the data folder: the incident survives a restart.
    expect(existsSync(path.join(dataDir, 'temporal.db'))).toBe(true);
    const { incident } = (await declared.json()) as { incident: { id: string } };
    proc = start();
    await eventually(
      async () => (await fetch(`${api}/readyz`)).status === 200,
      90_000,
      'the API after a restart',
    );
    const again = await fetch(`${api}/api/incidents/${incident.id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(again.status).toBe(200);
    const view = (await again.json()) as { state: string; timeline: { kind: string }[] };
    expect(view.state).toBe('triggered');
    // Its record came back from the embedded store's folder.
    expect(view.timeline.map((e) => e.kind)).toEqual(
      expect.arrayContaining(['detected', 'verified', 'paged']),
    );
    proc.kill('SIGINT');
    expect(await new Promise<number | null>((r) => proc!.once('exit', (c) => r(c)))).toBe(0);
  }, 240_000);
});
