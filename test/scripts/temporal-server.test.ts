/**
 * scripts/temporal-server.ts with a stand-in `go` (the real build takes 10+ minutes): it builds both
 * binaries into the cache with progress lines, copies the module's PostgreSQL schema files (writable),
 * is instant once cached, and never runs its Go build at the same time as the Temporal CLI's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureTemporalCli } from '../../scripts/temporal-cli.js';
import {
  ensureTemporalServer,
  findTemporalServer,
  TEMPORAL_SERVER_PACKAGES,
  temporalServerConfig,
} from '../../scripts/temporal-server.js';

let tmp: string;
let binDir: string;
let xdg: string;
let moduleDir: string;
let callsFile: string;

function writeExecutable(file: string, body: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, body, { mode: 0o755 });
}

/**
 * `go install` logs start and end times and "builds" a binary named after each package's last path
 * element; `go mod download -json` names a read-only module folder holding the schema files.
 */
function fakeGo(): void {
  writeExecutable(
    path.join(binDir, 'go'),
    [
      '#!/bin/sh',
      'if [ "$1" = mod ]; then',
      `  printf '{"Path":"go.temporal.io/server","Version":"v1.29.1","Dir":"%s"}\\n' '${moduleDir}'`,
      '  exit 0',
      'fi',
      `echo "start $(/bin/date +%s%N) $*" >> '${callsFile}'`,
      'echo "go.temporal.io/server/common/persistence" >&2',
      '/bin/sleep 0.6',
      'shift 2',
      'for pkg in "$@"; do',
      '  name=${pkg%@*}; name=${name##*/}',
      '  printf "#!/bin/sh\\necho %s\\n" "$name" > "$GOBIN/$name"',
      '  /bin/chmod +x "$GOBIN/$name"',
      'done',
      `echo "end $(/bin/date +%s%N)" >> '${callsFile}'`,
      '',
    ].join('\n'),
  );
}

beforeEach(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-server-test-')));
  binDir = path.join(tmp, 'bin');
  xdg = path.join(tmp, 'xdg-cache');
  moduleDir = path.join(tmp, 'mod', 'go.temporal.io', 'server@v1.29.1');
  callsFile = path.join(tmp, 'go-calls.log');
  for (const d of [binDir, xdg]) fs.mkdirSync(d, { recursive: true });
  for (const part of ['temporal', 'visibility']) {
    const dir = path.join(moduleDir, 'schema', 'postgresql', 'v12', part, 'versioned', 'v1.0');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'manifest.json'), '{}');
  }
  // Go's module cache is read-only.
  const readOnly = (p: string) => {
    if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) readOnly(path.join(p, e));
    fs.chmodSync(p, fs.statSync(p).isDirectory() ? 0o555 : 0o444);
  };
  readOnly(path.join(moduleDir, 'schema'));
  fakeGo();
});

afterEach(() => {
  const writable = (p: string) => {
    if (!fs.existsSync(p)) return;
    fs.chmodSync(p, 0o755);
    if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) writable(path.join(p, e));
  };
  writable(path.join(moduleDir, 'schema'));
  fs.rmSync(tmp, { recursive: true, force: true });
});

const env = () => ({ PATH: binDir, HOME: path.join(tmp, 'home'), XDG_CACHE_HOME: xdg });
const builds = () =>
  fs
    .readFileSync(callsFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' '));

