/**
 * The production Temporal server and its SQL schema tool, built once with Go and cached like the CLI
 * (scripts/temporal-cli.ts): `go install go.temporal.io/server/cmd/server@v1.29.1` and
 * `go.temporal.io/server/cmd/tools/sql@v1.29.1` into
 * `${XDG_CACHE_HOME:-~/.cache}/incident-orchestrator/temporal-server-v1.29.1/` (binaries `server` and
 * `sql`, i.e. temporal-server and temporal-sql-tool), plus the PostgreSQL schema files shipped in the
 * same module (`schema/postgresql/v12/{temporal,visibility}/versioned`), copied next to them.
 *
 * The build goes to a temporary folder and is renamed into place under a lock (a second caller waits),
 * with a progress line every 15 s. About 10 minutes on 2 cores the first time; instant afterwards.
 *
 * Run directly (`tsx scripts/temporal-server.ts`) it prints the cache folder, or the error and exits 1.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { acquireLock, goInstall, isExecutableFile, which, withGoBuildLock } from './temporal-cli.js';

export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
export const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server';
export const TEMPORAL_SERVER_PACKAGES = [
  `${TEMPORAL_SERVER_MODULE}/cmd/server@${TEMPORAL_SERVER_VERSION}`,
  `${TEMPORAL_SERVER_MODULE}/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`,
];
const WHAT = `the Temporal server ${TEMPORAL_SERVER_VERSION}`;

export interface TemporalServerBuild {
  /** temporal-server (`server start --config-file … --service …`). */
  server: string;
  /** temporal-sql-tool (`sql --plugin postgres12 … setup-schema / update-schema`). */
  sqlTool: string;
  /** `schema/postgresql/v12` from the server module: `temporal/versioned`, `visibility/versioned`. */
  postgresSchemaDir: string;
}

export function defaultServerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || os.homedir(), '.cache');
  return path.join(base, 'incident-orchestrator', `temporal-server-${TEMPORAL_SERVER_VERSION}`);
}

const files = (cacheDir: string): TemporalServerBuild => ({
  server: path.join(cacheDir, 'server'),
  sqlTool: path.join(cacheDir, 'sql'),
  postgresSchemaDir: path.join(cacheDir, 'schema', 'postgresql', 'v12'),
});

const complete = (b: TemporalServerBuild) =>
  isExecutableFile(b.server) &&
  isExecutableFile(b.sqlTool) &&
  fs.existsSync(path.join(b.postgresSchemaDir, 'temporal', 'versioned')) &&
  fs.existsSync(path.join(b.postgresSchemaDir, 'visibility', 'versioned'));

/** The cached build when it is complete, else undefined (never builds). */
export function findTemporalServer(o: { cacheDir?: string; env?: NodeJS.ProcessEnv } = {}) {
  const b = files(o.cacheDir ?? defaultServerCacheDir(o.env));
  return complete(b) ? b : undefined;
}

/** Copy the module's PostgreSQL schema files (the module is in Go's module cache after the build). */
function copySchema(go: string, env: NodeJS.ProcessEnv, into: string): void {
  const r = spawnSync(
    go,
    ['mod', 'download', '-json', `${TEMPORAL_SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`],
    {
      env,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0)
    throw new Error(`go mod download ${TEMPORAL_SERVER_MODULE} failed: ${r.stderr || r.stdout}`);
  const dir = (JSON.parse(r.stdout) as { Dir: string }).Dir;
  const from = path.join(dir, 'schema', 'postgresql', 'v12');
  fs.rmSync(into, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(into), { recursive: true });
  fs.cpSync(from, into, { recursive: true });
  // The module cache is read-only: make the copy writable, so it can be removed like the binaries.
  const writable = (p: string) => {
    const dir = fs.statSync(p).isDirectory();
    fs.chmodSync(p, dir ? 0o755 : 0o644);
    if (dir) for (const entry of fs.readdirSync(p)) writable(path.join(p, entry));
  };
  writable(into);
}

export async function ensureTemporalServer(
  o: {
    log?: (line: string) => void;
    cacheDir?: string;
    env?: NodeJS.ProcessEnv;
    progressIntervalMs?: number;
  } = {},
): Promise<TemporalServerBuild> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const env = o.env ?? process.env;
  const cacheDir = path.resolve(o.cacheDir ?? defaultServerCacheDir(env));
  const everyMs = o.progressIntervalMs ?? 15_000;
  const b = files(cacheDir);
  if (complete(b)) return b;
  const go = which(process.platform === 'win32' ? 'go.exe' : 'go', env);
  if (go === undefined)
    throw new Error(
      `No Temporal server build in ${cacheDir} and \`go\` is not on PATH to build one: install Go (https://go.dev/dl/) ` +
        `and rerun (the first run builds ${WHAT} and temporal-sql-tool, about 10 minutes once per machine).`,
    );
  fs.mkdirSync(path.dirname(cacheDir), { recursive: true });
  const release = await acquireLock(`${cacheDir}.lock`, b.server, log, everyMs, WHAT);
  let tmpDir: string | undefined;
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    if (!isExecutableFile(b.server) || !isExecutableFile(b.sqlTool)) {
      if (!release) throw new Error(`another process built ${WHAT} only partly in ${cacheDir}; rerun`);
      for (const entry of fs.readdirSync(cacheDir))
        if (entry.startsWith('.build-'))
          fs.rmSync(path.join(cacheDir, entry), { recursive: true, force: true });
      tmpDir = fs.mkdtempSync(path.join(cacheDir, '.build-'));
      log(
        `Building ${WHAT} and temporal-sql-tool with Go — once per machine, about 10 minutes; cached in ${cacheDir}`,
      );
      const started = Date.now();
      const into = tmpDir;
      await withGoBuildLock(path.dirname(cacheDir), log, everyMs, () =>
        goInstall(go, into, env, log, everyMs, TEMPORAL_SERVER_PACKAGES, WHAT),
      );
      for (const exe of ['sql', 'server']) {
        const built = path.join(tmpDir, exe);
        if (!isExecutableFile(built)) throw new Error(`go install succeeded but ${built} is missing`);
        fs.renameSync(built, path.join(cacheDir, exe));
      }
      const secs = Math.round((Date.now() - started) / 1000);
      log(`Built ${WHAT} in ${Math.floor(secs / 60)}m${secs % 60}s: ${cacheDir}`);
    }
    if (!complete(b)) copySchema(go, env, b.postgresSchemaDir);
    return b;
  } finally {
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
    release?.();
  }
}

