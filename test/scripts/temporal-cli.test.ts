import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  defaultCacheDir,
  ensureTemporalCli,
  findTemporalCli,
  TEMPORAL_CLI_MODULE,
  TEMPORAL_CLI_VERSION,
} from '../../scripts/temporal-cli.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let tmp: string;
/** Repo root stand-in (holds tools/). */
let rootDir: string;
/** Empty folder used as the only PATH entry, so neither `temporal` nor `go` is found. */
let binDir: string;
let xdg: string;
let home: string;

function writeExecutable(file: string, body: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, body, { mode: 0o755 });
  return file;
}

const fakeTemporal = (file: string) => writeExecutable(file, '#!/bin/sh\necho fake temporal\n');

/** A `go` that records its arguments and GOBIN, then "builds" a temporal binary into $GOBIN. */
function fakeGo(opts: { fail?: boolean } = {}): { callsFile: string } {
  const callsFile = path.join(tmp, 'go-calls.log');
  const body = opts.fail
    ? `#!/bin/sh\necho "go: something broke" >&2\nexit 3\n`
    : [
        '#!/bin/sh',
        `echo "$* GOBIN=$GOBIN CGO_ENABLED=$CGO_ENABLED" >> '${callsFile}'`,
        'echo "go: downloading github.com/temporalio/cli v1.5.1" >&2',
        'echo "github.com/temporalio/cli/temporalcli" >&2',
        '/bin/sleep 0.4',
        'printf "#!/bin/sh\\necho built temporal\\n" > "$GOBIN/temporal"',
        '/bin/chmod +x "$GOBIN/temporal"',
        '',
      ].join('\n');
  writeExecutable(path.join(binDir, 'go'), body);
  return { callsFile };
}

function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: binDir, HOME: home, XDG_CACHE_HOME: xdg, ...extra };
}

beforeEach(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-cli-test-')));
  rootDir = path.join(tmp, 'repo');
  binDir = path.join(tmp, 'bin');
  xdg = path.join(tmp, 'xdg-cache');
  home = path.join(tmp, 'home');
  for (const d of [rootDir, binDir, xdg, home]) fs.mkdirSync(d, { recursive: true });
});

afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('findTemporalCli / ensureTemporalCli: lookup order', () => {
  it('throws a clear error naming TEMPORAL_CLI when it points at a non-executable file', async () => {
    const file = path.join(tmp, 'not-executable');
    fs.writeFileSync(file, 'hello', { mode: 0o644 });
    const env = baseEnv({ TEMPORAL_CLI: file });
    expect(() => findTemporalCli({ env, rootDir })).toThrow(
      /TEMPORAL_CLI=.*not-executable is not an executable/,
    );
    await expect(ensureTemporalCli({ env, rootDir, log: () => {} })).rejects.toThrow(
      `TEMPORAL_CLI=${file} is not an executable file`,
    );
  });

  it('throws when TEMPORAL_CLI points at nothing, instead of silently using another CLI', async () => {
    fakeTemporal(path.join(binDir, 'temporal'));
    const env = baseEnv({ TEMPORAL_CLI: path.join(tmp, 'missing', 'temporal') });
    await expect(ensureTemporalCli({ env, rootDir, log: () => {} })).rejects.toThrow(
      /TEMPORAL_CLI=.*missing\/temporal does not exist/,
    );
  });

  it('returns TEMPORAL_CLI when it is executable, ahead of PATH', async () => {
    const cli = fakeTemporal(path.join(tmp, 'custom', 'my-temporal'));
    fakeTemporal(path.join(binDir, 'temporal'));
    const env = baseEnv({ TEMPORAL_CLI: cli });
    await expect(ensureTemporalCli({ env, rootDir, log: () => {} })).resolves.toBe(cli);
    expect(findTemporalCli({ env, rootDir })).toBe(cli);
  });

  it('uses `temporal` on PATH before tools/ and the cache', async () => {
    const onPath = fakeTemporal(path.join(binDir, 'temporal'));
    fakeTemporal(path.join(rootDir, 'tools', 'temporal'));
    fakeTemporal(path.join(defaultCacheDir(baseEnv()), 'temporal'));
    await expect(ensureTemporalCli({ env: baseEnv(), rootDir, log: () => {} })).resolves.toBe(onPath);
  });

  it('uses tools/temporal before the cache', async () => {
    const tools = fakeTemporal(path.join(rootDir, 'tools', 'temporal'));
    fakeTemporal(path.join(defaultCacheDir(baseEnv()), 'temporal'));
    await expect(ensureTemporalCli({ env: baseEnv(), rootDir, log: () => {} })).resolves.toBe(tools);
  });

  it('finds the cache under XDG_CACHE_HOME and links tools/temporal to it', async () => {
    const cached = fakeTemporal(
      path.join(xdg, 'incident-orchestrator', `temporal-cli-${TEMPORAL_CLI_VERSION}`, 'temporal'),
    );
    await expect(ensureTemporalCli({ env: baseEnv(), rootDir, log: () => {} })).resolves.toBe(cached);
    expect(fs.readlinkSync(path.join(rootDir, 'tools', 'temporal'))).toBe(cached);
  });

  it('falls back to ~/.cache without XDG_CACHE_HOME', () => {
    expect(defaultCacheDir({ HOME: home })).toBe(
      path.join(home, '.cache', 'incident-orchestrator', 'temporal-cli-v1.5.1'),
    );
  });

  it('without a CLI and without go, explains in one paragraph how to get one', async () => {
    expect(findTemporalCli({ env: baseEnv(), rootDir })).toBeUndefined();
    const err = await ensureTemporalCli({ env: baseEnv(), rootDir, log: () => {} }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    const message = err?.message ?? '';
    expect(message).not.toContain('\n');
    expect(message).toContain('Go >= 1.22');
    expect(message).toContain('https://temporal.io/');
    expect(message).toContain('TEMPORAL_CLI=/path/to/temporal');
    expect(message).toContain('`go` is not on PATH');
    expect(fs.existsSync(path.join(rootDir, 'tools'))).toBe(false);
  });

  it('with build: false, does not run go', async () => {
    const { callsFile } = fakeGo();
    await expect(ensureTemporalCli({ env: baseEnv(), rootDir, build: false, log: () => {} })).rejects.toThrow(
      /building it was disabled.*TEMPORAL_CLI=\/path\/to\/temporal/,
    );
    expect(fs.existsSync(callsFile)).toBe(false);
  });
});

describe('ensureTemporalCli: building with go (fake go)', () => {
  it('builds into a temp dir, renames into the cache, links tools/temporal and reports progress', async () => {
    const { callsFile } = fakeGo();
    const lines: string[] = [];
    const cacheDir = defaultCacheDir(baseEnv());
    const cli = await ensureTemporalCli({
      env: baseEnv(),
      rootDir,
      log: (l) => lines.push(l),
      progressIntervalMs: 150,
    });

    expect(cli).toBe(path.join(cacheDir, 'temporal'));
    expect(fs.statSync(cli).mode & 0o111).not.toBe(0);
    expect(fs.readlinkSync(path.join(rootDir, 'tools', 'temporal'))).toBe(cli);
    // nothing left behind: no temp build folder, no lock
    expect(fs.readdirSync(cacheDir)).toEqual(['temporal']);
    expect(fs.existsSync(`${cacheDir}.lock`)).toBe(false);

    const calls = fs.readFileSync(callsFile, 'utf8').trim().split('\n');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toContain(`install -v ${TEMPORAL_CLI_MODULE}@v1.5.1`);
    const gobin = /GOBIN=(\S+)/.exec(calls[0] ?? '')?.[1] ?? '';
    expect(path.dirname(gobin)).toBe(cacheDir);
    expect(path.basename(gobin)).toMatch(/^\.build-/);
    expect(calls[0]).toContain('CGO_ENABLED=0');

    const buildLine = lines.findIndex((l) =>
      l.startsWith(
        'Building the Temporal CLI v1.5.1 with Go — first start only, takes a few minutes; cached at',
      ),
    );
    expect(buildLine).toBeGreaterThanOrEqual(0);
    // go's messages are relayed; the per-package lines of -v only feed the periodic progress line
    expect(lines).toContain('  [go] go: downloading github.com/temporalio/cli v1.5.1');
    expect(lines).not.toContain('  [go] github.com/temporalio/cli/temporalcli');
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^still building… \d+s \(1 packages compiled, last github\.com\/temporalio\/cli\/temporalcli\)$/,
      ),
    );
    expect(lines.at(-1)).toMatch(/^Built the Temporal CLI v1\.5\.1 in 0m\ds: /);

    // second call: found in tools/, no new build
    await expect(ensureTemporalCli({ env: baseEnv(), rootDir, log: () => {} })).resolves.toBe(
      path.join(rootDir, 'tools', 'temporal'),
    );
    expect(fs.readFileSync(callsFile, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('builds once when two callers race; the second waits for the first', async () => {
    const { callsFile } = fakeGo();
    const lines: string[] = [];
    const opts = { env: baseEnv(), rootDir, log: (l: string) => lines.push(l) };
    const [a, b] = await Promise.all([ensureTemporalCli(opts), ensureTemporalCli(opts)]);
    expect(a).toBe(b);
    expect(fs.readFileSync(callsFile, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(lines.some((l) => l.startsWith('Another process is building the Temporal CLI'))).toBe(true);
  });

  it('takes over a lock abandoned by a dead process', async () => {
    fakeGo();
    const cacheDir = defaultCacheDir(baseEnv());
    fs.mkdirSync(`${cacheDir}.lock`, { recursive: true });
    fs.writeFileSync(
      path.join(`${cacheDir}.lock`, 'owner.json'),
      JSON.stringify({ pid: 2 ** 31 - 2, host: os.hostname(), startedAt: Date.now() }),
    );
    // and a half-finished build from it
    fs.mkdirSync(path.join(cacheDir, '.build-leftover'), { recursive: true });
    fs.writeFileSync(path.join(cacheDir, '.build-leftover', 'temporal'), 'half');
    const lines: string[] = [];
    await expect(ensureTemporalCli({ env: baseEnv(), rootDir, log: (l) => lines.push(l) })).resolves.toBe(
      path.join(cacheDir, 'temporal'),
    );
    expect(lines.some((l) => l.startsWith('Removing an abandoned build lock'))).toBe(true);
    expect(fs.readdirSync(cacheDir)).toEqual(['temporal']);
  });

  it('a failed build leaves no binary, no temp folder and no lock, and shows go output', async () => {
    fakeGo({ fail: true });
    const cacheDir = defaultCacheDir(baseEnv());
    await expect(ensureTemporalCli({ env: baseEnv(), rootDir, log: () => {} })).rejects.toThrow(
      /exited with code 3[\s\S]*go: something broke/,
    );
    expect(fs.readdirSync(cacheDir)).toEqual([]);
    expect(fs.existsSync(`${cacheDir}.lock`)).toBe(false);
    expect(fs.existsSync(path.join(rootDir, 'tools', 'temporal'))).toBe(false);
  });
});

describe('tsx scripts/temporal-cli.ts', () => {
  const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
  const script = path.join(repoRoot, 'scripts', 'temporal-cli.ts');
  const run = (env: NodeJS.ProcessEnv) =>
    spawnSync(tsx, [script], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });

  it('prints the path and exits 0', () => {
    const cli = fakeTemporal(path.join(tmp, 'cli', 'temporal'));
    const res = run({ TEMPORAL_CLI: cli });
    expect(res.stdout.trim()).toBe(cli);
    expect(res.status).toBe(0);
  });

  it('prints the error and exits 1', () => {
    const file = path.join(tmp, 'not-executable');
    fs.writeFileSync(file, '', { mode: 0o644 });
    const res = run({ TEMPORAL_CLI: file });
    expect(res.status).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain(`TEMPORAL_CLI=${file} is not an executable file`);
  });
});
