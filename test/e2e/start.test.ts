/**
 * The README's quick start, for real: `npm start` (scripts/start.ts) brings up Temporal with its UI,
 * the worker and the API on the example config; a curl-equivalent declaration puts a page in the
 * outbox; SIGINT to the `npm start` process alone stops everything in order within 10 s.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, getRetentionSeconds } from '../../scripts/dev-server.js';
import { eventually } from '../helpers/harness.js';

describe('npm start (embedded default)', () => {
  let proc: ChildProcess | undefined;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'incident-start-'));
  let output = '';
  const withOutput = (e: Error): never => {
    throw new Error(`${e.message}\n--- npm start output (last 4,000 characters) ---\n${output.slice(-4000)}`);
  };

  afterAll(async () => {
    // After a failure: SIGTERM to npm reaches scripts/start.ts, which stops its children (they run
    // in their own process groups, so killing npm alone would leave them behind).
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc!.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('serves the API and the Temporal UI, pages into the outbox, and stops on Ctrl-C; incidents survive a restart', async () => {
    const [temporalPort, uiPort, apiPort, recordsPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const start = () => {
      // The README's command itself: npm, then the script (signals go to npm's pid only).
      const p = spawn('npm', ['start'], {
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
          LOG_LEVEL: '',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      p.stdout!.on('data', (d) => (output += d));
      p.stderr!.on('data', (d) => (output += d));
      return p;
    };
    proc = start();

    const api = `http://127.0.0.1:${apiPort}`;
    // Until /readyz answers 200, neither the ready line nor the sample curl is printed.
    let printedEarly = false;
    await Promise.race([
      eventually(
        async () => {
          const seen = output;
          const ok = await fetch(`${api}/readyz`).then(
            (r) => r.status === 200,
            () => false,
          );
          if (!ok && /\[start\] ready|curl -X POST/.test(seen)) printedEarly = true;
          return ok;
        },
        // Bundling the workflows takes most of it: ~85 s on 2 cores shared with other builds.
        180_000,
        'the API',
      ),
      exitOf(proc),
    ]).catch(withOutput);
    expect(printedEarly).toBe(false);
    // The ready line waits for the worker too (it polls once its workflows are bundled).
    await Promise.race([
      eventually(
        async () => output.includes('[start] ready (/readyz answers 200, the worker polls)'),
        180_000,
        'the ready line',
      ),
      exitOf(proc),
    ]).catch(withOutput);
    expect(output.match(/\[start\] ready/g)).toHaveLength(1);
    // The worker and the API run the compiled JavaScript (`npm run build` → dist/), not TypeScript through tsx.
    for (const [name, file] of [
      ['worker', 'dist/worker/main.js'],
      ['api', 'dist/api/server.js'],
    ]) {
      const pid = new RegExp(`\\[start\\] ${name}: node ${file} \\(pid (\\d+)\\)`).exec(output)?.[1];
      expect(pid, `${name} started as node ${file}`).toBeDefined();
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      expect(argv.slice(1)).toEqual([file]);
    }
    const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
    expect(ui.status).toBe(200);
    // The record store is embedded (nothing installed), and histories are kept 7 days on purpose.
    expect(output).toContain('record store: embedded PostgreSQL (PGlite)');
    expect(existsSync(path.join(dataDir, 'records'))).toBe(true);
    // (retried: a 2 s connect can time out on a machine this busy)
    const retention = await eventually(
      () => getRetentionSeconds(`127.0.0.1:${temporalPort}`),
      30_000,
      'the namespace retention',
    );
    expect(retention).toBe(7 * 24 * 3600);
    expect(output).toMatch(/staff tokens: one per contact .*"kari"'s is also in/);

    const token = readFileSync(path.join(dataDir, 'staff-token'), 'utf8').trim();
    expect(output).not.toContain(token);
    const declared = await fetch(`${api}/api/incidents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'fs-canvas', reason: 'institutions cannot fetch the XML export' }),
    });
    expect(declared.status, await declared.clone().text()).toBe(201);

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

    // Readable: no SDK warning about the activities-only worker, and no JSON request log lines.
    expect(output).not.toContain('No workflows registered');
    expect(output).not.toMatch(/"reqId"|"msg":"(incoming request|request completed)"/);

    const stopAsked = Date.now();
    proc.kill('SIGINT');
    const code = await new Promise<number | null>((r) => proc!.once('exit', (c) => r(c)));
    const stopMs = Date.now() - stopAsked;
    expect(code).toBe(0);
    expect(stopMs).toBeLessThan(10_000);
    const order = ['api', 'worker', 'temporal'].map((n) => output.indexOf(`[start] ${n} stopped`));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(output).not.toMatch(/did not stop within/);
    expect(output).toMatch(/\[start\] stopped in \d+\.\d s/);
    // Nothing is left listening: Temporal, its UI, the API and the embedded store are gone.
    for (const port of [temporalPort, uiPort, apiPort, recordsPort])
      expect(await listening(port)).toBe(false);
    console.log(
      `[npm start] SIGINT to the npm process: everything stopped in ${(stopMs / 1000).toFixed(1)} s`,
    );
    // The dev server kept its state in the data folder: the incident survives a restart.
    expect(existsSync(path.join(dataDir, 'temporal.db'))).toBe(true);
    const { incident } = (await declared.json()) as { incident: { id: string } };
    proc = start();
    await Promise.race([
      eventually(
        async () =>
          fetch(`${api}/readyz`).then(
            (r) => r.status === 200,
            () => false,
          ),
        180_000,
        'the API after a restart',
      ),
      exitOf(proc),
    ]).catch(withOutput);
    const again = await fetch(`${api}/api/incidents/${incident.id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(again.status).toBe(200);
    type View = { state: string; timeline: { kind: string }[] };
    const view = (await again.json()) as View;
    expect(view.state).toBe('triggered');
    // Its record came back from the embedded store's folder. The page's own line may still have
    // been in the workflow's outbox at the stop: the restarted worker writes it.
    expect(view.timeline.map((e) => e.kind)).toEqual(expect.arrayContaining(['detected', 'verified']));
    await eventually(
      async () => {
        const r = await fetch(`${api}/api/incidents/${incident.id}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        return ((await r.json()) as View).timeline.some((e) => e.kind === 'paged');
      },
      60_000,
      'the page in the record after the restart',
    );
    // The example incident can be closed: its probe host never resolves, so Kari (admin) closes it
    // from the console's force-resolve form (a bearer token stands in for the browser's session).
    const closed = await fetch(`${api}/console/incidents/${incident.id}/force-resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        reason: 'w3prod-datasync02 was replaced; the export runs elsewhere',
      }).toString(),
      redirect: 'manual',
    });
    expect(closed.status, await closed.clone().text()).toBe(303);
    expect(closed.headers.get('location')).toBe(`/console/incidents/${incident.id}?done=force-resolved`);
    const resolved = (await (
      await fetch(`${api}/api/incidents/${incident.id}`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as View & { timeline: { kind: string; actor: string; detail: string }[] };
    expect(resolved.state).toBe('resolved');
    expect(resolved.timeline.find((e) => e.kind === 'resolved')).toMatchObject({
      actor: 'kari',
      detail:
        'resolved without probe proof by kari: w3prod-datasync02 was replaced; the export runs elsewhere',
    });
    // SIGTERM works the same way.
    proc.kill('SIGTERM');
    expect(await new Promise<number | null>((r) => proc!.once('exit', (c) => r(c)))).toBe(0);
    expect(await listening(apiPort)).toBe(false);
  }, 480_000);
});

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Rejects when the process exits (a start that fails stops the wait at once). */
function exitOf(p: ChildProcess): Promise<never> {
  return new Promise((_, reject) =>
    p.once('exit', (code) => reject(new Error(`npm start exited (code ${code}) before it was ready`))),
  );
}