describe('ensureTemporalServer', () => {
  it('builds temporal-server and temporal-sql-tool once, with progress lines, and copies the schema files', async () => {
    const lines: string[] = [];
    const b = await ensureTemporalServer({ env: env(), log: (l) => lines.push(l), progressIntervalMs: 200 });
    const cache = path.join(xdg, 'incident-orchestrator', 'temporal-server-v1.29.1');
    expect(b.server).toBe(path.join(cache, 'server'));
    expect(b.sqlTool).toBe(path.join(cache, 'sql'));
    expect(fs.readFileSync(b.server, 'utf8')).toContain('echo server');
    expect(
      fs.existsSync(path.join(b.postgresSchemaDir, 'visibility', 'versioned', 'v1.0', 'manifest.json')),
    ).toBe(true);
    // One `go install` of both packages.
    expect(
      builds()
        .filter((c) => c[0] === 'start')
        .map((c) => c.slice(2).join(' ')),
    ).toEqual([`install -v ${TEMPORAL_SERVER_PACKAGES.join(' ')}`]);
    expect(lines[0]).toMatch(/^Building the Temporal server v1\.29\.1 and temporal-sql-tool with Go/);
    expect(lines.some((l) => /^still building… \d+s \(1 packages compiled/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^Built the Temporal server v1\.29\.1 in 0m\ds: /);
    // The copy is removable (the module cache is read-only), and nothing of the build is left over.
    fs.writeFileSync(path.join(b.postgresSchemaDir, 'temporal', 'versioned', 'v1.0', 'manifest.json'), '{}');
    expect(fs.readdirSync(cache).sort()).toEqual(['schema', 'server', 'sql']);

    // Cached: found without Go, and no second build.
    expect(findTemporalServer({ env: env() })).toEqual(b);
    const again: string[] = [];
    expect(await ensureTemporalServer({ env: env(), log: (l) => again.push(l) })).toEqual(b);
    expect(again).toEqual([]);
    expect(builds().filter((c) => c[0] === 'start')).toHaveLength(1);
  });

  it('says what to install when there is no build and no Go', async () => {
    await expect(
      ensureTemporalServer({ env: { PATH: path.join(tmp, 'empty'), XDG_CACHE_HOME: xdg }, log: () => {} }),
    ).rejects.toThrow(/`go` is not on PATH to build one: install Go \(https:\/\/go\.dev\/dl\/\)/);
  });

  it('never runs its Go build at the same time as the Temporal CLI build (one Go build lock)', async () => {
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    await Promise.all([
      ensureTemporalCli({ env: env(), rootDir: path.join(tmp, 'repo'), log, progressIntervalMs: 200 }),
      ensureTemporalServer({ env: env(), log, progressIntervalMs: 200 }),
    ]);
    const calls = builds();
    expect(calls.map((c) => c[0])).toEqual(['start', 'end', 'start', 'end']);
    const [s1, e1, s2] = calls.map((c) => Number(c[1]));
    expect(s2!).toBeGreaterThanOrEqual(e1!);
    expect(s1!).toBeLessThan(e1!);
    expect(
      lines.some((l) => /^Another process is building a Temporal binary \(one Go build at a time\)/.test(l)),
    ).toBe(true);
  });
});

describe('temporalServerConfig', () => {
  it('binds every service to loopback, uses postgres12 and never writes the password into the file', () => {
    const text = temporalServerConfig({
      db: { host: '127.0.0.1', port: 5432, user: 'temporal', passwordEnv: 'TEMPORAL_DB_PASSWORD' },
      ports: {
        frontend: 7233,
        frontendHttp: 7243,
        frontendMembership: 6933,
        history: 7234,
        historyMembership: 6934,
        matching: 7235,
        matchingMembership: 6935,
        worker: 7239,
        workerMembership: 6939,
      },
      dynamicConfigFile: '/etc/temporal/dynamicconfig.yaml',
    });
    expect(text.split('\n')[0]).toMatch(/^# enable-template/);
    expect(text.match(/bindOnIP: 127\.0\.0\.1/g)).toHaveLength(4);
    expect(text.match(/pluginName: postgres12/g)).toHaveLength(2);
    expect(text.match(/password: '\{\{ env "TEMPORAL_DB_PASSWORD" \}\}'/g)).toHaveLength(2);
    expect(text).toContain('rpcAddress: 127.0.0.1:7233');
    expect(text).not.toMatch(/0\.0\.0\.0|prometheus|pprof/);
  });
});
