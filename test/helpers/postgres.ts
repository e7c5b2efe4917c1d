/**
 * A real, throwaway PostgreSQL server (Debian's `postgresql` package) in a temp folder, set up the way
 * the official image's entrypoint does it: trust on the Unix socket for the superuser `postgres`,
 * scram-sha-256 over TCP, and the scripts of `docker-entrypoint-initdb.d` run once against it. As root
 * (CI), the server runs as the `postgres` system user, since PostgreSQL refuses to run as root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/dev-server.js';
import { spawnTracked, type Proc } from './processes.js';

export interface TestPostgres {
  port: number;
  /** The Unix socket folder (psql -h). */
  socketDir: string;
  /** Environment for psql / the init scripts: PGHOST, PGPORT, POSTGRES_USER. */
  env: NodeJS.ProcessEnv;
  /** Runs an init script as the image's entrypoint would (bash, with `env` and `extraEnv`). */
  runInitScript(file: string, extraEnv: NodeJS.ProcessEnv): { status: number | null; output: string };
  stop(): Promise<void>;
}

export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base)
    ? fs
        .readdirSync(base)
        .filter((v) => fs.existsSync(path.join(base, v, 'bin/postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return versions[0] ? path.join(base, versions[0], 'bin') : undefined;
}

const isRoot = () => process.getuid?.() === 0;
/** As root: the command as the `postgres` user (setpriv execs it, so the pid is the server's). */
const asPostgres = (cmd: string, args: string[]): [string, string[]] =>
  isRoot()
    ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', cmd, ...args]]
    : [cmd, args];

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'test-postgres-'));
  const dataDir = path.join(dir, 'data');
  const socketDir = path.join(dir, 'run');
  fs.mkdirSync(socketDir);
  if (isRoot()) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  const [initCmd, initArgs] = asPostgres(path.join(bin, 'initdb'), [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '--no-sync',
  ]);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8', cwd: dir });
  if (init.status !== 0) throw new Error(`initdb failed:\n${init.stdout}${init.stderr}`);

  const port = await freePort();
  const [cmd, args] = asPostgres(path.join(bin, 'postgres'), [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-k',
    socketDir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
  ]);
  const proc: Proc = spawnTracked(cmd, args, { name: 'postgres', cwd: dir });
  await proc.waitForOutput(/ready to accept connections/, 30_000);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PGHOST: socketDir,
    PGPORT: String(port),
    POSTGRES_USER: 'postgres',
  };
  return {
    port,
    socketDir,
    env,
    runInitScript(file, extraEnv) {
      const r = spawnSync('bash', [file], { env: { ...env, ...extraEnv }, encoding: 'utf8', cwd: dir });
      return { status: r.status, output: `${r.stdout}${r.stderr}` };
    },
    async stop() {
      await proc.stop(10_000);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
