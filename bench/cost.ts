/**
 * 12. What the monitors cost in all, the way issue #15 measured it, against a baseline measured in
 * the same run. The system under test is what `npm start` runs (`node dist/scripts/start.js`: the
 * Temporal dev server with its SQLite file, the worker, the API, PGlite inside start.js), given a
 * generated config of n `tcp` checks at a 30 s interval (timeout 5 s), each against its own listener
 * on 127.0.0.1. The baseline is a bare Node probe loop (bench/bare-loop.ts, compiled, plain `node`):
 * the same probes, timers, jitter, concurrency and thresholds, no Temporal, no store.
 *
 * Each side, one after the other (never both at once): start, wait until every check has probed once
 * ("start → every check probing"), 1.5 intervals more, then a window (120 s; --quick 60 s). CPU is
 * utime + stime of the whole process tree (re-scanned from /proc at the window's start and end), RSS
 * the tree's sum sampled every 2 s (median), disk the tree's /proc/<pid>/io write_bytes. Probes are
 * counted by the listeners, which run in a process of their own (bench/listeners-process.ts).
 *
 * Detection at 5 s × 3, after the 1,000-check window of each side: 2 × 15 more checks (interval 5 s,
 * failThreshold 3, timeout 5 s) are added (the system: its config file is rewritten and the worker
 * reloads it), then faults staggered by a few seconds: k refused (the listener closes) and k silently
 * dropped (an iptables DROP rule on the port, removed in `finally`). System: fault → level-1 page mail
 * received by the bench's SMTP server. Bare loop: fault → threshold crossed.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import { freePort } from '../scripts/dev-server.js';
import { durationMs } from '../domain/duration.js';
import { startSmtpServer, type TestSmtpServer } from '../test/helpers/smtp-server.js';
import type { Config, ProbeCheck } from '../domain/config-schema.js';
import type { BareCheck, BareMessage, BareSpec } from './bare-loop.js';
import {
  benchDir,
  genConfig,
  ids,
  machineInfo,
  percentile,
  round,
  roundSummary,
  row,
  sleep,
  summarize,
  type BenchContext,
  type BenchOptions,
  type BenchResult,
  type Row,
} from './lib.js';

const root = path.resolve(benchDir, '..');
const intervalS = 30;
const detectIntervalS = 5;
const detectFailThreshold = 3;
/**
 * Faults of each kind per side. A fault's detection time depends on where in the interval it falls
 * (0–5 s at 5 s × 3), so the p50 of 5 moved by ±1.5 s between runs of the same schedule; 15 is
 * enough to tell 7.5 s from 9 s.
 */
const faultsPerKind = 15;
/** Issue #15's figures, quoted (not measured here). */
const quoted = {
  source: 'issue #15, measured side by side on this machine type before the change',
  thisProjectToday: {
    cpuSecondsPerMinute: '10.5 / 12.7 (Temporal 7.4 / 9.4, worker 3.1 / 3.3)',
    rssMiB: '1,035 / 1,044',
    diskMBPerMinute: 154,
    detectionP50Seconds: { refused: 7.5, dropped: 16.8 },
  },
  gatusV536: {
    cpuSecondsPerMinute: 1.5,
    rssMiB: 54,
    diskMBPerMinute: 0.3,
    detectionP50Seconds: { refused: 12.9, dropped: 47.8 },
  },
};

// ---- the process tree, read from /proc -------------------------------------------------------------

interface Proc {
  pid: number;
  ppid: number;
  /** Field 22: when the process started (clock ticks since boot); tells a reused pid apart. */
  starttime: number;
  cpu: number;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command name: state (index 0), ppid (1), utime (11), stime (12), starttime (19).
    return { pid, ppid: Number(f[1]), starttime: Number(f[19]), cpu: (Number(f[11]) + Number(f[12])) / 100 };
  } catch {
    return undefined;
  }
}

/** `rootPid` and every descendant, found through the ppid of every process in /proc. */
function tree(rootPid: number): Proc[] {
  const all: Proc[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const p = readProc(Number(e));
    if (p) all.push(p);
  }
  const byParent = new Map<number, Proc[]>();
  for (const p of all) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const rootProc = all.find((p) => p.pid === rootPid);
  if (!rootProc) return [];
  const out: Proc[] = [];
  const queue = [rootProc];
  while (queue.length) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(byParent.get(p.pid) ?? []));
  }
  return out;
}

const readOr = (file: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};
const writeBytes = (pid: number) =>
  Number(/^write_bytes:\s+(\d+)/m.exec(readOr(`/proc/${pid}/io`))?.[1] ?? 0);
const rssMiB = (pid: number) =>
  Number(/^VmRSS:\s+(\d+) kB/m.exec(readOr(`/proc/${pid}/status`))?.[1] ?? 0) / 1024;

