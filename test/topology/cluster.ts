/**
 * The production topology on this machine, without Docker: Debian's PostgreSQL (Temporal's two
 * databases and the record store's own database and role, as docker-compose sets them up), a real
 * Temporal server (scripts/temporal-server.ts: built with Go, schema by temporal-sql-tool, every
 * service on loopback), the namespace and search attributes registered with the Temporal CLI the way
 * compose's admin-tools container does it, and worker and API processes started exactly as compose
 * starts them (`node dist/worker/main.js`, `node dist/api/server.js`, compiled by test/setup/build.ts) with compose's
 * environment. Everything is a child process of the test and is stopped by it.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort, waitForTemporal } from '../../scripts/dev-server.js';
import { startPostgres, type PostgresServer } from '../../scripts/postgres.js';
import {
  setupTemporalSchema,
  temporalServerArgs,
  temporalServerConfig,
  type TemporalDatabase,
  type TemporalServerBuild,
} from '../../scripts/temporal-server.js';
import { spawnTracked, type Proc } from '../helpers/processes.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const secret = () => randomBytes(24).toString('hex');

export interface Timed {
  what: string;
  ms: number;
}

export interface TemporalCluster {
  address: string;
  postgres: PostgresServer;
  /** The record store's database, owned by its own role (deploy/postgres/10-records-database.sh). */
  recordsUrl: string;
  server: Proc;
  /** How long each step took (for the test's summary line). */
  steps: Timed[];
  stop(): Promise<void>;
}

async function timed<T>(steps: Timed[], what: string, fn: () => Promise<T> | T): Promise<T> {
  const started = Date.now();
  const r = await fn();
  steps.push({ what, ms: Date.now() - started });
  return r;
}

