/**
 * Vitest global setup, first of all: the Debian packages the suites use — `chromium` (browser
 * tests), `postgresql` (the record store), `openssh-client` and `openssl` (probe tests). Missing ones
 * are installed with apt-get when the run is root (progress lines on the way); otherwise the run
 * stops at once with one line saying what to install, rather than a pile of failing suites. (The
 * Temporal CLI is built by the next setup, scripts/temporal-cli.ts.)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { postgresBinDir } from '../../scripts/postgres.js';
import { chromiumPath } from '../browser/chromium.js';

export interface Probe {
  exists(file: string): boolean;
  onPath(cmd: string): boolean;
  postgres(): string | undefined;
}

const system: Probe = {
  exists: existsSync,
  onPath: (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0,
  postgres: postgresBinDir,
};

/** The Debian packages that are missing, by package name. */
export function missingPackages(p: Probe = system): string[] {
  const missing: string[] = [];
  if (!p.exists(chromiumPath)) missing.push('chromium');
  if (!p.postgres()) missing.push('postgresql');
  if (!p.onPath('ssh-keygen')) missing.push('openssh-client');
  if (!p.onPath('openssl')) missing.push('openssl');
  return missing;
}

/** What to do about them: install (root with apt-get), or the one line that says what to install. */
export function provisioning(
  missing: string[],
  o: { root: boolean; apt: boolean },
): { action: 'none' } | { action: 'install'; packages: string[] } | { action: 'stop'; line: string } {
  if (missing.length === 0) return { action: 'none' };
  if (o.root && o.apt) return { action: 'install', packages: missing };
  return {
    action: 'stop',
    line:
      `npm test needs the Debian packages ${missing.join(', ')}: ` +
      `sudo apt-get install -y ${missing.join(' ')} (or run npm test as root, which installs them)`,
  };
}

function aptGet(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('apt-get', args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let last = Date.now();
    const line = (b: Buffer) => {
      for (const l of b.toString().split('\n'))
        if (/^(Get:|Setting up|Unpacking|E:)/.test(l) || Date.now() - last > 15_000) {
          console.log(`[packages] ${l.trim()}`);
          last = Date.now();
        }
    };
    child.stdout.on('data', line);
    child.stderr.on('data', line);
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`apt-get ${args[0]} exited with ${code}`)),
    );
  });
}

export default async function setup() {
  const plan = provisioning(missingPackages(), {
    root: process.getuid?.() === 0,
    apt: system.onPath('apt-get'),
  });
  if (plan.action === 'none') return;
  if (plan.action === 'stop') {
    process.stderr.write(`\n${plan.line}\n\n`);
    process.exit(1);
  }
  console.log(`[packages] installing ${plan.packages.join(' ')} with apt-get (once per machine)`);
  try {
    await aptGet(['update', '-q']);
    await aptGet(['install', '-y', '-q', '--no-install-recommends', ...plan.packages]);
  } catch (e) {
    process.stderr.write(
      `\nnpm test could not install ${plan.packages.join(' ')}: ${(e as Error).message}\n\n`,
    );
    process.exit(1);
  }
  const still = missingPackages();
  if (still.length > 0) {
    process.stderr.write(`\nnpm test: still missing after apt-get: ${still.join(', ')}\n\n`);
    process.exit(1);
  }
  console.log(`[packages] installed ${plan.packages.join(' ')}`);
}