/** What a process of `npm start`'s tree is, from its command line (its parent's role for a grandchild). */
function systemRoles(rootPid: number) {
  const known = new Map<number, string>();
  return (p: Proc, parentRole?: string): string => {
    const seen = known.get(p.pid);
    if (seen) return seen;
    const argv = readOr(`/proc/${p.pid}/cmdline`).split('\0');
    const role =
      p.pid === rootPid
        ? 'start+store'
        : path.basename(argv[0] ?? '').startsWith('temporal')
          ? 'temporal'
          : argv.some((a) => a.includes('worker/main'))
            ? 'worker'
            : argv.some((a) => a.includes('api/server'))
              ? 'api'
              : parentRole && parentRole !== 'start+store'
                ? parentRole
                : 'other';
    known.set(p.pid, role);
    return role;
  };
}

interface Snapshot {
  at: number;
  procs: Map<number, { role: string; cpu: number; writeBytes: number; starttime: number }>;
}

function snapshot(rootPid: number, roleOf: (p: Proc, parentRole?: string) => string): Snapshot {
  const procs: Snapshot['procs'] = new Map();
  for (const p of tree(rootPid)) {
    const role = roleOf(p, procs.get(p.ppid)?.role);
    procs.set(p.pid, { role, cpu: p.cpu, writeBytes: writeBytes(p.pid), starttime: p.starttime });
  }
  return { at: Date.now(), procs };
}

/** Every process a side's tree ever had (pid + starttime), so that none outlives the benchmark. */
const seenProcs = new Map<number, number>();
function remember(s: Snapshot) {
  for (const [pid, p] of s.procs) seenProcs.set(pid, p.starttime);
}
function killSeen(pids: Iterable<number>) {
  for (const pid of pids) {
    const starttime = seenProcs.get(pid);
    const now = readProc(pid);
    if (now && now.starttime === starttime) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
}
process.once('exit', () => killSeen([...seenProcs.keys()]));

// ---- listeners (a child process) -------------------------------------------------------------------------

interface Listeners {
  ports: number[];
  counts(): Promise<number[]>;
  /** Stops listener i (connections refused from then on); resolves with when it stopped. */
  close(i: number): Promise<number>;
  stop(): Promise<void>;
}

async function startListeners(n: number): Promise<Listeners> {
  const child = fork(path.join(benchDir, 'listeners-process.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_LISTENERS: String(n) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, (m: Record<string, unknown>) => void>();
  let seq = 0;
  const ports = await new Promise<number[]>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`listeners process exited (code ${code})`)));
    child.on('message', (m: Record<string, unknown>) => {
      if (m.type === 'ready') resolve(m.ports as number[]);
      else if (m.type === 'failed') reject(new Error(`listeners process: ${String(m.error)}`));
      else if (typeof m.id === 'number') {
        pending.get(m.id)?.(m);
        pending.delete(m.id);
      }
    });
  });
  const ask = (req: Record<string, unknown>) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = ++seq;
      pending.set(id, resolve);
      child.send({ ...req, id }, (e) => e && reject(e));
    });
  return {
    ports,
    counts: async () => (await ask({ type: 'counts' })).counts as number[],
    close: async (index) => (await ask({ type: 'close', index })).at as number,
    stop: () => stopChild(child, 5_000),
  };
}

async function stopChild(child: ChildProcess, graceMs: number) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    child.send({ type: 'stop' });
  } catch {
    child.kill('SIGTERM');
  }
  await Promise.race([exited, sleep(graceMs)]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
}

// ---- the two sides ------------------------------------------------------------------------------------------

interface Side {
  kind: 'system' | 'bare';
  pid: number;
  spawnedAt: number;
  /** The system's "ready" line (spawn → ready). */
  readyMs?: number;
  /**
   * Resolves with when every monitor is running: the worker's "monitors: N running" line, printed
   * when its reconcile at start has ended (the system only). The probe shards start first, so
   * checks probe before this; the window waits for it, so that it measures the steady state and not
   * the start-up (10,000 monitors' workflow starts: 49 Temporal CPU-s/min while they ran).
   */
  monitorsRunning?: Promise<number>;
  /**
   * Workflow tasks the worker has run for monitor workflows so far (the SDK's
   * `temporal_workflow_task_execution_latency_seconds_count{workflow_type="monitorWorkflow"}` on the
   * worker's /metrics; undefined for the bare loop or when unreadable). After reconcile ends, the
   * worker still works off the monitors' first workflow tasks; the window waits for that too.
   */
  monitorTasks?: () => Promise<number | undefined>;
  roleOf: (p: Proc, parentRole?: string) => string;
  /** Adds the detection checks (the system: a rewritten config file, which the worker reloads). */
  addChecks(config: Config, extra: BareCheck[]): Promise<void>;
  /** Resolves when check `checkId`'s fault has been noticed (page mail / threshold), with when. */
  noticed(service: string, checkId: string, since: number, timeoutMs: number): Promise<number | undefined>;
  stop(): Promise<void>;
}

