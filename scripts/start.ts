/**
 * `npm start`: the embedded default. Finds (or builds, once) the Temporal CLI, starts its dev server
 * with a SQLite file under data/ (incidents survive a restart) and the UI on :8233, then the worker
 * and the API; Ctrl-C stops all of them.
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
import { ensureStaffTokens } from './staff-tokens.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (m: string) => console.log(`[start] ${m}`);

async function main() {
  process.chdir(root);
  const settings = runtimeSettings();
  const config = loadConfigOrExit(settings.configPath);
  say(
    `configuration ${path.relative(root, settings.configPath)}: ${config.services.length} services, ${config.checks.length} checks, ${config.policies.length} escalation policies`,
  );

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
  const children: { name: string; proc: ChildProcess }[] = [];
  const temporal = spawn(cli, devServerArgs(temporalPort, dbFile, uiPort), {
    stdio: ['ignore', logFd, logFd],
  });
  children.push({ name: 'temporal', proc: temporal });

  let stopping = false;
  let store: EmbeddedStore | undefined;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping API, worker and Temporal…');
    // API and worker first (they drain), Temporal last.
    for (const name of ['api', 'worker', 'temporal']) {
      const c = children.find((x) => x.name === name);
      if (!c || c.proc.exitCode !== null || c.proc.signalCode !== null) continue;
      c.proc.kill('SIGTERM');
      await Promise.race([
        new Promise((r) => c.proc.once('exit', r)),
        new Promise((r) => setTimeout(r, 15_000)).then(() => c.proc.kill('SIGKILL')),
      ]);
    }
    await store?.stop().catch(() => undefined);
    say('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
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

  const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
  for (const [name, file] of [
    ['worker', 'worker/main.ts'],
    ['api', 'api/server.ts'],
  ] as const) {
    const proc = spawn(tsx, [file], { env, stdio: 'inherit' });
    children.push({ name, proc });
    proc.once('exit', (code) => {
      if (!stopping) {
        console.error(`[start] ${name} exited (code ${code}); stopping everything`);
        void stopAll(1);
      }
    });
  }
  say(
    `API on http://${settings.host}:${settings.port} — status page /status, staff console /console (log in with the staff token); try:`,
  );
  say(
    `  curl -X POST http://localhost:${settings.port}/api/incidents -H "Authorization: Bearer $(cat data/staff-token)" -H 'content-type: application/json' -d '{"service":"fs-canvas","reason":"institutions cannot fetch the XML export"}'`,
  );
  say(
    `mail goes to ${settings.smtpUrl ? 'SMTP_URL' : path.relative(root, settings.outboxDir) + '/ (no SMTP_URL set)'}; Ctrl-C stops everything`,
  );
}

main().catch((e: unknown) => {
  console.error('[start] fatal:', e instanceof Error ? e.message : e);
  process.exit(1);
});
