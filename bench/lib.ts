/**
 * Shared setup for the benchmarks: a private Temporal dev server, the workflow bundle, worker child
 * processes (measured through /proc), the API on 127.0.0.1, generated configurations, statistics and
 * the result rows every benchmark returns.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { ensureTemporalCli } from '../scripts/temporal-cli.js';
import { devServerArgs, freePort, waitForTemporal } from '../scripts/dev-server.js';
import { validateConfig } from '../config/load.js';
import type { Config } from '../domain/config-schema.js';
import { createIncidentService, type IncidentService } from '../api/incident-service.js';
import { buildApp } from '../api/app.js';
import { openDb } from '../store/db.js';
import { createRecords } from '../store/records.js';
import type { WorkerSpec, WorkerReady } from './worker-process.js';

export const benchDir = path.dirname(fileURLToPath(import.meta.url));

// ---- results --------------------------------------------------------------------------------------

/** One line of the table: a figure, the baseline measured in the same run, and their ratio. */
export interface Row {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  /** What the baseline is (printed); omitted when the figure stands alone. */
  baselineLabel?: string;
  baseline?: number;
  /** value / baseline, unless given (e.g. a floor, or events per hour). */
  ratio?: number;
  note?: string;
}

export interface BenchResult {
  name: string;
  title: string;
  rows: Row[];
  details: Record<string, unknown>;
  wallMs?: number;
}

export interface BenchOptions {
  quick: boolean;
}

export interface BenchContext {
  address: string;
  bundlePath: string;
  tmpDir: string;
  serverPid: number;
  /** Date.now() by which the whole run should be done: a benchmark that can scale down does. */
  deadline: number;
  /** The idle-worker baseline, measured once per run alongside the first benchmarks. */
  idle(): Promise<IdleBaseline>;
  log(msg: string): void;
}

export interface IdleBaseline {
  /** Spawn → polling. */
  startupMs: number;
  settleSeconds: number;
  windowSeconds: number;
  cpuSecondsPerMinute: number;
  /** Median of samples every second over the window, MiB. */
  rssMiB: number;
  rssMaxMiB: number;
  heapMiB: Record<string, number>;
}

export function row(r: Omit<Row, 'ratio'> & { ratio?: number }): Row {
  const ratio =
    r.ratio ??
    (r.baseline !== undefined && r.baseline !== 0 && Number.isFinite(r.baseline)
      ? r.value / r.baseline
      : undefined);
  return { ...r, ratio };
}

// ---- statistics -----------------------------------------------------------------------------------

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an unsorted sample. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1]!;
}

export function summarize(values: number[]): Summary {
  const n = values.length;
  return {
    n,
    min: n ? Math.min(...values) : NaN,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max: n ? Math.max(...values) : NaN,
    mean: n ? values.reduce((a, b) => a + b, 0) / n : NaN,
  };
}

export const round = (x: number, digits = 2): number =>
  Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x;

export function roundSummary(s: Summary, digits = 2): Summary {
  return Object.fromEntries(
    Object.entries(s).map(([k, v]) => [k, k === 'n' ? v : round(v, digits)]),
  ) as unknown as Summary;
}

// ---- small helpers --------------------------------------------------------------------------------

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `fn` over `items` with at most `concurrency` in flight; results in input order. */
export async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(lanes);
  return out;
}

/** Polls until `fn` returns a truthy value; throws with `what` after `timeoutMs`. */
export async function until<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  what: string,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    await sleep(everyMs);
  }
}

// ---- processes, measured from the outside ----------------------------------------------------------

const children = new Set<ChildProcess>();
/** Kills what the benchmark started (by pid) if the run dies half-way. */
export function killChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
process.once('exit', killChildren);

const clockTicks = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

/** CPU seconds (user + system, all threads) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name: state is field 3, so utime (14) and stime (15) are at index 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** Resident memory of a process, in MiB: now (VmRSS) and its peak (VmHWM). */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

// ---- Temporal dev server and workflow bundle ---------------------------------------------------------

