/**
 * `npm run bench`: starts a private Temporal dev server on 127.0.0.1, bundles the workflows once,
 * runs the benchmarks (each against its own worker process and task queue), prints one table of
 * figures with the baseline measured in the same run and their ratio, and writes the whole result as
 * JSON under bench/results/.
 *
 *   npm run bench                      all benchmarks, full counts (about 12 minutes on 2 cores)
 *   npm run bench -- --quick           smaller counts, for iterating
 *   npm run bench -- --only ack,start  some of them (names below)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import {
  benchDir,
  bundleWorkflows,
  killChildren,
  machineInfo,
  measureIdleWorker,
  round,
  startTemporal,
  type BenchContext,
  type BenchOptions,
  type BenchResult,
  type IdleBaseline,
  type Row,
} from './lib.js';
import { ackBench } from './ack.js';
import { createDatabase, startPostgres } from '../scripts/postgres.js';
import { migrate } from '../store/db.js';
import { startBench } from './start-throughput.js';
import { escalationBench } from './escalation.js';
import { capacityBench } from './capacity.js';
import { historyBench } from './history.js';
import { detectionBench } from './detection.js';
import { monitorLoadBench } from './monitor-load.js';
import { readsBench } from './reads.js';
import { fanoutBench } from './fanout.js';
import { workerKillBench } from './worker-kill.js';
import { reconcileBench } from './reconcile.js';
import { costBench } from './cost.js';

type Bench = (ctx: BenchContext, o: BenchOptions) => Promise<BenchResult>;

/** In the order they run: the heavy ones last, so they do not leave load behind for the others. */
const benches: [string, Bench][] = [
  ['ack', ackBench],
  ['reads', readsBench],
  ['start', startBench],
  ['history', historyBench],
  ['detection', detectionBench],
  ['escalation', escalationBench],
  ['fanout', fanoutBench],
  ['monitors', monitorLoadBench],
  ['worker-kill', workerKillBench],
  ['reconcile', reconcileBench],
  ['capacity', capacityBench],
  ['cost', costBench],
];

function parseArgs(argv: string[]) {
  let quick = false;
  let only: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--only') only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a.startsWith('--only=')) only = a.slice(7).split(',').filter(Boolean);
    else if (a === '--help' || a === '-h') {
      console.log(`usage: npm run bench -- [--quick] [--only ${benches.map(([n]) => n).join(',')}]`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  const unknown = only?.filter((n) => !benches.some(([b]) => b === n)) ?? [];
  if (unknown.length) throw new Error(`unknown benchmark(s) ${unknown.join(', ')}`);
  return { quick, only };
}

const fmt = (x: number | undefined): string => {
  if (x === undefined || Number.isNaN(x)) return '—';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 0.01 || a === 0) return x.toFixed(2);
  return x.toPrecision(2);
};

export function table(rows: Row[]): string {
  const head = ['benchmark', 'metric', 'value', 'baseline', 'baseline value', 'ratio'];
  const body = rows.map((r) => [
    r.bench,
    r.metric,
    `${fmt(r.value)} ${r.unit}`.trim(),
    r.baselineLabel ?? '—',
    r.baseline === undefined ? '—' : `${fmt(r.baseline)} ${r.unit}`.trim(),
    r.ratio === undefined ? '—' : `${fmt(r.ratio)}×`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

async function main() {
  const { quick, only } = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const log = (m: string) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${m}`);
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // installed already
  }
  const machine = machineInfo();
  log(`machine: ${machine.nproc} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, node ${machine.node}`);

  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'incident-bench-'));
  const server = await startTemporal(log);
  log(`Temporal dev server on ${server.address} (pid ${server.pid})`);
  // The record store every worker process and API of the run share (a real PostgreSQL on loopback).
  const pgServer = await startPostgres();
  process.env.DATABASE_URL = await createDatabase(pgServer.url, 'bench');
  await migrate(process.env.DATABASE_URL);
  log(`record store: PostgreSQL on 127.0.0.1:${pgServer.port}`);
  const bundlePath = await bundleWorkflows(tmpDir);
  log('workflows bundled');
  // The whole run must stay under 10 minutes; leave room for the table and the teardown.
  const deadline = started + 8 * 60_000 + 30_000;
  let idle: Promise<IdleBaseline> | undefined;
  const ctx: BenchContext = {
    address: server.address,
    bundlePath,
    tmpDir,
    serverPid: server.pid,
    deadline,
    // Started once (at once, below, when a benchmark will need it), shared by all.
    idle: () => (idle ??= quick ? measureIdleWorker(ctx, 25, 20) : measureIdleWorker(ctx)),
    log,
  };
  const needsIdle = ['monitors', 'capacity'];
  if (!only || only.some((n) => needsIdle.includes(n)))
    ctx.idle().then(
      (b) => log(`idle worker baseline: ${b.cpuSecondsPerMinute} CPU s/min, ${b.rssMiB} MiB`),
      (e: unknown) => log(`idle worker baseline failed: ${String(e)}`),
    );

  const results: BenchResult[] = [];
  const failures: { name: string; error: string }[] = [];
  try {
    for (const [name, bench] of benches) {
      if (only && !only.includes(name)) continue;
      const t0 = Date.now();
      log(`── ${name} ${quick ? '(quick)' : ''}`);
      try {
        const r = await bench({ ...ctx, log: (m) => log(`${name}: ${m}`) }, { quick });
        r.wallMs = Date.now() - t0;
        results.push(r);
        log(`── ${name} done in ${(r.wallMs / 1000).toFixed(1)} s`);
      } catch (e) {
        failures.push({ name, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
        log(`── ${name} FAILED: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  } finally {
    const t = Date.now();
    await server.stop();
    killChildren();
    await pgServer.stop();
    rmSync(tmpDir, { recursive: true, force: true });
    log(`teardown ${Date.now() - t} ms`);
  }

  const wallMs = Date.now() - started;
  const rows = results.flatMap((r) => r.rows);
  console.log('');
  console.log(table(rows));
  console.log('');
  for (const r of results) console.log(`${r.name}: ${(r.wallMs! / 1000).toFixed(1)} s`);
  console.log(`total wall time: ${(wallMs / 1000).toFixed(1)} s${quick ? ' (quick)' : ''}`);

  const out = {
    date: new Date(started).toISOString(),
    quick,
    only: only ?? 'all',
    wallSeconds: round(wallMs / 1000, 1),
    machine: {
      ...machine,
      loadavgAtEnd: os
        .loadavg()
        .map((x) => round(x, 2))
        .join(' '),
    },
    rows: rows.map((r) => ({
      ...r,
      value: round(r.value, 3),
      baseline: r.baseline && round(r.baseline, 3),
      ratio: r.ratio && round(r.ratio, 3),
    })),
    idleWorker: idle ? await idle.catch((e: unknown) => String(e)) : undefined,
    benchmarks: results,
    failures,
  };
  const dir = path.join(benchDir, 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = out.date.replace(/[:.]/g, '-');
  const file = path.join(dir, `bench-${stamp}${quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`results: ${path.relative(process.cwd(), file)} (and bench/results/latest.json)`);
  if (failures.length) {
    console.error(
      `${failures.length} benchmark(s) failed:\n${failures.map((f) => `${f.name}: ${f.error}`).join('\n')}`,
    );
    process.exitCode = 1;
  }
}

main().then(
  // Something of Temporal's native runtime keeps the loop alive for a while after the last close.
  () => process.exit(process.exitCode ?? 0),
  (e: unknown) => {
    console.error(e);
    killChildren();
    process.exit(1);
  },
);