const strippedEnv = () =>
  Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        !/^(DATABASE_URL|TEMPORAL_|OTEL_|STAFF_TOKENS|ACK_LINK_SECRET|SESSION_SECRET|PORT$|HOST$|SMTP_URL|INCIDENT_CONFIG|DATA_DIR|LOG_LEVEL|WORKER_METRICS_ADDRESS|RECORDS_PORT|PUBLIC_BASE_URL|HISTORY_RETENTION_DAYS)/.test(
          k,
        ),
    ),
  );

/**
 * The Temporal dev server takes free ports of its own as it starts (its internal services), so a
 * port picked for start.js beforehand can be gone by the time start.js listens on it (seen once:
 * the record store's, EADDRINUSE). Then start again, in a fresh folder, with new ports.
 */
async function startSystem(
  ctx: BenchContext,
  dir: string,
  config: Config,
  smtp: TestSmtpServer,
): Promise<Side> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startSystemOnce(ctx, attempt === 1 ? dir : `${dir}-${attempt}`, config, smtp);
    } catch (e) {
      const line = /.*EADDRINUSE.*/.exec((e as Error).message)?.[0];
      if (!line || attempt >= 3) throw e;
      ctx.log(`system start ${attempt}: ${line.trim()}; starting again with new ports`);
    }
  }
}

async function startSystemOnce(
  ctx: BenchContext,
  dir: string,
  config: Config,
  smtp: TestSmtpServer,
): Promise<Side> {
  mkdirSync(dir, { recursive: true });
  const configPath = path.join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(config));
  const [temporalPort, uiPort, recordsPort, apiPort, metricsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const env = {
    ...strippedEnv(),
    INCIDENT_CONFIG: configPath,
    DATA_DIR: path.join(dir, 'data'),
    TEMPORAL_PORT: String(temporalPort),
    TEMPORAL_UI_PORT: String(uiPort),
    RECORDS_PORT: String(recordsPort),
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    SMTP_URL: smtp.url,
    WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
  };
  const spawnedAt = Date.now();
  // Its own process group; start.js puts each of its children into one of their own too.
  const child = spawn(process.execPath, [path.join(root, 'dist/scripts/start.js')], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = child.pid!;
  const roleOf = systemRoles(pid);
  const tail: string[] = [];
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
  };
  createInterface({ input: child.stderr! }).on('line', keep);
  let running: (at: number) => void = () => undefined;
  const monitorsRunning = new Promise<number>((r) => (running = r));
  const ready = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      keep(line);
      if (line.startsWith('[start] ready')) resolve(Date.now());
      const m = /^\[worker\] monitors: (\d+) running/.exec(line);
      if (m && Number(m[1]) >= config.checks.length) running(Date.now());
    });
    child.once('exit', (code) =>
      reject(new Error(`npm start's start.js exited (code ${code}):\n${tail.join('\n')}`)),
    );
  });
  ready.catch(() => undefined);
  const stop = async () => {
    const last = snapshot(pid, roleOf);
    remember(last);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      // start.js stops the API, the worker and Temporal in order within 10 s.
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }
    }
    // Whatever of the tree is still there (each child has its own process group): killed by pid.
    await sleep(500);
    killSeen(last.procs.keys());
  };
  const timer = setInterval(() => remember(snapshot(pid, roleOf)), 5_000);
  let readyAt: number;
  try {
    readyAt = await Promise.race([
      ready,
      sleep(300_000).then(() => Promise.reject(new Error(`no ready line in 300 s:\n${tail.join('\n')}`))),
    ]);
  } catch (e) {
    clearInterval(timer);
    await stop();
    throw e;
  }
  ctx.log(`system ready after ${((readyAt - spawnedAt) / 1000).toFixed(1)} s (pid ${pid})`);
  return {
    kind: 'system',
    pid,
    spawnedAt,
    readyMs: readyAt - spawnedAt,
    monitorsRunning,
    monitorTasks: async () => {
      try {
        const r = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, {
          signal: AbortSignal.timeout(5000),
        });
        // By hand, not parse-prometheus-text-format (the tests' parser): it merges this histogram's
        // series and drops their labels and counts (tried on a live worker's /metrics).
        let sum: number | undefined;
        for (const line of (await r.text()).split('\n'))
          if (
            line.startsWith('temporal_workflow_task_execution_latency_seconds_count{') &&
            line.includes('workflow_type="monitorWorkflow"')
          )
            sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
        return sum;
      } catch {
        return undefined;
      }
    },
    roleOf,
    addChecks: async (next) => {
      // The worker polls its config file every second and reconciles the monitors on a change.
      writeFileSync(`${configPath}.tmp`, JSON.stringify(next));
      execFileSync('mv', [`${configPath}.tmp`, configPath]);
    },
    noticed: async (service, _checkId, since, timeoutMs) => {
      const name = `Bench service ${service}:`;
      try {
        const m = await smtp.waitFor(
          (x) =>
            x.to.includes('kari@bench.local') && x.subject.includes(name) && x.receivedAt.getTime() >= since,
          timeoutMs,
        );
        return m.receivedAt.getTime();
      } catch {
        return undefined;
      }
    },
    stop: async () => {
      clearInterval(timer);
      await stop();
    },
  };
}

