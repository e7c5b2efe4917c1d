/**
 * Child processes a fault drill starts and kills: the worker as its own process (`kill -9`-able, as in
 * production) and a private Temporal dev server on a SQLite file that can be killed and restarted on
 * the same port. Every process started here is killed when the test process exits, whatever happens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { inject } from 'vitest';
import { devServerArgs, freePort, waitForTemporal } from '../../scripts/dev-server.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const live = new Set<ChildProcess>();
const killAll = () => {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
};
process.once('exit', killAll);
// Vitest ends its forks with SIGTERM, which skips 'exit' handlers: kill the children, then die as asked.
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const)
  process.once(sig, () => {
    killAll();
    process.kill(process.pid, sig);
  });

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Proc {
  readonly pid: number;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves when a line matching `re` appears (or has appeared). */
  waitForOutput(re: RegExp, timeoutMs: number): Promise<void>;
  running(): boolean;
  /** `kill -9`, resolved when the process is gone. */
  kill9(): Promise<Exit>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<Exit>;
}

export function spawnTracked(
  command: string,
  args: string[],
  o: { env?: NodeJS.ProcessEnv; cwd?: string; name: string },
): Proc {
  const child = spawn(command, args, {
    cwd: o.cwd ?? repoRoot,
    env: o.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${o.name}: could not start ${command}`);
  live.add(child);
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (b: Buffer) => {
    out += b.toString('utf8');
    if (out.length > 200_000) out = out.slice(-100_000);
    for (const w of waiters) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      for (const w of waiters) w();
      resolve({ code, signal });
    }),
  );
  const running = () => child.exitCode === null && child.signalCode === null;

  return {
    pid: child.pid,
    output: () => out,
    running,
    waitForOutput: (re, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (re.test(out)) {
            done();
            resolve();
          } else if (!running()) {
            done();
            reject(new Error(`${o.name} exited before printing ${re}; output:\n${out.slice(-4000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${o.name}: no ${re} within ${timeoutMs} ms; output:\n${out.slice(-4000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    async kill9() {
      if (running()) child.kill('SIGKILL');
      return exited;
    },
    async stop(graceMs = 10_000) {
      if (running()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => running() && child.kill('SIGKILL'), graceMs);
        const r = await exited;
        clearTimeout(timer);
        return r;
      }
      return exited;
    },
  };
}

/** `worker/main.ts` as its own process, exactly as deployed (config file, environment, data folder). */
export async function startWorkerProcess(o: {
  configPath: string;
  temporalAddress: string;
  taskQueue: string;
  dataDir: string;
  smtpUrl?: string;
  timeoutMs?: number;
  /** The record store (shared by every worker and API of a drill). */
  databaseUrl: string;
  /** More environment variables (e.g. WORKER_METRICS_ADDRESS). */
  env?: NodeJS.ProcessEnv;
}): Promise<Proc> {
  // The compiled worker, as production runs it (test/setup/build.ts built dist/): one node process,
  // so a `kill -9` kills the worker itself.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    INCIDENT_CONFIG: o.configPath,
    TEMPORAL_ADDRESS: o.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: o.taskQueue,
    DATA_DIR: o.dataDir,
    LOG_LEVEL: 'info',
    DATABASE_URL: o.databaseUrl,
    ...o.env,
  };
  if (o.smtpUrl) env.SMTP_URL = o.smtpUrl;
  else delete env.SMTP_URL;
  delete env.ACK_LINK_SECRET;
  const p = spawnTracked(process.execPath, ['dist/worker/main.js'], { env, name: 'worker' });
  // It logs this after the worker is created (workflows bundled), right before it starts polling.
  await p.waitForOutput(/polling task queue/, o.timeoutMs ?? 90_000);
  return p;
}

export interface DevServer {
  address: string;
  port: number;
  dbFile: string;
  proc(): Proc;
  /** `kill -9` the server. */
  kill9(): Promise<Exit>;
  /** Start it again on the same port with the same SQLite file, and wait until it answers. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** A private `temporal server start-dev` on a SQLite file (the shared test server is in memory). */
export async function startDevServer(o: {
  dbFile: string;
  port?: number;
  /** More `temporal server start-dev` arguments (e.g. `--dynamic-config-value k=v`), after the usual. */
  extraArgs?: string[];
}): Promise<DevServer> {
  const port = o.port ?? (await freePort());
  const address = `127.0.0.1:${port}`;
  const cli = inject('temporalCli');
  let p: Proc;
  const start = async () => {
    p = spawnTracked(cli, [...devServerArgs(port, o.dbFile), ...(o.extraArgs ?? [])], {
      name: 'temporal dev server',
    });
    await waitForTemporal(address, 60_000);
  };
  await start();
  return {
    address,
    port,
    dbFile: o.dbFile,
    proc: () => p,
    kill9: () => p.kill9(),
    restart: start,
    close: async () => {
      await p.stop(5000);
    },
  };
}
