/**
 * Find schemathesis (the OpenAPI fuzzer the API contract test runs), or install it from PyPI with pip
 * into a cached virtual environment on first use: `${XDG_CACHE_HOME:-~/.cache}/incident-orchestrator/
 * schemathesis-venv` (pinned version; a minute or two, once per machine, with progress lines).
 *
 * Search order: $SCHEMATHESIS (an executable), then the cached venv's `bin/schemathesis`.
 * Run directly (`tsx scripts/schemathesis.ts`) it prints the path, or the error and exits 1.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCHEMATHESIS_VERSION = '4.32.5';

export function schemathesisVenv(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || os.homedir(), '.cache');
  return path.join(base, 'incident-orchestrator', 'schemathesis-venv');
}

const executable = (f: string) => {
  try {
    fs.accessSync(f, fs.constants.X_OK);
    return fs.statSync(f).isFile();
  } catch {
    return false;
  }
};

function run(cmd: string, args: string[], log: (l: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const started = Date.now();
    const timer = setInterval(
      () => log(`schemathesis: still installing (${Math.round((Date.now() - started) / 1000)} s)…`),
      15_000,
    );
    const keep = (b: Buffer) => {
      tail = (tail + b.toString()).slice(-4000);
      for (const line of b.toString().split('\n'))
        if (/^(Collecting|Successfully installed)/.test(line)) log(`schemathesis: ${line.trim()}`);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (e) => {
      clearInterval(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${tail}`));
    });
  });
}

/** The schemathesis executable; installs it (python3 -m venv, pip) when missing. */
export async function ensureSchemathesis(
  o: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<string> {
  const env = o.env ?? process.env;
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  if (env.SCHEMATHESIS) {
    if (!executable(env.SCHEMATHESIS))
      throw new Error(`SCHEMATHESIS=${env.SCHEMATHESIS} is not an executable file`);
    return env.SCHEMATHESIS;
  }
  const venv = schemathesisVenv(env);
  const bin = path.join(venv, 'bin', 'schemathesis');
  if (executable(bin)) return bin;
  log(`schemathesis: installing ${SCHEMATHESIS_VERSION} from PyPI into ${venv} (once per machine)`);
  fs.mkdirSync(path.dirname(venv), { recursive: true });
  try {
    await run('python3', ['-m', 'venv', '--clear', venv], log);
  } catch (e) {
    throw new Error(
      `schemathesis needs Python 3 with venv (apt-get install python3-venv): ${(e as Error).message}`,
    );
  }
  try {
    await run(
      path.join(venv, 'bin', 'pip'),
      [
        'install',
        '--disable-pip-version-check',
        '--progress-bar',
        'off',
        `schemathesis==${SCHEMATHESIS_VERSION}`,
      ],
      log,
    );
  } catch (e) {
    // Half an install is no install: the next run starts again.
    fs.rmSync(venv, { recursive: true, force: true });
    throw e;
  }
  log(`schemathesis: installed ${bin}`);
  return bin;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureSchemathesis().then(
    (p) => console.log(p),
    (e: unknown) => {
      console.error((e as Error).message);
      process.exit(1);
    },
  );
}
