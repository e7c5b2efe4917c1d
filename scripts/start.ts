/**
 * `npm start`: the embedded default. Finds (or builds, once) the Temporal CLI, starts its dev server
 * with a SQLite file under data/ (incidents survive a restart) and the UI on :8233, then the worker
 * and the API, and prints one "ready" line once the API's /readyz answers 200.
 *
 * Stopping: SIGINT (Ctrl-C) or SIGTERM to this process stops everything within 10 s, in order: the
 * API, then the worker (it drains), then Temporal, then the embedded store. The children run in
 * their own process groups, so a terminal's Ctrl-C reaches only this process and the order holds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTemporalCli } from './temporal-cli.js';
import { defaultRetentionDays, devServerArgs, setRetention, waitForTemporal } from './dev-server.js';
import { loadConfigOrExit } from '../config/load.js';
import { runtimeSettings } from '../config/runtime.js';
import { startEmbeddedStore, type EmbeddedStore } from '../store/embedded.js';
import { migrate } from '../store/db.js';
import { workerHealthy } from '../deploy/healthcheck.js';
import { ensureStaffTokens } from './staff-tokens.js';

/** Compiled (`npm start` runs dist/scripts/start.js after `npm run build`) or as TypeScript (tsx). */
const compiled = import.meta.url.endsWith('.js');
const here = path.dirname(fileURLToPath(import.meta.url));
/** The checkout: dist/scripts/ → the checkout when compiled, scripts/ → the checkout otherwise. */
const root = path.resolve(here, compiled ? '../..' : '..');
const say = (m: string) => console.log(`[start] ${m}`);

/**
 * How long each child may take to stop after SIGTERM before it is killed (sum ≤ 10 s with the store).
 * Measured on 2 busy cores: the API ~0.2 s, the worker ~0.5 s (its probe loops are cancelled at once),
 * the dev server ~3 s (its SQLite file is safe even when it has to be killed).
 */
const stopBudgetMs: Record<string, number> = { api: 1_500, worker: 3_000, temporal: 4_000 };