export async function startTemporal(log: (m: string) => void): Promise<{
  address: string;
  pid: number;
  stop(): Promise<void>;
}> {
  const cli = await ensureTemporalCli({ log: (l) => log(`[temporal-cli] ${l}`) });
  const port = await freePort();
  const server = spawn(cli, devServerArgs(port), { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(server);
  // Overloaded on purpose (the reads benchmark's baseline), the server logs its persistence rate limit
  // several times per refused call: counted, not printed. Everything else it logs is passed through.
  let rateLimited = 0;
  createInterface({ input: server.stderr! }).on('line', (line) => {
    if (line.includes('Persistence Max QPS Reached')) rateLimited++;
    else process.stderr.write(`${line}\n`);
  });
  const address = `127.0.0.1:${port}`;
  await waitForTemporal(address);
  return {
    address,
    pid: server.pid!,
    async stop() {
      if (rateLimited)
        log(`Temporal dev server: ${rateLimited} "Persistence Max QPS Reached" log lines not shown`);
      if (server.exitCode !== null || server.signalCode !== null) return;
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      // Its state is in memory and thrown away: no need to wait long for a graceful stop.
      await Promise.race([exited, sleep(3_000)]);
      if (server.exitCode === null && server.signalCode === null) {
        server.kill('SIGKILL');
        await exited;
      }
      children.delete(server);
    },
  };
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };

/** The project's workflows plus the bench's baseline workflows, bundled once for every worker. */
export async function bundleWorkflows(tmpDir: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(benchDir, 'workflows.ts'),
    logger: quietLogger,
  });
  const file = path.join(tmpDir, 'workflow-bundle.js');
  writeFileSync(file, code);
  return file;
}

export async function connectClient(address: string): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ address });
  return { client: new Client({ connection, namespace: 'default' }), connection };
}

// ---- worker child processes ------------------------------------------------------------------------------

export interface WorkerChild {
  pid: number;
  /** Spawn → polling, measured in this process; the child's own breakdown in `ready`. */
  startupMs: number;
  /** Spawn → script running (node + tsx loading the code), → connected, → Worker.create done. */
  startup: { loadMs: number; connectMs: number; createMs: number; totalMs: number };
  ready: WorkerReady;
  cpuSeconds(): number;
  memory(): { rss: number; peak: number };
  /** The child's own view of its heap (process.memoryUsage), in MiB. */
  heap(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

let workerSeq = 0;

/**
 * Starts a worker in its own process (as `npm run worker` does: tsx), so its CPU and memory are its
 * own and the load generator in this process does not share its event loop.
 */
export async function startWorker(
  ctx: BenchContext,
  spec: Omit<WorkerSpec, 'address' | 'bundlePath' | 'configPath' | 'outboxDir' | 'ledgerDir'> & {
    config: Config;
    outboxDir?: string;
    ledgerDir?: string;
  },
): Promise<WorkerChild> {
  const n = ++workerSeq;
  const dir = path.join(ctx.tmpDir, `worker-${n}-${spec.taskQueue}`);
  mkdirSync(dir, { recursive: true });
  const configPath = path.join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(spec.config));
  const { config: _config, ...rest } = spec;
  const full: WorkerSpec = {
    ...rest,
    address: ctx.address,
    bundlePath: ctx.bundlePath,
    configPath,
    outboxDir: spec.outboxDir ?? path.join(dir, 'outbox'),
    ledgerDir: spec.ledgerDir ?? path.join(dir, 'sent'),
  };
  const specPath = path.join(dir, 'spec.json');
  writeFileSync(specPath, JSON.stringify(full));
  const spawnedAt = Date.now();
  const child = fork(path.join(benchDir, 'worker-process.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_WORKER_SPEC: specPath, BENCH_SPAWNED_AT: String(spawnedAt) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  const ready = await new Promise<WorkerReady>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`bench worker exited early (code ${code})`));
    child.once('exit', onExit);
    child.on('message', (m: { type: string; ready?: WorkerReady }) => {
      if (m.type === 'ready') {
        child.off('exit', onExit);
        resolve(m.ready!);
      }
    });
  });
  const pid = child.pid!;
  return {
    pid,
    startupMs: ready.readyAt - spawnedAt,
    startup: {
      loadMs: ready.scriptAt - spawnedAt,
      connectMs: ready.connectedAt - ready.scriptAt,
      createMs: ready.createdAt - ready.connectedAt,
      totalMs: ready.readyAt - spawnedAt,
    },
    ready,
    cpuSeconds: () => cpuSeconds(pid),
    memory: () => memoryMiB(pid),
    heap: () =>
      new Promise((resolve) => {
        const on = (m: { type: string; heap?: Record<string, number> }) => {
          if (m.type !== 'heap') return;
          child.off('message', on);
          resolve(m.heap!);
        };
        child.on('message', on);
        child.send({ type: 'heap' });
      }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'stop' });
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      children.delete(child);
    },
  };
}

// ---- the API, over real HTTP on loopback ----------------------------------------------------------------

