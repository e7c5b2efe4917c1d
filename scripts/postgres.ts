/**
 * A throwaway PostgreSQL server (Debian's `postgresql` package) on a loopback port, for the tests,
 * the drills and the benchmarks: initdb into a temporary folder, trust auth on 127.0.0.1 only,
 * stopped by whoever started it. As root, it runs as the `postgres` user (PostgreSQL refuses root).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './dev-server.js';

export interface PostgresServer {
  url: string;
  port: number;
  dataDir: string;
  proc: ChildProcess;
  /** SIGKILL (a crash), for drills; `start()` brings the same data back. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The newest Debian PostgreSQL's bin folder, or undefined when the package is not installed. */
export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(path.join(base, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(base, versions[0], 'bin') : undefined;
}

export async function startPostgres(o: { port?: number } = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin)
    throw new Error(
      'PostgreSQL is not installed: `apt-get install postgresql` (Debian); .ci/run installs it when missing',
    );
  const root = process.getuid?.() === 0;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'incident-pg-'));
  const pgUid = root ? Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim()) : undefined;
  const pgGid = root ? Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim()) : undefined;
  if (root) chownSync(dataDir, pgUid!, pgGid!);
  const as = (cmd: string, args: string[]) =>
    root ? (['runuser', ['-u', 'postgres', '--', cmd, ...args]] as const) : ([cmd, args] as const);
  const [initCmd, initArgs] = as(path.join(bin, 'initdb'), [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  const init = spawnSync(initCmd, [...initArgs], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = o.port ?? (await freePort());
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  const alive = () => !!server.proc && server.proc.exitCode === null && server.proc.signalCode === null;
  const server: PostgresServer = {
    url,
    port,
    dataDir,
    proc: undefined as unknown as ChildProcess,
    async start() {
      const [cmd, args] = as(path.join(bin, 'postgres'), [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${dataDir}`,
        '-c',
        'fsync=off',
        '-c',
        'max_connections=300',
      ]);
      server.proc = spawn(cmd, [...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      server.proc.stderr!.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
      });
      const deadline = Date.now() + 30_000;
      for (;;) {
        const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
        try {
          await c.connect();
          await c.end();
          return;
        } catch {
          await c.end().catch(() => undefined);
          if (!alive() || Date.now() > deadline)
            throw new Error(`PostgreSQL did not start on ${port}: ${stderr}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    async kill() {
      if (!alive()) return;
      const exited = new Promise((r) => server.proc.once('exit', r));
      // runuser forwards no SIGKILL: kill postgres itself (its pid is in postmaster.pid).
      const pid = Number(spawnSync('head', ['-1', path.join(dataDir, 'postmaster.pid')]).stdout.toString());
      if (pid) process.kill(pid, 'SIGKILL');
      server.proc.kill('SIGKILL');
      await exited;
      // A killed postmaster leaves its children a moment; wait until the port is free.
      await new Promise((r) => setTimeout(r, 500));
    },
    async stop() {
      if (alive()) {
        const exited = new Promise((r) => server.proc.once('exit', r));
        const pid = Number(spawnSync('head', ['-1', path.join(dataDir, 'postmaster.pid')]).stdout.toString());
        if (pid) process.kill(pid, 'SIGINT');
        else server.proc.kill('SIGINT');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/** A new empty database on the server (one per test file), migrated by the caller. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
  } finally {
    await c.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}
