/**
 * Find the Temporal CLI (`temporal`), or build it with Go on first use.
 *
 * Search order:
 *   1. $TEMPORAL_CLI (must be an executable file, otherwise this throws),
 *   2. `temporal` on $PATH,
 *   3. the repo-local `tools/temporal` (git-ignored; a symlink into the cache after a build),
 *   4. the machine-level cache `${XDG_CACHE_HOME:-~/.cache}/incident-orchestrator/temporal-cli-v1.5.1/temporal`.
 *
 * If none exists, `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` builds it into the cache
 * (a few minutes, once per machine) and `tools/temporal` is linked to it. The build goes to a temporary
 * directory and is renamed into place, so an interrupted build never leaves a half-written binary, and a
 * mkdir-based lock makes concurrent callers wait for one build instead of running two.
 *
 * Run directly (`tsx scripts/temporal-cli.ts`) it prints the path, or the error and exits 1.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

const EXE = process.platform === 'win32' ? 'temporal.exe' : 'temporal';
const GO_EXE = process.platform === 'win32' ? 'go.exe' : 'go';
const PROGRESS_INTERVAL_MS = 15_000;
const LOCK_POLL_MS = 500;
/** A bare import path, as `go install -v` prints for each compiled package. */
const PACKAGE_LINE = /^[\w.~+-]+(\/[\w.~+-]+)*$/;
/** A lock older than this is considered abandoned even if its owner cannot be checked. */
const LOCK_MAX_AGE_MS = 60 * 60_000;

export interface TemporalCliOptions {
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Build with Go when no CLI is found (default true). With false, a missing CLI is an error. */
  build?: boolean;
  /** Repository root holding `tools/` (default: the parent of this script's folder). */
  rootDir?: string;
  /** Folder of the cached binary (default: `${XDG_CACHE_HOME:-~/.cache}/incident-orchestrator/temporal-cli-v1.5.1`). */
  cacheDir?: string;
  /** Environment to read TEMPORAL_CLI, PATH, XDG_CACHE_HOME and HOME from, and to build with (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** How often a build or a wait for another build reports progress (default 15 s). */
  progressIntervalMs?: number;
}

type FindOptions = Pick<TemporalCliOptions, 'rootDir' | 'cacheDir' | 'env'>;

export const defaultRootDir = (): string => path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || os.homedir(), '.cache');
  return path.join(base, 'incident-orchestrator', `temporal-cli-${TEMPORAL_CLI_VERSION}`);
}