/** bench/bare-loop.ts as one JavaScript file (esbuild), run by plain `node` as the system's code is. */
async function compileBareLoop(tmpDir: string): Promise<string> {
  const dir = path.join(tmpDir, 'cost-bare-loop');
  mkdirSync(dir, { recursive: true });
  const outfile = path.join(dir, 'bare-loop.mjs');
  await build({
    entryPoints: [path.join(benchDir, 'bare-loop.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Packages stay imports, found through a node_modules link next to the file.
    packages: 'external',
    logLevel: 'warning',
  });
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  return outfile;
}

async function startBare(file: string, dir: string, checks: BareCheck[]): Promise<Side> {
  mkdirSync(dir, { recursive: true });
  const specPath = path.join(dir, 'spec.json');
  writeFileSync(specPath, JSON.stringify({ checks } satisfies BareSpec));
  const spawnedAt = Date.now();
  const child = fork(file, [], {
    execArgv: [],
    env: { ...strippedEnv(), BENCH_BARE_SPEC: specPath },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pid = child.pid!;
  const changes: { checkId: string; at: number }[] = [];
  const waiters = new Set<() => void>();
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bare loop exited (code ${code})`)));
    child.on('message', (m: BareMessage) => {
      if (m.type === 'ready') resolve();
      else if (m.type === 'changed' && m.health === 'failing') {
        changes.push(m);
        for (const w of waiters) w();
      }
    });
  });
  return {
    kind: 'bare',
    pid,
    spawnedAt,
    roleOf: () => 'bare loop',
    addChecks: async (_config, extra) => {
      child.send({ type: 'add', checks: extra });
    },
    noticed: (_service, checkId, since, timeoutMs) =>
      new Promise((resolve) => {
        const check = () => {
          const c = changes.find((x) => x.checkId === checkId && x.at >= since);
          if (!c) return;
          done();
          resolve(c.at);
        };
        const timer = setTimeout(() => {
          done();
          resolve(undefined);
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    stop: () => stopChild(child, 5_000),
  };
}

// ---- measuring ---------------------------------------------------------------------------------------------

interface WindowFigures {
  seconds: number;
  cpuSecondsPerMinute: number;
  cpuByRole: Record<string, number>;
  rssMiB: number;
  rssMaxMiB: number;
  rssByRoleMiB: Record<string, number>;
  rssSamplesMiB: number[];
  diskMBPerMinute: number;
  diskByRoleMBPerMinute: Record<string, number>;
  probesPerMinute: number;
  /** Checks whose listener was probed at least once in the window. */
  checksProbed: number;
  processes: { pid: number; role: string; cpuSecondsPerMinute: number }[];
  /** Processes that were there at the window's start and gone at its end (their CPU is not counted). */
  exitedDuringWindow: number;
  loadavg: { start: number[]; end: number[] };
}

const sumFirst = (xs: number[], n: number) => xs.slice(0, n).reduce((a, b) => a + b, 0);
const mapValues = (o: Record<string, number>, f: (x: number) => number) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));

async function measureWindow(side: Side, seconds: number, listeners: Listeners, n: number) {
  const load = () => os.loadavg().map((x) => round(x, 2));
  const loadStart = load();
  const counts0 = await listeners.counts();
  const s0 = snapshot(side.pid, side.roleOf);
  remember(s0);
  const rssTotal: number[] = [];
  const rssRoles: Record<string, number[]> = {};
  while (Date.now() - s0.at < seconds * 1000) {
    await sleep(Math.min(2000, seconds * 1000 - (Date.now() - s0.at)));
    const byRole: Record<string, number> = {};
    for (const p of tree(side.pid)) {
      const role = side.roleOf(p);
      byRole[role] = (byRole[role] ?? 0) + rssMiB(p.pid);
    }
    rssTotal.push(Object.values(byRole).reduce((a, b) => a + b, 0));
    for (const [r, v] of Object.entries(byRole)) (rssRoles[r] ??= []).push(v);
  }
  const s1 = snapshot(side.pid, side.roleOf);
  remember(s1);
  const counts1 = await listeners.counts();
  const minutes = (s1.at - s0.at) / 60_000;
  const cpuByRole: Record<string, number> = {};
  const diskByRole: Record<string, number> = {};
  const processes: WindowFigures['processes'] = [];
  for (const [pid, p] of s1.procs) {
    const before = s0.procs.get(pid);
    const same = before && before.starttime === p.starttime;
    const cpu = p.cpu - (same ? before.cpu : 0);
    const disk = p.writeBytes - (same ? before.writeBytes : 0);
    cpuByRole[p.role] = (cpuByRole[p.role] ?? 0) + cpu;
    diskByRole[p.role] = (diskByRole[p.role] ?? 0) + disk;
    processes.push({ pid, role: p.role, cpuSecondsPerMinute: round(cpu / minutes, 3) });
  }
  const cpuTotal = Object.values(cpuByRole).reduce((a, b) => a + b, 0);
  const diskTotal = Object.values(diskByRole).reduce((a, b) => a + b, 0);
  return {
    seconds: round(minutes * 60, 1),
    cpuSecondsPerMinute: round(cpuTotal / minutes, 3),
    cpuByRole: mapValues(cpuByRole, (x) => round(x / minutes, 3)),
    rssMiB: round(percentile(rssTotal, 50), 1),
    rssMaxMiB: round(Math.max(...rssTotal), 1),
    rssByRoleMiB: mapValues(
      Object.fromEntries(Object.entries(rssRoles).map(([r, v]) => [r, percentile(v, 50)])),
      (x) => round(x, 1),
    ),
    rssSamplesMiB: rssTotal.map((x) => round(x, 1)),
    diskMBPerMinute: round(diskTotal / 1e6 / minutes, 3),
    diskByRoleMBPerMinute: mapValues(diskByRole, (x) => round(x / 1e6 / minutes, 3)),
    probesPerMinute: round((sumFirst(counts1, n) - sumFirst(counts0, n)) / minutes, 1),
    checksProbed: counts1.slice(0, n).filter((c, i) => c > counts0[i]!).length,
    processes,
    exitedDuringWindow: [...s0.procs.keys()].filter((pid) => !s1.procs.has(pid)).length,
    loadavg: { start: loadStart, end: load() },
  } satisfies WindowFigures;
}

// ---- faults ------------------------------------------------------------------------------------------------

type Iptables = { ok: true } | { ok: false; reason: string };

function probeIptables(): Iptables {
  try {
    execFileSync('iptables', ['-w', '-n', '-L', 'INPUT'], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `iptables -L INPUT failed: ${(e as Error).message.split('\n')[0]}` };
  }
}

const dropRule = (port: number) => [
  'INPUT',
  '-p',
  'tcp',
  '-d',
  '127.0.0.1',
  '--dport',
  String(port),
  '-j',
  'DROP',
];

interface Fault {
  kind: 'refused' | 'dropped';
  service: string;
  checkId: string;
  /** fault → noticed, ms; undefined: not within the limit. */
  ms?: number;
}

async function injectFaults(
  ctx: BenchContext,
  side: Side,
  listeners: Listeners,
  det: { service: string; checkId: string; kind: Fault['kind']; index: number }[],
  iptables: Iptables,
): Promise<Fault[]> {
  const rules: number[] = [];
  const waits: Promise<Fault>[] = [];
  try {
    for (const d of det) {
      if (d.kind === 'dropped' && !iptables.ok) continue;
      // Staggered, and at a random moment of each check's 5 s cycle.
      await sleep(3_000 + Math.random() * 2_000);
      let at: number;
      if (d.kind === 'refused') at = await listeners.close(d.index);
      else {
        const port = listeners.ports[d.index]!;
        execFileSync('iptables', ['-w', '-I', ...dropRule(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
        rules.push(port);
        at = Date.now();
      }
      waits.push(
        side.noticed(d.service, d.checkId, at, 90_000).then((t) => {
          const f: Fault = { kind: d.kind, service: d.service, checkId: d.checkId };
          if (t !== undefined) f.ms = t - at;
          ctx.log(
            `${side.kind}: ${d.kind} ${d.service} → ${f.ms === undefined ? 'not noticed in 90 s' : `${f.ms} ms`}`,
          );
          return f;
        }),
      );
    }
    return await Promise.all(waits);
  } finally {
    for (const port of rules) {
      try {
        execFileSync('iptables', ['-w', '-D', ...dropRule(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (e) {
        ctx.log(`could NOT remove the iptables rule for port ${port}: ${(e as Error).message}`);
      }
    }
  }
}

// ---- one side of one size --------------------------------------------------------------------------------------

interface SideResult {
  kind: Side['kind'];
  checks: number;
  readyMs?: number;
  /** Spawn → every check's listener probed at least once (undefined: not all within the limit). */
  allProbingMs?: number;
  /** Spawn → every monitor running (the system's reconcile at start ended; undefined: not within the limit). */
  monitorsRunningMs?: number;
  /** Spawn → the monitors' workflow tasks settled (see runSide); the window starts after it. */
  settledMs?: number;
  probingBeforeWindow: number;
  window: WindowFigures;
  detection?: { faults: Fault[]; skipped?: string };
}

async function runSide(
  ctx: BenchContext,
  o: BenchOptions,
  kind: Side['kind'],
  n: number,
  extras: { bareFile: string; smtp: TestSmtpServer; iptables: Iptables; detect: boolean },
): Promise<SideResult> {
  const detServices = extras.detect
    ? [
        ...ids('det-refused', faultsPerKind).map((s) => ({ s, kind: 'refused' as const })),
        ...ids('det-dropped', faultsPerKind).map((s) => ({ s, kind: 'dropped' as const })),
      ]
    : [];
  const listeners = await startListeners(n + detServices.length);
  const services = ids(`cost${n}`, n);
  const tcp = (id: string, service: string, port: number, interval: number, more: object = {}) => ({
    id,
    service,
    kind: 'tcp',
    host: '127.0.0.1',
    port,
    interval: `${interval}s`,
    timeout: '5s',
    ...more,
  });
  const checks = services.map((s, i) => tcp(`${s}-tcp`, s, listeners.ports[i]!, intervalS));
  const detChecks = detServices.map((d, i) =>
    tcp(`${d.s}-tcp`, d.s, listeners.ports[n + i]!, detectIntervalS, { failThreshold: detectFailThreshold }),
  );
  const cfg = (withDet: boolean) =>
    genConfig({
      services: [...services, ...detServices.map((d) => d.s)],
      levelTimeouts: ['1h'],
      // The postmortem goes to someone who is not level 1, so that only pages reach kari.
      owner: 'per',
      checks: withDet ? [...checks, ...detChecks] : checks,
    });
  const config = cfg(false);
  const bareChecks = (cs: readonly ProbeCheck[]): BareCheck[] =>
    cs.map((check) => ({
      check,
      intervalMs: durationMs(check.interval!),
      timeoutMs: 5_000,
      thresholds: { failThreshold: check.failThreshold ?? 3, recoverThreshold: check.recoverThreshold ?? 2 },
    }));
  const dir = path.join(ctx.tmpDir, `cost-${kind}-${n}`);
  let side: Side | undefined;
  try {
    side =
      kind === 'system'
        ? await startSystem(ctx, dir, config, extras.smtp)
        : await startBare(extras.bareFile, dir, bareChecks(config.checks as ProbeCheck[]));
    // Start → every check probing (bounded: a side that never gets there is measured anyway).
    const limitMs = o.quick ? 300_000 : 600_000;
    let allProbingMs: number | undefined;
    let probing = 0;
    for (;;) {
      const counts = await listeners.counts();
      probing = counts.slice(0, n).filter((c) => c > 0).length;
      if (probing === n) {
        allProbingMs = Date.now() - side.spawnedAt;
        break;
      }
      if (Date.now() - side.spawnedAt > limitMs) break;
      await sleep(1000);
    }
    ctx.log(
      `${kind} ${n}: ${allProbingMs === undefined ? `only ${probing}/${n} checks probing after ${limitMs / 1000} s` : `every check probing ${(allProbingMs / 1000).toFixed(1)} s after start`}`,
    );
    let monitorsRunningMs: number | undefined;
    if (side.monitorsRunning) {
      const at = await Promise.race([
        side.monitorsRunning,
        sleep(Math.max(0, side.spawnedAt + limitMs - Date.now())).then(() => undefined),
      ]);
      monitorsRunningMs = at === undefined ? undefined : at - side.spawnedAt;
      ctx.log(
        `${kind} ${n}: ${monitorsRunningMs === undefined ? `the monitors were not all running after ${limitMs / 1000} s` : `every monitor running ${(monitorsRunningMs / 1000).toFixed(1)} s after start`}`,
      );
    }
    // Settled: every monitor has had its first workflow task (the count reaches n) and fewer than 1 %
    // of them got one in the last 15 s. Bounded: past twice the probing limit the window starts anyway.
    let settledMs: number | undefined;
    if (side.monitorTasks) {
      let before = await side.monitorTasks();
      while (Date.now() - side.spawnedAt < 2 * limitMs) {
        await sleep(15_000);
        const now = await side.monitorTasks();
        if (now === undefined || before === undefined) break;
        if (now >= n && now - before < Math.max(5, n / 100)) {
          settledMs = Date.now() - side.spawnedAt;
          break;
        }
        before = now;
      }
      ctx.log(
        `${kind} ${n}: ${settledMs === undefined ? "the monitors' workflow tasks did not settle" : `monitors' first workflow tasks done, settled ${(settledMs / 1000).toFixed(1)} s after start`} (${before ?? '?'} monitor workflow tasks)`,
      );
    }
    await sleep(1.5 * intervalS * 1000);
    const windowSeconds = o.quick ? 60 : 120;
    const window = await measureWindow(side, windowSeconds, listeners, n);
    ctx.log(
      `${kind} ${n}: ${window.cpuSecondsPerMinute} CPU s/min ${JSON.stringify(window.cpuByRole)}, ${window.rssMiB} MiB, ${window.probesPerMinute} probes/min, ${window.diskMBPerMinute} MB/min written`,
    );
    const result: SideResult = {
      kind,
      checks: n,
      ...(side.readyMs !== undefined ? { readyMs: side.readyMs } : {}),
      ...(allProbingMs !== undefined ? { allProbingMs } : {}),
      ...(monitorsRunningMs !== undefined ? { monitorsRunningMs } : {}),
      ...(settledMs !== undefined ? { settledMs } : {}),
      probingBeforeWindow: probing,
      window,
    };
    if (extras.detect) {
      await side.addChecks(cfg(true), bareChecks(detChecks as unknown as ProbeCheck[]));
      // Every detection check probing, and healthy (a second probe), before the first fault.
      const first = n;
      const t = Date.now();
      let ready = false;
      while (Date.now() - t < 120_000) {
        const counts = await listeners.counts();
        if (counts.slice(first).every((c) => c >= 2)) {
          ready = true;
          break;
        }
        await sleep(500);
      }
      if (!ready)
        result.detection = { faults: [], skipped: 'the detection checks did not probe within 120 s' };
      else {
        await sleep(2_000);
        // Interleaved: refused, dropped, refused, ...
        const all = detServices.map((d, i) => ({
          service: d.s,
          checkId: `${d.s}-tcp`,
          kind: d.kind,
          index: n + i,
        }));
        const order = Array.from({ length: faultsPerKind }, (_, i) => [
          all[i]!,
          all[faultsPerKind + i]!,
        ]).flat();
        const faults = await injectFaults(ctx, side, listeners, order, extras.iptables);
        result.detection = {
          faults,
          ...(extras.iptables.ok
            ? {}
            : { skipped: `dropped faults not measured: ${extras.iptables.reason}` }),
        };
      }
    }
    return result;
  } finally {
    await side?.stop();
    await listeners.stop();
  }
}

// ---- the benchmark ------------------------------------------------------------------------------------------

function openFileLimit(): number {
  const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  return out === 'unlimited' ? Infinity : Number(out);
}

async function buildDist(ctx: BenchContext) {
  const t = Date.now();
  await new Promise<void>((resolve, reject) => {
    const b = spawn(process.execPath, [path.join(root, 'scripts/build.mjs')], {
      cwd: root,
      stdio: 'inherit',
    });
    b.once('error', reject);
    b.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`scripts/build.mjs exited ${code}`)),
    );
  });
  ctx.log(`dist/ built (or up to date) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

/** Milliseconds as a row's seconds (NaN: not measured). */
const seconds = (ms: number | undefined) => (ms === undefined ? NaN : ms / 1000);

export async function costBench(ctx: BenchContext, o: BenchOptions): Promise<BenchResult> {
  // BENCH_COST_SIZES=10000 (a comma list) runs only those sizes; detection runs with 1,000.
  const sizes = process.env.BENCH_COST_SIZES
    ? process.env.BENCH_COST_SIZES.split(',').map(Number)
    : o.quick
      ? [200, 1000]
      : [1000, 10000];
  if (sizes.some((x) => !Number.isInteger(x) || x < 1))
    throw new Error(
      `BENCH_COST_SIZES: "${process.env.BENCH_COST_SIZES}" is not a comma list of check counts`,
    );
  const detectAt = 1000;
  const limit = openFileLimit();
  const needed = Math.max(...sizes) + 2 * faultsPerKind + 2_000;
  if (limit < needed)
    throw new Error(
      `ulimit -n is ${limit}: the listeners of ${Math.max(...sizes)} checks need about ${needed} (raise it: ulimit -n 20000)`,
    );
  const machine = machineInfo();
  await buildDist(ctx);
  const bareFile = await compileBareLoop(ctx.tmpDir);
  const iptables = probeIptables();
  if (!iptables.ok) ctx.log(`dropped faults will not be measured: ${iptables.reason}`);
  const smtp = await startSmtpServer();
  const results: { n: number; system: SideResult; bare: SideResult }[] = [];
  try {
    for (const n of sizes) {
      const extras = { bareFile, smtp, iptables, detect: n === detectAt };
      const system = await runSide(ctx, o, 'system', n, extras);
      const bare = await runSide(ctx, o, 'bare', n, extras);
      results.push({ n, system, bare });
    }
  } finally {
    await smtp.close();
  }

  const rows: Row[] = [];
  const bareLabel = 'bare Node loop';
  for (const { n, system: s, bare: b } of results) {
    const bench = `12 cost ${n.toLocaleString('en-US')} checks @${intervalS}s`;
    const expected = (n * 60) / intervalS;
    rows.push(
      row({
        bench,
        metric: 'total CPU, all processes',
        value: s.window.cpuSecondsPerMinute,
        unit: 's/min',
        baselineLabel: bareLabel,
        baseline: b.window.cpuSecondsPerMinute,
      }),
      row({
        bench,
        metric: 'Temporal server CPU',
        value: s.window.cpuByRole.temporal ?? NaN,
        unit: 's/min',
        baselineLabel: 'total CPU',
        baseline: s.window.cpuSecondsPerMinute,
      }),
      row({
        bench,
        metric: 'Temporal server CPU per 1,000 checks',
        value: ((s.window.cpuByRole.temporal ?? NaN) * 1000) / n,
        unit: 's/min',
        baselineLabel: 'target (issue #15)',
        baseline: 1,
      }),
      row({
        bench,
        metric: 'RSS, all processes (median)',
        value: s.window.rssMiB,
        unit: 'MiB',
        baselineLabel: bareLabel,
        baseline: b.window.rssMiB,
      }),
      row({
        bench,
        metric: 'probes',
        value: s.window.probesPerMinute,
        unit: '/min',
        baselineLabel: `expected ${n}×60/${intervalS}`,
        baseline: expected,
      }),
      row({
        bench,
        metric: 'probes, bare loop',
        value: b.window.probesPerMinute,
        unit: '/min',
        baselineLabel: `expected ${n}×60/${intervalS}`,
        baseline: expected,
      }),
      row({
        bench,
        metric: 'disk writes',
        value: s.window.diskMBPerMinute,
        unit: 'MB/min',
        baselineLabel: bareLabel,
        baseline: b.window.diskMBPerMinute,
        ratio: b.window.diskMBPerMinute > 0 ? s.window.diskMBPerMinute / b.window.diskMBPerMinute : undefined,
      }),
      row({
        bench,
        metric: 'start → every check probing',
        value: seconds(s.allProbingMs),
        unit: 's',
        baselineLabel: bareLabel,
        baseline: seconds(b.allProbingMs),
        ...(s.allProbingMs === undefined ? { note: `only ${s.probingBeforeWindow}/${n} probing` } : {}),
      }),
      row({
        bench,
        metric: 'start → every monitor running (reconcile ended)',
        value: seconds(s.monitorsRunningMs),
        unit: 's',
        baselineLabel: 'start → every check probing',
        baseline: seconds(s.allProbingMs),
      }),
      row({
        bench,
        metric: "start → monitors' first workflow tasks done (window after it)",
        value: seconds(s.settledMs),
        unit: 's',
        baselineLabel: 'start → every check probing',
        baseline: seconds(s.allProbingMs),
      }),
    );
  }
  const detection: Record<string, unknown> = {};
  const det = results.find((r) => r.n === detectAt);
  if (det) {
    for (const kind of ['refused', 'dropped'] as const) {
      const ms = (r: SideResult) =>
        (r.detection?.faults ?? [])
          .filter((f) => f.kind === kind && f.ms !== undefined)
          .map((f) => f.ms! / 1000);
      const sys = summarize(ms(det.system));
      const bare = summarize(ms(det.bare));
      const tried = (det.system.detection?.faults ?? []).filter((f) => f.kind === kind).length;
      detection[kind] = { system: roundSummary(sys), bare: roundSummary(bare) };
      const bench = `12 detection ${detectIntervalS}s×${detectFailThreshold}, ${kind}`;
      const today = quoted.thisProjectToday.detectionP50Seconds[kind];
      const gatus = quoted.gatusV536.detectionP50Seconds[kind];
      if (tried === 0) {
        rows.push(
          row({
            bench,
            metric: 'fault → level-1 page mail',
            value: NaN,
            unit: 's',
            note: `not measured: ${det.system.detection?.skipped ?? 'no faults'}`,
          }),
        );
        continue;
      }
      rows.push(
        row({
          bench,
          metric: `fault → level-1 page mail, p50 (${sys.n}/${tried} paged)`,
          value: sys.p50,
          unit: 's',
          baselineLabel: 'bare loop: fault → threshold crossed',
          baseline: bare.p50,
          note: `issue #15 today ${today} s, Gatus ${gatus} s (quoted)`,
        }),
        row({
          bench,
          metric: 'fault → level-1 page mail, max',
          value: sys.max,
          unit: 's',
          baselineLabel: 'bare loop: fault → threshold crossed',
          baseline: bare.max,
        }),
      );
    }
  }
  return {
    name: 'cost',
    title: 'What the monitors cost in all (every process npm start runs) against a bare Node probe loop',
    rows,
    details: {
      method: {
        intervalSeconds: intervalS,
        timeout: '5s',
        warmUp: 'every check probing, then 1.5 intervals',
        windowSeconds: o.quick ? 60 : 120,
        rssSampleEverySeconds: 2,
        system: 'node dist/scripts/start.js (Temporal dev server + SQLite, worker, API, PGlite in start.js)',
        bareLoop: 'bench/bare-loop.ts compiled by esbuild, plain node',
        detection: `${faultsPerKind} refused + ${faultsPerKind} dropped (iptables DROP), interval ${detectIntervalS}s, failThreshold ${detectFailThreshold}, timeout 5s, added after the window`,
      },
      machine: {
        ...machine,
        loadavgAtEnd: os
          .loadavg()
          .map((x) => round(x, 2))
          .join(' '),
      },
      iptables,
      sizes: results,
      detection,
      quotedReferences: quoted,
    },
  };
}