/** Where Temporal keeps its state: two databases on one PostgreSQL server (plugin `postgres12`). */
export interface TemporalDatabase {
  host: string;
  port: number;
  user: string;
  /** Read from the environment variable `passwordEnv` (never written into the config file). */
  passwordEnv: string;
  /** Default `temporal` and `temporal_visibility`. */
  database?: string;
  visibilityDatabase?: string;
}

/** The ports of the four services in one `server start` process (each has a gRPC and a membership port). */
export interface TemporalServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

/**
 * The server's configuration file (`<root>/config/<env>.yaml`, Temporal's own format, laid out like its
 * `development-postgres12.yaml`): PostgreSQL for both stores, every service bound to `bindAddress`
 * only (loopback by default), no metrics or pprof listener, and the dynamic config file (update-with-
 * start and updates enabled: deploy/dynamicconfig/production.yaml). It is a template (Temporal renders
 * files marked `enable-template`), so the database password comes from the server's environment.
 */
export function temporalServerConfig(o: {
  db: TemporalDatabase;
  ports: TemporalServerPorts;
  dynamicConfigFile: string;
  bindAddress?: string;
  /** Fixed for the life of a cluster; Temporal recommends 512+ in production (4 is plenty for a test). */
  numHistoryShards?: number;
}): string {
  const ip = o.bindAddress ?? '127.0.0.1';
  const store = (database: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName: database,
      connectAddr: `${o.db.host}:${o.db.port}`,
      connectProtocol: 'tcp',
      user: o.db.user,
      password: `{{ env "${o.db.passwordEnv}" }}`,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (grpcPort: number, membershipPort: number, httpPort?: number) => ({
    rpc: { grpcPort, membershipPort, bindOnIP: ip, ...(httpPort ? { httpPort } : {}) },
  });
  const config = {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: o.numHistoryShards ?? 4,
      datastores: {
        'postgres-default': store(o.db.database ?? 'temporal', 20),
        'postgres-visibility': store(o.db.visibilityDatabase ?? 'temporal_visibility', 10),
      },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: ip } },
    services: {
      frontend: rpc(o.ports.frontend, o.ports.frontendMembership, o.ports.frontendHttp),
      history: rpc(o.ports.history, o.ports.historyMembership),
      matching: rpc(o.ports.matching, o.ports.matchingMembership),
      worker: rpc(o.ports.worker, o.ports.workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `${ip}:${o.ports.frontend}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: o.dynamicConfigFile, pollInterval: '10s' },
  };
  return `# enable-template (Temporal renders this file: the password comes from $${o.db.passwordEnv})\n${stringify(config)}`;
}

/** `server --root <root> --config config --env <env> --allow-no-auth start` (all four services). */
export function temporalServerArgs(root: string, env = 'production'): string[] {
  return ['--root', root, '--config', 'config', '--env', env, '--allow-no-auth', 'start'];
}

/**
 * Temporal's two databases with temporal-sql-tool, as Temporal's own auto-setup does it: create each
 * database, set up version 0.0, then apply every versioned schema file shipped in the server module.
 * Idempotent (an existing database is kept and only updated). The password goes through the
 * environment (SQL_PASSWORD), never the command line. Returns what the tool printed.
 */
export function setupTemporalSchema(
  build: TemporalServerBuild,
  db: TemporalDatabase,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const password = env[db.passwordEnv];
  if (password === undefined) throw new Error(`${db.passwordEnv} is not set`);
  const toolEnv = { ...env, SQL_PASSWORD: password };
  const common = ['--plugin', 'postgres12', '--ep', db.host, '-p', String(db.port), '-u', db.user];
  let out = '';
  const tool = (database: string, args: string[]) => {
    const r = spawnSync(build.sqlTool, [...common, '--db', database, ...args], {
      env: toolEnv,
      encoding: 'utf8',
    });
    out += `$ temporal-sql-tool --db ${database} ${args.join(' ')}\n${r.stdout}${r.stderr}`;
    return r;
  };
  const must = (database: string, args: string[]) => {
    const r = tool(database, args);
    if (r.status !== 0)
      throw new Error(`temporal-sql-tool ${args[0]} on ${database} failed:\n${r.stdout}${r.stderr}`);
  };
  for (const [database, dir] of [
    [db.database ?? 'temporal', 'temporal'],
    [db.visibilityDatabase ?? 'temporal_visibility', 'visibility'],
  ] as const) {
    const update = ['update-schema', '-d', path.join(build.postgresSchemaDir, dir, 'versioned')];
    // A database set up before only needs the newer schema files (this fails on a missing one).
    if (tool(database, update).status === 0) continue;
    must(database, ['create-database']);
    must(database, ['setup-schema', '-v', '0.0']);
    must(database, update);
  }
  return out;
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return fs.realpathSync(entry) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  ensureTemporalServer().then(
    (b) => process.stdout.write(`${path.dirname(b.server)}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