export interface Api {
  url: string;
  app: FastifyInstance;
  incidents: IncidentService;
  request(
    method: string,
    route: string,
    body?: unknown,
    contact?: string,
  ): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

export async function startApi(
  client: Client,
  connection: Connection,
  config: Config,
  taskQueue: string,
): Promise<Api> {
  if (!process.env.DATABASE_URL)
    throw new Error('bench: DATABASE_URL is not set (bench/run.ts starts a store)');
  const db = openDb(process.env.DATABASE_URL, { max: 20 });
  const records = createRecords(db);
  const incidents = createIncidentService({
    client,
    connection,
    config,
    records,
    taskQueue,
    publicBaseUrl: 'http://127.0.0.1:3000',
  });
  const staffTokens = new Map(config.contacts.map((c) => [`bench-token-${c.id}`, c.id]));
  // The staff rate limit (600 requests a minute per address by default) would measure itself here.
  const app = await buildApp({
    config,
    incidents,
    staffTokens,
    records,
    rateLimits: { staff: { max: 1_000_000_000, timeWindow: 60_000 } },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const request: Api['request'] = (method, route, body, contact = 'kari') =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method,
          path: route,
          agent,
          headers: {
            authorization: `Bearer bench-token-${contact}`,
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON: keep the text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    incidents,
    request,
    async close() {
      agent.destroy();
      await app.close();
      await db.end();
    },
  };
}

// ---- generated configurations -------------------------------------------------------------------------------

export interface GenConfigOptions {
  /** Service ids to generate (each `kari`-owned, policy `chain`, severity P1). */
  services: string[];
  /** The chain: one ack timeout per level (kari, ola, ingrid), then `per` as final fallback. */
  levelTimeouts: string[];
  acknowledgementTimeout?: string;
  checks?: unknown[];
  severity?: 'P0' | 'P1' | 'P2' | 'P3';
  /** Who owns every service (gets the postmortem); default kari, who is also level 1. */
  owner?: string;
}

export function genConfig(o: GenConfigOptions): Config {
  const people = ['kari', 'ola', 'ingrid'];
  const raw = {
    contacts: [
      { id: 'kari', name: 'Kari Nordmann', email: 'kari@bench.local' },
      { id: 'ola', name: 'Ola Hansen', email: 'ola@bench.local' },
      { id: 'ingrid', name: 'Ingrid Berg', email: 'ingrid@bench.local' },
      { id: 'per', name: 'Per Johansen', email: 'per@bench.local' },
    ],
    policies: [
      {
        id: 'chain',
        levels: o.levelTimeouts.map((t, i) => ({ notify: [people[i % people.length]!], ackTimeout: t })),
        repeat: 0,
        finalFallback: { notify: ['per'] },
        acknowledgementTimeout: o.acknowledgementTimeout ?? '6h',
      },
    ],
    services: o.services.map((id) => ({
      id,
      name: `Bench service ${id}`,
      owner: o.owner ?? 'kari',
      policy: 'chain',
      severity: o.severity ?? 'P1',
      component: `Component ${id}`,
      subscribers: [{ name: 'Institution 1' }, { name: 'Institution 2' }],
    })),
    checks: o.checks ?? [],
    incidents: { verifyAttempts: 1, verifyInterval: '1s', recoveryPasses: 1, recoveryInterval: '1s' },
  };
  return validateConfig(raw, 'bench');
}

export const ids = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(5, '0')}`);

// ---- machine --------------------------------------------------------------------------------------------------

export function machineInfo(): Record<string, string | number> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  return {
    nproc: os.availableParallelism(),
    memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    cpuModel: model,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadavgAtStart: os
      .loadavg()
      .map((x) => round(x, 2))
      .join(' '),
  };
}

// ---- the idle-worker baseline ------------------------------------------------------------------------------

/**
 * A shipped worker with nothing on its task queue: started, left to settle (start-up leaves a tail of
 * compilation and garbage collection for ~20 s), then watched for a minute. Runs in its own process
 * while other benchmarks run: CPU time and RSS are its own, whatever else the machine does.
 */
export async function measureIdleWorker(
  ctx: BenchContext,
  settleSeconds = 30,
  windowSeconds = 60,
): Promise<IdleBaseline> {
  const worker = await startWorker(ctx, {
    taskQueue: `bench-idle-${Date.now()}`,
    config: genConfig({ services: ['idle-1'], levelTimeouts: ['1h'] }),
  });
  try {
    await sleep(settleSeconds * 1000);
    const cpu0 = worker.cpuSeconds();
    const t0 = Date.now();
    const rss: number[] = [];
    while (Date.now() - t0 < windowSeconds * 1000) {
      await sleep(1000);
      rss.push(worker.memory().rss);
    }
    const minutes = (Date.now() - t0) / 60_000;
    return {
      startupMs: worker.startupMs,
      settleSeconds,
      windowSeconds,
      cpuSecondsPerMinute: round((worker.cpuSeconds() - cpu0) / minutes, 3),
      rssMiB: round(percentile(rss, 50), 1),
      rssMaxMiB: round(Math.max(...rss), 1),
      heapMiB: await worker.heap(),
    };
  } finally {
    await worker.stop();
  }
}