/** Polls `check` every 250 ms until it is true (true), or `deadline` passes or `alive` turns false. */
async function waitFor(
  check: () => Promise<boolean>,
  alive: () => boolean,
  deadline: number,
): Promise<boolean> {
  while (Date.now() < deadline && alive()) {
    try {
      if (await check()) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

const waitForReady = (url: string, alive: () => boolean, timeoutMs: number) =>
  waitFor(
    async () => (await fetch(url, { signal: AbortSignal.timeout(2000) })).status === 200,
    alive,
    Date.now() + timeoutMs,
  );

async function main() {
  process.chdir(root);
  const settings = runtimeSettings();
  const config = loadConfigOrExit(settings.configPath);
  say(
    `configuration ${path.relative(root, settings.configPath)}: ${config.services.length} services, ${config.checks.length} checks, ${config.policies.length} escalation policies`,
  );

  const children: { name: string; proc: ChildProcess }[] = [];
  let stopping = false;
  let store: EmbeddedStore | undefined;
  const running = (p: ChildProcess) => p.exitCode === null && p.signalCode === null;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    say('stopping: API, then the worker (drains), then Temporal…');
    for (const name of ['api', 'worker', 'temporal']) {
      const c = children.find((x) => x.name === name);
      if (!c || !running(c.proc)) continue;
      const exited = new Promise((r) => c.proc.once('exit', r));
      c.proc.kill('SIGTERM');
      const timer = setTimeout(() => {
        say(`${name} did not stop within ${stopBudgetMs[name]! / 1000} s: killing it`);
        // Its own process group (detached): nothing it started outlives it.
        try {
          process.kill(-c.proc.pid!, 'SIGKILL');
        } catch {
          c.proc.kill('SIGKILL');
        }
      }, stopBudgetMs[name]);
      await exited;
      clearTimeout(timer);
      say(`${name} stopped (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
    await Promise.race([store?.stop().catch(() => undefined), new Promise((r) => setTimeout(r, 1_000))]);
    say(`stopped in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  process.on('SIGHUP', () => void stopAll(0));

  let cli: string;
  try {
    cli = await ensureTemporalCli({ log: (l) => say(l) });
  } catch (e) {
    console.error(`[start] ${(e as Error).message}`);
    process.exit(1);
  }

  mkdirSync(settings.dataDir, { recursive: true });
  const temporalPort = Number(process.env.TEMPORAL_PORT || 7233);
  const uiPort = Number(process.env.TEMPORAL_UI_PORT || 8233);
  const address = `127.0.0.1:${temporalPort}`;
  const dbFile = path.join(settings.dataDir, 'temporal.db');
  const temporalLog = path.join(settings.dataDir, 'temporal.log');
  say(
    `starting Temporal dev server on ${address} (SQLite ${path.relative(root, dbFile)}, log ${path.relative(root, temporalLog)})`,
  );
  const logFd = openSync(temporalLog, 'a');
  if (stopping) return;
  const temporal = spawn(cli, devServerArgs(temporalPort, dbFile, uiPort), {
    stdio: ['ignore', logFd, logFd],
    detached: true,
  });
  children.push({ name: 'temporal', proc: temporal });
  temporal.once('exit', (code) => {
    if (!stopping) {
      console.error(`[start] Temporal dev server exited (code ${code}); see ${temporalLog}`);
      void stopAll(1);
    }
  });

  await waitForTemporal(address, 120_000);
  say(`Temporal is up; UI at http://localhost:${uiPort}`);
  const retentionDays = Number(process.env.HISTORY_RETENTION_DAYS || defaultRetentionDays);
  await setRetention(address, retentionDays);
  say(
    `workflow histories are kept ${retentionDays} days (HISTORY_RETENTION_DAYS); the record store keeps incidents for good`,
  );

  // The record store: PGlite (embedded PostgreSQL) in data/records, unless DATABASE_URL names a server.
  const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_ADDRESS: address, DATA_DIR: settings.dataDir };
  if (!process.env.DATABASE_URL) {
    const storePort = Number(process.env.RECORDS_PORT || 5433);
    store = await startEmbeddedStore({ dataDir: path.join(settings.dataDir, 'records'), port: storePort });
    say(
      `record store: embedded PostgreSQL (PGlite) in ${path.relative(root, path.join(settings.dataDir, 'records'))}, on 127.0.0.1:${storePort}`,
    );
    env.DATABASE_URL = store.url;
    try {
      await migrate(store.url, say);
    } catch (e) {
      console.error(`[start] ${(e as Error).message}`);
      await stopAll(1);
    }
  }

  // A staff token per contact, kept in files (never printed, never in the repo): everyone can sign in.
  if (!process.env.STAFF_TOKENS) {
    const tokens = ensureStaffTokens(settings.dataDir, config);
    env.STAFF_TOKENS = tokens.staffTokens;
    say(
      `staff tokens: one per contact in ${path.relative(root, tokens.folder)}/<contact id>; "${tokens.owner}"'s is also in ${path.relative(root, path.join(settings.dataDir, 'staff-token'))} (set STAFF_TOKENS to use your own)`,
    );
  }

  // The one-click acknowledge links' key, shared by worker and API the same way.
  const ackSecretFile = path.join(settings.dataDir, 'ack-link-secret');
  if (!process.env.ACK_LINK_SECRET) {
    if (!existsSync(ackSecretFile))
      writeFileSync(ackSecretFile, randomBytes(32).toString('base64url'), { mode: 0o600 });
    env.ACK_LINK_SECRET = readFileSync(ackSecretFile, 'utf8').trim();
  }

  // The request log is off by default here (LOG_LEVEL=info turns it on); warnings still show.
  if (!process.env.LOG_LEVEL) env.LOG_LEVEL = 'warn';
  if (stopping) return;
  for (const [name, file] of [
    ['worker', 'worker/main'],
    ['api', 'api/server'],
  ] as const) {
    // Compiled: plain `node dist/….js` (what `npm start` and the image run). Otherwise (`tsx
    // scripts/start.ts` in development) `node --import tsx` (no tsx CLI in between). Either way the
    // signal reaches the process that handles it. Detached: a terminal's Ctrl-C reaches only this
    // script, which stops the children in order.
    const argv = compiled ? [path.join('dist', `${file}.js`)] : ['--import', 'tsx', `${file}.ts`];
    const proc = spawn(process.execPath, argv, {
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true,
    });
    children.push({ name, proc });
    say(`${name}: node ${argv.join(' ')} (pid ${proc.pid})`);
    proc.once('exit', (code) => {
      if (!stopping) {
        console.error(`[start] ${name} exited (code ${code}); stopping everything`);
        void stopAll(1);
      }
    });
  }
  // Ready means a declaration works: the API answers /readyz and the worker polls its task queue
  // (bundling the workflows takes it a minute or more on a busy machine).
  const apiUrl = `http://127.0.0.1:${settings.port}`;
  const readyWithinMs = 180_000;
  const readyBy = Date.now() + readyWithinMs;
  const apiReady = await waitForReady(`${apiUrl}/readyz`, () => !stopping, readyWithinMs);
  const workerReady =
    apiReady &&
    (await waitFor(
      async () => (await workerHealthy(env)) === undefined,
      () => !stopping,
      readyBy,
    ));
  if (!apiReady || !workerReady) {
    if (!stopping) {
      console.error(
        `[start] ${apiReady ? 'the worker did not poll its task queue' : `the API did not answer ${apiUrl}/readyz`} within ${readyWithinMs / 1000} s; stopping`,
      );
      await stopAll(1);
    }
    return;
  }
  say(
    `API on http://${settings.host}:${settings.port} — status page /status, staff console /console (log in with the staff token)`,
  );
  say(
    `mail goes to ${settings.smtpUrl ? 'SMTP_URL' : path.relative(root, settings.outboxDir) + '/ (no SMTP_URL set)'}; request log ${env.LOG_LEVEL === 'warn' ? 'off (LOG_LEVEL=info shows it)' : 'on'}`,
  );
  say('try:');
  say(
    `  curl -X POST http://localhost:${settings.port}/api/incidents -H "Authorization: Bearer $(cat data/staff-token)" -H 'content-type: application/json' -d '{"service":"fs-canvas","reason":"institutions cannot fetch the XML export"}'`,
  );
  say(`ready (/readyz answers 200, the worker polls); Ctrl-C stops everything`);
}

main().catch((e: unknown) => {
  console.error('[start] fatal:', e instanceof Error ? e.message : e);
  process.exit(1);
});