function cli(temporalCli: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync(temporalCli, args, { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/**
 * PostgreSQL, Temporal's schema, `temporal-server` with a generated config, then the namespace
 * `default` (retention `retentionDays`) and the app's search attributes.
 */
export async function startTemporalCluster(o: {
  build: TemporalServerBuild;
  temporalCli: string;
  dir: string;
  retentionDays: number;
}): Promise<TemporalCluster> {
  const steps: Timed[] = [];
  const postgres = await timed(steps, 'PostgreSQL', () => startPostgres());
  let server: Proc | undefined;
  const stop = async () => {
    await server?.stop(10_000);
    await postgres.stop();
  };
  try {
    const temporalPassword = secret();
    const recordsPassword = secret();
    // Temporal's own login role (compose: the image's POSTGRES_USER), allowed to create its databases.
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE temporal LOGIN CREATEDB PASSWORD '${temporalPassword}'`);
    } finally {
      await admin.end();
    }
    // The record store's database and role, by compose's own init script.
    const init = spawnSync('bash', [path.join(repoRoot, 'deploy/postgres/10-records-database.sh')], {
      env: {
        ...process.env,
        PGHOST: '127.0.0.1',
        PGPORT: String(postgres.port),
        POSTGRES_USER: 'postgres',
        RECORDS_DB_PASSWORD: recordsPassword,
      },
      encoding: 'utf8',
    });
    if (init.status !== 0) throw new Error(`10-records-database.sh failed: ${init.stdout}${init.stderr}`);
    const recordsUrl = `postgres://incidents:${recordsPassword}@127.0.0.1:${postgres.port}/incidents`;

    const db: TemporalDatabase = {
      host: '127.0.0.1',
      port: postgres.port,
      user: 'temporal',
      passwordEnv: 'TEMPORAL_DB_PASSWORD',
    };
    const env = { ...process.env, TEMPORAL_DB_PASSWORD: temporalPassword };
    await timed(steps, 'schema (temporal-sql-tool)', () => setupTemporalSchema(o.build, db, env));

    // Temporal stores membership ports in a smallint column: ports above 32767 fail at start
    // ("value … is out of range for type smallint"), so none of the kernel's ephemeral ports.
    const taken = new Set<number>();
    const port = async () => {
      const p = await freePortBelow32768(taken);
      taken.add(p);
      return p;
    };
    const ports = {
      frontend: await port(),
      frontendHttp: await port(),
      frontendMembership: await port(),
      history: await port(),
      historyMembership: await port(),
      matching: await port(),
      matchingMembership: await port(),
      worker: await port(),
      workerMembership: await port(),
    };
    const root = path.join(o.dir, 'temporal');
    mkdirSync(path.join(root, 'config'), { recursive: true });
    writeFileSync(
      path.join(root, 'config', 'production.yaml'),
      temporalServerConfig({
        db,
        ports,
        dynamicConfigFile: path.join(repoRoot, 'deploy/dynamicconfig/production.yaml'),
      }),
    );
    const address = `127.0.0.1:${ports.frontend}`;
    server = spawnTracked(o.build.server, temporalServerArgs(root), {
      env,
      cwd: root,
      name: 'temporal-server',
    });
    const died = server.waitForOutput(/(?!)/, 180_000); // rejects when the server exits
    died.catch(() => undefined);
    await timed(steps, 'temporal-server start', () =>
      Promise.race([waitForTemporal(address, 120_000), died]),
    );

    // As compose's admin-tools container: the namespace (with its retention), then the attributes.
    await timed(steps, 'namespace and search attributes', async () => {
      const ns = cli(o.temporalCli, [
        'operator',
        'namespace',
        'create',
        '--address',
        address,
        '--namespace',
        'default',
        '--retention',
        `${o.retentionDays * 24}h`,
      ]);
      if (ns.status !== 0) throw new Error(`namespace create failed: ${ns.output}`);
      // The frontend learns of a new namespace on its next cache refresh: retry until it is usable.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const sa = cli(o.temporalCli, [
          'operator',
          'search-attribute',
          'create',
          '--address',
          address,
          '--namespace',
          'default',
          '--name',
          'IncidentService',
          '--type',
          'Keyword',
          '--name',
          'IncidentSeverity',
          '--type',
          'Keyword',
          '--name',
          'IncidentState',
          '--type',
          'Keyword',
        ]);
        if (sa.status === 0) break;
        if (Date.now() > deadline) throw new Error(`search-attribute create failed: ${sa.output}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    });
    return { address, postgres, recordsUrl, server, steps, stop };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}

/** A free loopback port in 10000–32767 (not in `taken`). */
async function freePortBelow32768(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const p = 10_000 + Math.floor(Math.random() * 22_768);
    if (taken.has(p)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(p, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return p;
  }
  throw new Error('no free loopback port below 32768');
}

/** The environment docker-compose.yml gives both the worker and the API (plus what differs per host). */
export interface AppEnv {
  configPath: string;
  temporalAddress: string;
  databaseUrl: string;
  ackLinkSecret: string;
  publicBaseUrl: string;
}

const baseEnv = (a: AppEnv, dataDir: string): NodeJS.ProcessEnv => ({
  // Only what a container would have: no variables of the test's own environment leak in.
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  INCIDENT_CONFIG: a.configPath,
  TEMPORAL_ADDRESS: a.temporalAddress,
  TEMPORAL_NAMESPACE: 'default',
  TEMPORAL_TASK_QUEUE: 'incidents',
  DATA_DIR: dataDir,
  DATABASE_URL: a.databaseUrl,
  PUBLIC_BASE_URL: a.publicBaseUrl,
  LOG_LEVEL: 'info',
  ACK_LINK_SECRET: a.ackLinkSecret,
});

/** `node dist/worker/main.js` with compose's worker environment; resolves once it polls. */
export async function startWorker(
  a: AppEnv,
  o: { name: string; dataDir: string; smtpUrl: string },
): Promise<Proc> {
  mkdirSync(o.dataDir, { recursive: true });
  const env = {
    ...baseEnv(a, o.dataDir),
    SMTP_URL: o.smtpUrl,
    MAIL_FROM: 'Incident Orchestrator <incidents@test.local>',
    // Two workers on one host: each its own metrics port (compose: one container each, :9464).
    WORKER_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
  };
  const p = spawnTracked(process.execPath, ['dist/worker/main.js'], { env, name: o.name });
  await p.waitForOutput(/polling task queue/, 240_000);
  return p;
}

/** `node dist/api/server.js` with compose's API environment; resolves once /readyz is 200. */
export async function startApi(
  a: AppEnv,
  o: { name: string; dataDir: string; port: number; sessionSecret: string; staffTokens: string },
): Promise<Proc> {
  mkdirSync(o.dataDir, { recursive: true });
  const env = {
    ...baseEnv(a, o.dataDir),
    HOST: '127.0.0.1',
    PORT: String(o.port),
    SESSION_SECRET: o.sessionSecret,
    STAFF_TOKENS: o.staffTokens,
  };
  const p = spawnTracked(process.execPath, ['dist/api/server.js'], { env, name: o.name });
  const deadline = Date.now() + 120_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${o.port}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return p;
    if (!p.running()) throw new Error(`${o.name} exited:\n${p.output().slice(-4000)}`);
    if (Date.now() > deadline)
      throw new Error(`${o.name}: /readyz not 200 within 120 s:\n${p.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