export function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** First executable `name` in the PATH of `env`, as an absolute path. */
export function which(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = path.resolve(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function resolveDirs(opts: FindOptions): { env: NodeJS.ProcessEnv; rootDir: string; cacheDir: string } {
  const env = opts.env ?? process.env;
  return {
    env,
    rootDir: path.resolve(opts.rootDir ?? defaultRootDir()),
    cacheDir: path.resolve(opts.cacheDir ?? defaultCacheDir(env)),
  };
}

/**
 * The Temporal CLI that is already there, or undefined. Throws if TEMPORAL_CLI is set but does not
 * name an executable file (a typo there should not silently fall back to another CLI).
 */
export function findTemporalCli(opts: FindOptions = {}): string | undefined {
  const { env, rootDir, cacheDir } = resolveDirs(opts);
  const explicit = env.TEMPORAL_CLI;
  if (explicit !== undefined && explicit !== '') {
    const file = path.resolve(explicit);
    if (!isExecutableFile(file)) {
      const why = fs.existsSync(file) ? 'is not an executable file' : 'does not exist';
      throw new Error(
        `TEMPORAL_CLI=${explicit} ${why}. Point TEMPORAL_CLI at the Temporal CLI binary (chmod +x it if needed), or unset it to use \`temporal\` from PATH or build one with Go.`,
      );
    }
    return file;
  }
  return (
    which(EXE, env) ??
    [path.join(rootDir, 'tools', EXE), path.join(cacheDir, EXE)].find((f) => isExecutableFile(f))
  );
}

function notFoundMessage(rootDir: string, cacheDir: string, reason: string): string {
  return (
    `No Temporal CLI found (looked at $TEMPORAL_CLI, \`temporal\` on PATH, ${path.join(rootDir, 'tools', EXE)} ` +
    `and ${path.join(cacheDir, EXE)}) and ${reason}. To get one, either install Go >= 1.22 (https://go.dev/dl/) ` +
    `and rerun — the first start then builds the Temporal CLI ${TEMPORAL_CLI_VERSION} into ${cacheDir}, which takes ` +
    `a few minutes once per machine — or download the Temporal CLI from https://temporal.io/ and set ` +
    `TEMPORAL_CLI=/path/to/temporal (or put \`temporal\` on your PATH).`
  );
}

/** Point `tools/temporal` at the cached binary (best effort: the cache path works without it). */
function linkIntoTools(rootDir: string, target: string, log: (line: string) => void): void {
  const link = path.join(rootDir, 'tools', EXE);
  try {
    fs.mkdirSync(path.dirname(link), { recursive: true });
    let existing: fs.Stats | undefined;
    try {
      existing = fs.lstatSync(link);
    } catch {
      existing = undefined;
    }
    if (existing) {
      if (!existing.isSymbolicLink()) return; // a real file someone put there: leave it alone
      if (fs.readlinkSync(link) === target) return;
      fs.unlinkSync(link);
    }
    fs.symlinkSync(target, link);
  } catch (err) {
    log(`Could not link ${link} -> ${target} (${(err as Error).message}); using ${target} directly.`);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LockOwner {
  pid: number;
  host: string;
  startedAt: number;
}

/** A lock whose owner process is gone (same host), or that is very old, is abandoned. */
function lockIsStale(lockDir: string): boolean {
  try {
    const owner = JSON.parse(fs.readFileSync(path.join(lockDir, 'owner.json'), 'utf8')) as LockOwner;
    if (owner.host === os.hostname() && !processAlive(owner.pid)) return true;
    return Date.now() - owner.startedAt > LOCK_MAX_AGE_MS;
  } catch {
    // No owner file (yet): the owner may be between mkdir and writing it. Judge by the folder's age.
    try {
      return Date.now() - fs.statSync(lockDir).mtimeMs > 60_000;
    } catch {
      return false; // the lock vanished meanwhile
    }
  }
}

/**
 * Take the build lock (mkdir is atomic). Returns a release function, or undefined if the binary showed
 * up while waiting (another process built it).
 */
export async function acquireLock(
  lockDir: string,
  /** When this file appears while waiting, the wait ends without the lock (undefined: wait for the lock). */
  binary: string | undefined,
  log: (line: string) => void,
  everyMs: number,
  what = 'the Temporal CLI',
): Promise<(() => void) | undefined> {
  let announced = false;
  const waitStart = Date.now();
  let lastNote = waitStart;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      const owner: LockOwner = { pid: process.pid, host: os.hostname(), startedAt: Date.now() };
      fs.writeFileSync(path.join(lockDir, 'owner.json'), JSON.stringify(owner));
      const release = () => fs.rmSync(lockDir, { recursive: true, force: true });
      process.once('exit', release);
      return () => {
        process.removeListener('exit', release);
        release();
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (binary !== undefined && isExecutableFile(binary)) return undefined;
    if (lockIsStale(lockDir)) {
      log(`Removing an abandoned build lock ${lockDir}.`);
      fs.rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!announced) {
      log(`Another process is building ${what} (lock ${lockDir}); waiting for it…`);
      announced = true;
    }
    if (Date.now() - lastNote >= everyMs) {
      lastNote = Date.now();
      log(`still waiting for the other build… ${Math.round((lastNote - waitStart) / 1000)}s`);
    }
    await sleep(LOCK_POLL_MS);
  }
}

/**
 * Run `fn` while holding the machine's one Go build lock, `go-build.lock` in `baseDir` (the folder that
 * holds the caches, `~/.cache/incident-orchestrator`): the Temporal CLI and the Temporal server builds
 * never run at the same time, so they do not compete for the CPU, and the second one reuses the
 * packages the first left in Go's build cache (gRPC, protobuf, the Temporal API and SDK).
 */
export async function withGoBuildLock<T>(
  baseDir: string,
  log: (line: string) => void,
  everyMs: number,
  fn: () => Promise<T>,
): Promise<T> {
  fs.mkdirSync(baseDir, { recursive: true });
  const release = await acquireLock(
    path.join(baseDir, 'go-build.lock'),
    undefined,
    log,
    everyMs,
    'a Temporal binary (one Go build at a time)',
  );
  try {
    return await fn();
  } finally {
    release?.();
  }
}

/**
 * Run `go install -v` with GOBIN=outDir. `-v` names each package as it is compiled (~1300 of them):
 * those are counted and summarised in a "still building…" line every 15 s; everything else go prints
 * (`go: downloading …`, errors) is relayed with a `[go]` prefix.
 */
export function goInstall(
  go: string,
  outDir: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  everyMs: number,
  packages: string[] = [`${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`],
  what = 'the Temporal CLI',
): Promise<void> {
  const args = ['install', '-v', ...packages];
  const childEnv: NodeJS.ProcessEnv = { ...env, GOBIN: outDir, CGO_ENABLED: env.CGO_ENABLED ?? '0' };
  const started = Date.now();
  const tail: string[] = [];
  let compiled = 0;
  let lastPackage = '';
  return new Promise<void>((resolve, reject) => {
    const child = spawn(go, args, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const relay = (stream: NodeJS.ReadableStream) => {
      let buffered = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) emit(line);
      });
      stream.on('end', () => {
        if (buffered !== '') emit(buffered);
      });
    };
    const emit = (line: string) => {
      const trimmed = line.trimEnd();
      if (trimmed === '') return;
      tail.push(trimmed);
      if (tail.length > 30) tail.shift();
      if (PACKAGE_LINE.test(trimmed)) {
        compiled += 1;
        lastPackage = trimmed;
      } else {
        log(`  [go] ${trimmed}`);
      }
    };
    relay(child.stdout);
    relay(child.stderr);
    const heartbeat = setInterval(() => {
      const progress = compiled > 0 ? ` (${compiled} packages compiled, last ${lastPackage})` : '';
      log(`still building… ${Math.round((Date.now() - started) / 1000)}s${progress}`);
    }, everyMs);
    heartbeat.unref();
    child.on('error', (err) => {
      clearInterval(heartbeat);
      reject(new Error(`Could not run ${go}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearInterval(heartbeat);
      if (code === 0) return resolve();
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      reject(
        new Error(
          `Building ${what} failed: \`${go} ${args.join(' ')}\` ${how}. ` +
            (what === 'the Temporal CLI'
              ? `Go >= 1.22 is needed (with network access to proxy.golang.org), or download the Temporal CLI from ` +
                `https://temporal.io/ and set TEMPORAL_CLI=/path/to/temporal.`
              : `A recent Go is needed (see the module's go.mod), with network access to proxy.golang.org.`) +
            (tail.length > 0 ? `\nLast output:\n${tail.join('\n')}` : ''),
        ),
      );
    });
  });
}

async function buildTemporalCli(
  go: string,
  rootDir: string,
  cacheDir: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  everyMs: number,
): Promise<string> {
  const binary = path.join(cacheDir, EXE);
  fs.mkdirSync(path.dirname(cacheDir), { recursive: true });
  const release = await acquireLock(`${cacheDir}.lock`, binary, log, everyMs);
  if (!release) {
    log(`The Temporal CLI was built by another process: ${binary}`);
    return binary;
  }
  let tmpDir: string | undefined;
  try {
    if (isExecutableFile(binary)) return binary; // built between our check and taking the lock
    fs.mkdirSync(cacheDir, { recursive: true });
    // We hold the lock, so any leftover build folder is from an interrupted build.
    for (const entry of fs.readdirSync(cacheDir)) {
      if (entry.startsWith('.build-'))
        fs.rmSync(path.join(cacheDir, entry), { recursive: true, force: true });
    }
    tmpDir = fs.mkdtempSync(path.join(cacheDir, '.build-'));
    log(
      `Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go — first start only, takes a few minutes; cached at ${binary}`,
    );
    const started = Date.now();
    const into = tmpDir;
    await withGoBuildLock(path.dirname(cacheDir), log, everyMs, () => goInstall(go, into, env, log, everyMs));
    const built = path.join(tmpDir, EXE);
    if (!isExecutableFile(built)) throw new Error(`go install succeeded but ${built} is missing`);
    fs.renameSync(built, binary); // same filesystem: atomic
    const secs = Math.round((Date.now() - started) / 1000);
    log(
      `Built the Temporal CLI ${TEMPORAL_CLI_VERSION} in ${Math.floor(secs / 60)}m${secs % 60}s: ${binary}`,
    );
    linkIntoTools(rootDir, binary, log);
    return binary;
  } finally {
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
    release();
  }
}

/** Path of an executable Temporal CLI, building it with Go on first use (see the file comment). */
export async function ensureTemporalCli(opts: TemporalCliOptions = {}): Promise<string> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { env, rootDir, cacheDir } = resolveDirs(opts);
  const found = findTemporalCli({ env, rootDir, cacheDir });
  const cached = path.join(cacheDir, EXE);
  if (found !== undefined) {
    if (found === cached) linkIntoTools(rootDir, cached, log);
    return found;
  }
  if (opts.build === false) throw new Error(notFoundMessage(rootDir, cacheDir, 'building it was disabled'));
  const go = which(GO_EXE, env);
  if (go === undefined)
    throw new Error(notFoundMessage(rootDir, cacheDir, '`go` is not on PATH to build one'));
  return buildTemporalCli(go, rootDir, cacheDir, env, log, opts.progressIntervalMs ?? PROGRESS_INTERVAL_MS);
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
  ensureTemporalCli().then(
    (cli) => {
      process.stdout.write(`${cli}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
