/**
 * 8. Reads under load: the status page (`GET /status`), `GET /api/status` and `GET /api/incidents`
 * (staff token) under 200 concurrent keep-alive clients, from the record store (this design) beside
 * the previous design measured in the same run — and again while the Temporal dev server is stopped
 * with SIGSTOP.
 *
 * The previous design (commit 2838646) read everything from Temporal: `/status` and `/api/status`
 * listed incidents from visibility (newest 300) and queried each running workflow's `view` (closed
 * ones once, then cached), one such read at a time shared by every request that arrived meanwhile;
 * `GET /api/incidents` was one visibility list per request. The baseline below is that code, copied
 * into the bench (not product code), served by the same route plugins, auth, error handler, security
 * headers and HTML rendering as the product, only with those reads behind them. It runs against the
 * same incidents on the same worker; the workflow still answers `view`. Its one difference from
 * 2838646: today's workflow keeps only the latest status message and a trimmed timeline in its view,
 * so the baseline's query answers are smaller and its page shows one message per incident (the
 * product's shows them all: 1.6× the HTML). A third variant serves the product's board (record store)
 * cut to the latest message per incident — the baseline's incidents and messages, checked before
 * measuring — so the cost of the read itself is compared on the same page.
 *
 * Windows: 10 s per design and route (4 s with --quick), Temporal running as two halves in the order
 * A B B A; then Temporal SIGSTOPped (SIGCONT in a finally), the record store's design first.
 * The load generator runs in its own process (this file, forked): a closed loop of 200 clients on
 * one keep-alive agent, each sending its next request when the previous one has answered or timed
 * out (per-request timeout: 5 s, 2 s with --quick). p50/p99 are over every request started in the
 * window, a timed-out one counted at the time it was given up; req/s counts 2xx answers. CPU per
 * answer: what the API process, the Temporal dev server, the worker and PostgreSQL used in the window
 * (from /proc), over the 2xx answers — steadier than req/s on a shared machine.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { Client } from '@temporalio/client';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../domain/config-schema.js';
import type { IncidentState, IncidentView } from '../domain/incident.js';
import { fromTemporal, notFound } from '../api/errors.js';
import type { IncidentService } from '../api/incident-service.js';
import { errorHandlerPlugin } from '../api/plugins/errors.js';
import { authPlugin } from '../api/plugins/auth.js';
import { securityPlugin } from '../api/plugins/security.js';
import { createValidatorCompiler } from '../api/plugins/validation.js';
import { incidentRoutes } from '../api/routes/incidents.js';
import { statusRoutes } from '../api/routes/status.js';
import { statusPageRoutes } from '../api/routes/status-page.js';
import { createReportIntake } from '../api/routes/reports.js';
import {
  createStatusBoard,
  type BoardComponent,
  type BoardIncident,
  type StatusBoard,
  type StatusBoardReader,
} from '../api/status-board.js';
import { openDb } from '../store/db.js';
import { createRecords, type Records } from '../store/records.js';
import {
  incidentId,
  incidentServiceKey,
  incidentSeverityKey,
  incidentStateKey,
  parseIncidentId,
  viewQuery,
} from '../workflows/definitions.js';
import {
  connectClient,
  cpuSeconds,
  genConfig,
  ids,
  percentile,
  pool,
  round,
  roundSummary,
  row,
  sleep,
  startApi,
  startWorker,
  summarize,
  until,
  type BenchContext,
  type BenchOptions,
  type BenchResult,
  type Row,
} from './lib.js';

// ---- the load generator (a child process) -----------------------------------------------------------

interface LoadSpec {
  port: number;
  path: string;
  headers: Record<string, string>;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  timeoutMs: number;
  /** Text in the body that marks a stale answer (the last board read, served because a read failed). */
  staleMarker?: string;
}

interface LoadResult {
  /** Latency of every request started in the window (ms); a timed-out one at the time it was given up. */
  latencies: number[];
  ok: number;
  /** HTTP status (or `timeout`, `error`) → count, over the window. */
  outcomes: Record<string, number>;
  stale: number;
  /** Window start → the last of its requests answered or given up. */
  elapsedMs: number;
  bytes: number;
}

async function runLoad(s: LoadSpec): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: s.concurrency });
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  let ok = 0;
  let stale = 0;
  let bytes = 0;
  const t0 = performance.now();
  const measureFrom = t0 + s.warmupMs;
  const end = measureFrom + s.durationMs;
  let last = measureFrom;
  const once = () =>
    new Promise<{ outcome: string; ms: number; stale: boolean; bytes: number }>((resolve) => {
      const t = performance.now();
      let done = false;
      const finish = (outcome: string, body?: Buffer) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({
          outcome,
          ms: performance.now() - t,
          stale: !!(body && s.staleMarker && /^2/.test(outcome) && body.includes(s.staleMarker)),
          bytes: body?.length ?? 0,
        });
      };
      const req = http.request(
        { host: '127.0.0.1', port: s.port, path: s.path, method: 'GET', agent, headers: s.headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => finish(String(res.statusCode ?? 0), Buffer.concat(chunks)));
          res.on('error', () => finish('error'));
        },
      );
      const timer = setTimeout(() => {
        finish('timeout');
        req.destroy();
      }, s.timeoutMs);
      req.on('error', () => finish('error'));
      req.end();
    });
  await Promise.all(
    Array.from({ length: s.concurrency }, async () => {
      while (performance.now() < end) {
        const started = performance.now();
        const r = await once();
        if (started < measureFrom) continue;
        latencies.push(r.ms);
        outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
        if (/^2\d\d$/.test(r.outcome)) ok++;
        if (r.stale) stale++;
        bytes += r.bytes;
        last = Math.max(last, performance.now());
      }
    }),
  );
  agent.destroy();
  return { latencies, ok, outcomes, stale, elapsedMs: last - measureFrom, bytes };
}

if (process.env.BENCH_READS_LOAD_CHILD === '1') {
  process.on('message', (m: { type: string; spec?: LoadSpec }) => {
    if (m.type !== 'run') return;
    runLoad(m.spec!).then(
      (result) => process.send?.({ type: 'done', result }),
      (e: unknown) => process.send?.({ type: 'failed', error: String(e) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ type: 'ready' });
}

async function startLoadChild(): Promise<{
  pid: number;
  run(spec: LoadSpec): Promise<LoadResult>;
  stop(): void;
}> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_READS_LOAD_CHILD: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`load generator exited early (code ${code})`)));
    child.on('message', (m: { type: string }) => m.type === 'ready' && resolve());
  });
  return {
    pid: child.pid!,
    run: (spec) =>
      new Promise((resolve, reject) => {
        const on = (m: { type: string; result?: LoadResult; error?: string }) => {
          if (m.type !== 'done' && m.type !== 'failed') return;
          child.off('message', on);
          if (m.type === 'done') resolve(m.result!);
          else reject(new Error(`load generator: ${m.error}`));
        };
        child.on('message', on);
        child.send({ type: 'run', spec });
      }),
    stop: () => {
      child.disconnect();
      setTimeout(kill, 2_000).unref();
    },
  };
}

// ---- the previous design's reads (2838646), for the baseline ---------------------------------------------

interface OldSummary {
  id: string;
  service: string;
  severity: string;
  state: string;
  openedAt: string;
  closedAt?: string;
  running: boolean;
}

/** `list` and `get` of 2838646's api/incident-service.ts: Temporal visibility and the `view` query. */
function previousReads(client: Client, callTimeoutMs = 15_000) {
  let pending = 0;
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    pending++;
    try {
      return await client.withDeadline(Date.now() + callTimeoutMs, fn);
    } catch (e) {
      throw fromTemporal(e, what);
    } finally {
      pending--;
    }
  };
  return {
    /** Temporal calls under way (those of requests the load generator gave up on included). */
    pending: () => pending,
    async get(id: string): Promise<IncidentView> {
      const parsed = parseIncidentId(id);
      if (!parsed) throw notFound(`incident "${id}"`);
      const h = client.workflow.getHandle(parsed.workflowId, parsed.runId);
      return call(`incident "${id}"`, () => h.query(viewQuery));
    },
    async list(filter: {
      service?: string;
      severity?: string;
      state?: string;
      open?: boolean;
      limit: number;
    }) {
      const clauses = ["WorkflowType = 'incidentWorkflow'"];
      const quote = (v: string) => `'${v.replace(/'/g, '')}'`;
      if (filter.service) clauses.push(`IncidentService = ${quote(filter.service)}`);
      if (filter.severity) clauses.push(`IncidentSeverity = ${quote(filter.severity)}`);
      if (filter.state) clauses.push(`IncidentState = ${quote(filter.state)}`);
      if (filter.open) clauses.push("ExecutionStatus = 'Running'");
      const query = clauses.join(' AND ');
      return call('incidents', async () => {
        const out: OldSummary[] = [];
        for await (const w of client.workflow.list({ query, pageSize: filter.limit })) {
          const service =
            w.typedSearchAttributes.get(incidentServiceKey) ?? w.workflowId.replace(/^incident-/, '');
          out.push({
            id: incidentId(service, w.runId),
            service,
            severity: w.typedSearchAttributes.get(incidentSeverityKey) ?? '',
            state:
              (w.typedSearchAttributes.get(incidentStateKey) as IncidentState | undefined) ?? 'verifying',
            openedAt: w.startTime.toISOString(),
            closedAt: w.closeTime?.toISOString(),
            running: w.status.name === 'RUNNING',
          });
          if (out.length >= filter.limit) break;
        }
        return out;
      });
    },
  };
}

/** 2838646's api/status-board.ts, unchanged but for its imports: one read of Temporal at a time, shared. */
function previousStatusBoard(o: {
  incidents: ReturnType<typeof previousReads>;
  config: Config;
  cacheMs?: number;
  historyDays?: number;
  listLimit?: number;
}) {
  const maxClosedViews = 1000;
  const cacheMs = o.cacheMs ?? 0;
  const historyDays = o.historyDays ?? 90;
  const now = Date.now;
  const serviceIds = new Set(o.config.services.map((s) => s.id));
  const closedViews = new Map<string, IncidentView>();
  let cached: { at: number; pending: boolean; board: Promise<StatusBoard> } | undefined;
  let lastGood: StatusBoard | undefined;

  async function closedView(id: string): Promise<IncidentView | undefined> {
    const hit = closedViews.get(id);
    if (hit) return hit;
    const view = await o.incidents.get(id).catch(() => undefined);
    if (view && view.closedAt) {
      if (closedViews.size >= maxClosedViews) closedViews.delete(closedViews.keys().next().value!);
      closedViews.set(id, view);
    }
    return view;
  }

  const toIncident = (v: IncidentView): BoardIncident => ({
    id: v.id,
    service: v.service.id,
    component: v.service.component ?? v.service.name,
    severity: v.severity,
    state: v.status[v.status.length - 1]!.state,
    openedAt: v.openedAt,
    ...(v.closedAt ? { closedAt: v.closedAt } : {}),
    messages: v.status,
  });
  const newestFirst = (a: BoardIncident, b: BoardIncident) =>
    Date.parse(b.closedAt ?? b.openedAt) - Date.parse(a.closedAt ?? a.openedAt);

  async function read(): Promise<StatusBoard> {
    const t = now();
    const cutoff = t - historyDays * 24 * 60 * 60 * 1000;
    const summaries = (await o.incidents.list({ limit: o.listLimit ?? 300 })).filter((s) =>
      serviceIds.has(s.service),
    );
    const openViews = await Promise.all(
      summaries.filter((s) => s.running).map((s) => o.incidents.get(s.id).catch(() => undefined)),
    );
    const closed = await Promise.all(
      summaries
        .filter((s) => !s.running && Date.parse(s.closedAt ?? s.openedAt) >= cutoff)
        .map((s) => closedView(s.id)),
    );
    const published = (v: IncidentView | undefined): v is IncidentView => !!v && v.status.length > 0;
    const open = openViews.filter(published).filter((v) => !v.closedAt);
    const components = o.config.services
      .filter((s) => s.component)
      .map((s): BoardComponent => {
        const affecting = open.filter((v) => v.affected.some((a) => a.id === s.id));
        return {
          service: s.id,
          component: s.component!,
          status:
            affecting.length === 0
              ? 'operational'
              : affecting.some((v) => v.severity === 'P0' || v.severity === 'P1')
                ? 'major_outage'
                : 'degraded',
          incidents: affecting.map((v) => v.id),
        };
      });
    const board: StatusBoard = {
      generatedAt: new Date(t).toISOString(),
      stale: false,
      historyDays,
      components,
      incidents: open.map(toIncident).sort(newestFirst),
      history: [...closed, ...openViews.filter((v) => v?.closedAt)]
        .filter(published)
        .filter((v) => Date.parse(v.closedAt!) >= cutoff)
        .map(toIncident)
        .sort(newestFirst),
      maintenance: [],
    };
    lastGood = board;
    return board;
  }

  return {
    async get(): Promise<StatusBoard> {
      const t = now();
      if (cached && (cached.pending || t - cached.at < cacheMs)) return cached.board;
      const entry: { at: number; pending: boolean; board: Promise<StatusBoard> } = {
        at: t,
        pending: true,
        board: read()
          .catch((e: unknown) => {
            if (cached === entry) cached = undefined;
            if (lastGood) return { ...lastGood, stale: true };
            throw e;
          })
          .finally(() => {
            entry.pending = false;
          }),
      };
      cached = entry;
      return entry.board;
    },
  };
}

/**
 * What `buildApp` registers for these three routes (validation, errors, auth, security headers, the
 * same route plugins and rendering), with the given reads behind them.
 */
async function startReadApp(
  config: Config,
  incidents: IncidentService,
  board: StatusBoardReader,
): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: 500 },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(createValidatorCompiler());
  await app.register(swagger, { openapi: { info: { title: 'bench', version: '0' } } });
  await app.register(errorHandlerPlugin);
  await app.register(authPlugin, {
    config,
    staffTokens: new Map(config.contacts.map((c) => [`bench-token-${c.id}`, c.id])),
  });
  await app.register(securityPlugin, { rateLimits: { staff: { max: 1_000_000_000, timeWindow: 60_000 } } });
  await app.register(incidentRoutes, { incidents, config });
  await app.register(statusRoutes, { board });
  const reports = createReportIntake({ incidents, config, limit: app.rateLimits.reports });
  await app.register(statusPageRoutes, { board, reports });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, port: (app.server.address() as { port: number }).port };
}

/** The baseline: the previous design's reads behind the same routes. */
async function startBaselineApi(client: Client, config: Config, incidents: IncidentService) {
  const reads = previousReads(client);
  const board = previousStatusBoard({ incidents: reads, config });
  const previous = { ...incidents, list: reads.list, get: reads.get } as unknown as IncidentService;
  return { ...(await startReadApp(config, previous, board)), pending: reads.pending };
}

/**
 * The product's board (record store) with each incident's messages cut to the latest, as the
 * baseline's page shows them: the same page from both designs, for the cost of the read alone.
 */
async function startTrimmedApi(config: Config, incidents: IncidentService, records: Records) {
  const board = createStatusBoard({ records, config });
  const trim = (list: BoardIncident[]) => list.map((i) => ({ ...i, messages: i.messages.slice(-1) }));
  const trimmed: StatusBoardReader = {
    get: async () => {
      const b = await board.get();
      return { ...b, incidents: trim(b.incidents), history: trim(b.history) };
    },
  };
  return startReadApp(config, incidents, trimmed);
}

/** One GET with no client timeout (bounded at `capMs`): how long a single reader waits, and what it gets. */
function singleGet(
  port: number,
  path: string,
  headers: Record<string, string>,
  capMs: number,
): Promise<{ ms: number; outcome: string; stale: boolean; body?: string }> {
  return new Promise((resolve) => {
    const t = performance.now();
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const ok = res.statusCode === 200;
        resolve({
          ms: performance.now() - t,
          outcome: String(res.statusCode),
          stale: ok && (body.includes('"stale":true') || body.includes('class="banner warn"')),
          body,
        });
      });
    });
    const timer = setTimeout(() => req.destroy(new Error('cap')), capMs);
    req.on('error', () => resolve({ ms: performance.now() - t, outcome: 'error', stale: false }));
    req.on('close', () => clearTimeout(timer));
  });
}

/**
 * CPU seconds per process of the record store's PostgreSQL (its postmaster, found by the port in
 * DATABASE_URL, and the backends it forked), for the cost per answer: the store's share.
 */
function postgresCpu(): Map<number, number> {
  const port = new URL(process.env.DATABASE_URL!).port;
  const procs: { pid: number; ppid: number; cmd: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      procs.push({ pid: Number(name), ppid, cmd });
    } catch {
      // gone meanwhile
    }
  }
  const master = procs.find((p) => /^[^\0]*\/postgres\0/.test(p.cmd) && p.cmd.includes(`\0-p\0${port}\0`));
  const out = new Map<number, number>();
  if (!master) return out;
  for (const p of procs)
    if (p.pid === master.pid || p.ppid === master.pid)
      try {
        out.set(p.pid, cpuSeconds(p.pid));
      } catch {
        // gone meanwhile
      }
  return out;
}

/** CPU the store's PostgreSQL used between two `postgresCpu()` readings (a backend new since: all of it). */
const postgresCpuSince = (before: Map<number, number>, after: Map<number, number>) =>
  [...after].reduce((sum, [pid, cpu]) => sum + cpu - (before.get(pid) ?? 0), 0);

/** Until the process uses under 5 % of a CPU over a second (at most `capMs`). */
async function quiet(pid: number, capMs: number): Promise<void> {
  const end = Date.now() + capMs;
  while (Date.now() < end) {
    const c0 = cpuSeconds(pid);
    await sleep(1_000);
    if (cpuSeconds(pid) - c0 < 0.05) return;
  }
}

// ---- the benchmark ------------------------------------------------------------------------------------------

const baselineDescription =
  'the previous design (2838646) copied into bench/reads.ts: /status and /api/status = a Temporal ' +
  'visibility list (newest 300) + a view query per running incident (closed ones once, then cached), one ' +
  'read at a time shared by concurrent requests, the last board (stale) when a read fails; GET ' +
  '/api/incidents = one visibility list per request; 15 s deadline per Temporal call; the same route ' +
  "plugins, auth and rendering as the product. Today's workflow view keeps only the latest status " +
  'message, so the baseline page shows one message per incident (the previous design showed them all)';

type Design = 'store' | 'previous' | 'trimmed';
type Condition = 'running' | 'stopped';

export async function readsBench(ctx: BenchContext, o: BenchOptions): Promise<BenchResult> {
  const concurrency = 200;
  const durationMs = o.quick ? 4_000 : 10_000;
  const warmupMs = o.quick ? 500 : 1_000;
  const timeoutMs = o.quick ? 2_000 : 5_000;
  const closedCount = 30;
  const openCount = 20;
  const services = ids('reads', closedCount + openCount);
  const taskQueue = `bench-reads-${randomUUID().slice(0, 8)}`;
  const config = genConfig({ services, levelTimeouts: ['1h', '1h', '1h'] });
  const staffHeaders = { authorization: 'Bearer bench-token-kari' };
  const endpoints = [
    { name: 'GET /status', path: '/status', headers: {}, staleMarker: 'class="banner warn"' },
    { name: 'GET /api/status', path: '/api/status', headers: {}, staleMarker: '"stale":true' },
    { name: 'GET /api/incidents', path: '/api/incidents', headers: staffHeaders },
  ];

  const worker = await startWorker(ctx, { taskQueue, config });
  const { client, connection } = await connectClient(ctx.address);
  const api = await startApi(client, connection, config, taskQueue);
  const baseline = await startBaselineApi(client, config, api.incidents);
  const trimmedDb = openDb(process.env.DATABASE_URL!, { max: 20 });
  const trimmed = await startTrimmedApi(config, api.incidents, createRecords(trimmedDb));
  const load = await startLoadChild();
  const apiPort = Number(new URL(api.url).port);
  const ports: Record<Design, number> = { store: apiPort, previous: baseline.port, trimmed: trimmed.port };
  let stopped = false;
  ctx.log(`baseline = ${baselineDescription}`);
  try {
    // ---- seed through the real API and worker: 30 closed incidents, 20 open, all with messages ----------
    const t0 = Date.now();
    // On a loaded machine a call may meet Temporal's deadline (503): try again, with the same event id
    // (a declare that did go through answers with the same incident).
    const post = async (route: string, body: unknown, accept: number[]) => {
      for (let attempt = 1; ; attempt++) {
        const r = await api.request('POST', route, body);
        if (accept.includes(r.status)) return r.body;
        if (r.status !== 503 || attempt === 5)
          throw new Error(`POST ${route}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
        await sleep(1_000);
      }
    };
    const opened = await pool(services, 8, async (service, i) => {
      const body = await post(
        '/api/incidents',
        {
          service,
          reason: `bench: reads ${i + 1} — database connections exhausted`,
          skipVerify: true,
          eventId: randomUUID(),
        },
        [200, 201],
      );
      return (body as { incident: { id: string } }).incident.id;
    });
    await pool(opened, 8, async (id, i) => {
      await post(
        `/api/incidents/${id}/status`,
        {
          state: 'identified',
          message: `We have found the cause of the trouble with ${services[i]} and are working on a fix.`,
        },
        [200],
      );
      if (i < closedCount)
        await post(`/api/incidents/${id}/resolve`, { note: 'fixed: connection pool raised' }, [200, 409]);
      else if (i < closedCount + openCount / 2)
        await post(`/api/incidents/${id}/acknowledge`, undefined, [200]);
    });
    const boardOf = async (port: number) => {
      const r = await singleGet(port, '/api/status', {}, 20_000);
      return r.outcome === '200' && r.body ? (JSON.parse(r.body) as StatusBoard) : undefined;
    };
    // Both designs must show the same incidents before anything is measured.
    const shown: Record<Design, { open: number; history: number }> = {
      store: { open: 0, history: 0 },
      previous: { open: 0, history: 0 },
      trimmed: { open: 0, history: 0 },
    };
    for (const d of ['store', 'previous', 'trimmed'] as Design[])
      await until(
        async () => {
          const b = await boardOf(ports[d]);
          if (!b) return false;
          shown[d] = { open: b.incidents.length, history: b.history.length };
          return b.incidents.length === openCount && b.history.length === closedCount;
        },
        90_000,
        `${d} board showing ${openCount} open and ${closedCount} closed incidents (has ${JSON.stringify(shown[d])})`,
        250,
      );
    // The trimmed page must be the baseline's page: the same incidents, each with the same message.
    // (Order aside: incidents opened or closed in the same millisecond come in either order.)
    const content = (b: StatusBoard | undefined) => {
      const sorted = (x: unknown[]) => x.map((v) => JSON.stringify(v)).sort();
      return JSON.stringify(b && [sorted(b.components), sorted(b.incidents), sorted(b.history)]);
    };
    const [pageTrimmed, pagePrevious] = [await boardOf(ports.trimmed), await boardOf(ports.previous)];
    const samePage = content(pageTrimmed) === content(pagePrevious);
    if (!samePage) ctx.log('note: the trimmed board differs from the baseline board (see details.samePage)');
    ctx.log(
      `seeded ${services.length} incidents (${closedCount} closed, ${openCount} open, all with status messages) in ${Date.now() - t0} ms`,
    );

    // ---- measure ------------------------------------------------------------------------------------------
    /** CPU seconds each process used during a window. */
    const pids = { temporal: ctx.serverPid, worker: worker.pid, api: process.pid, load: load.pid };
    const cpuNow = () =>
      Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)])) as Record<
        keyof typeof pids,
        number
      >;
    type Run = LoadResult & { cpu: Record<keyof typeof pids | 'postgres', number> };
    const results: Record<string, Run[]> = {};
    const key = (c: Condition, d: Design, e: string) => `${c}|${d}|${e}`;
    const run = async (d: Design, e: (typeof endpoints)[number], ms: number, warm: number): Promise<Run> => {
      const cpu0 = cpuNow();
      const pg0 = postgresCpu();
      const r = await load.run({
        port: ports[d],
        path: e.path,
        headers: e.headers,
        concurrency,
        warmupMs: warm,
        durationMs: ms,
        timeoutMs,
        staleMarker: e.staleMarker,
      });
      const cpu1 = cpuNow();
      const cpu = {
        ...Object.fromEntries(
          Object.keys(pids).map((k) => [k, cpu1[k as keyof typeof pids] - cpu0[k as keyof typeof pids]]),
        ),
        postgres: postgresCpuSince(pg0, postgresCpu()),
      } as Run['cpu'];
      return { ...r, cpu };
    };
    /** Until the previous design's abandoned Temporal calls are over (each ends by its 15 s deadline). */
    const drain = () =>
      until(() => baseline.pending() === 0, 30_000, "the previous design's Temporal calls to end", 100);
    const measure = async (c: Condition, d: Design, e: (typeof endpoints)[number], ms: number) => {
      const r = await run(d, e, ms, warmupMs);
      (results[key(c, d, e.name)] ??= []).push(r);
      const s = summarize(r.latencies);
      ctx.log(
        `${c} ${d} ${e.name}: ${r.latencies.length} requests, p50 ${round(s.p50, 1)} ms, p99 ${round(s.p99, 1)} ms, ` +
          `${round(r.ok / (r.elapsedMs / 1000), 0)} ok/s, ${JSON.stringify(r.outcomes)}${r.stale ? `, ${r.stale} stale` : ''}`,
      );
      if (d === 'previous' && c === 'running') await drain();
    };
    // The seeding's tail (resolved notices, postmortem drafts) done before anything is measured.
    await quiet(ctx.serverPid, 20_000);
    await quiet(worker.pid, 20_000);
    // Warm-up: every route on both designs once under the same load (JIT, sockets, closed views cached).
    const designsFor = (e: (typeof endpoints)[number]): Design[] =>
      e.path === '/status' ? ['store', 'previous', 'trimmed'] : ['store', 'previous'];
    for (const e of endpoints)
      for (const d of designsFor(e)) {
        await run(d, e, o.quick ? 1_500 : 2_000, 0);
        if (d === 'previous') await drain();
      }
    // Temporal running: per route, two half-windows per design in the order A B B A (A alternating
    // between routes; A B C C B A for the status page), so that drift and noise hit all alike.
    for (const [i, e] of endpoints.entries()) {
      const order = i % 2 === 0 ? designsFor(e) : designsFor(e).reverse();
      for (const d of [...order, ...[...order].reverse()]) await measure('running', d, e, durationMs / 2);
    }

    // Temporal stopped: the record store's design first, so the previous design's hung calls cannot weigh
    // on it; then the previous design, with one reader per endpoint that waits without a client timeout.
    const singles: Record<string, { ms: number; outcome: string; stale: boolean }> = {};
    const capMs = 60_000;
    process.kill(ctx.serverPid, 'SIGSTOP');
    stopped = true;
    const stoppedAt = Date.now();
    try {
      ctx.log(`Temporal dev server (pid ${ctx.serverPid}) stopped with SIGSTOP`);
      await sleep(200);
      for (const e of endpoints) {
        const { body: _b, ...r } = await singleGet(apiPort, e.path, e.headers, capMs);
        singles[key('stopped', 'store', e.name)] = r;
      }
      for (const e of endpoints) await measure('stopped', 'store', e, durationMs);
      const waiting = endpoints.map(async (e) => {
        const { body: _b, ...r } = await singleGet(baseline.port, e.path, e.headers, capMs);
        singles[key('stopped', 'previous', e.name)] = r;
      });
      for (const e of endpoints) await measure('stopped', 'previous', e, durationMs);
      await Promise.all(waiting);
    } finally {
      process.kill(ctx.serverPid, 'SIGCONT');
      stopped = false;
    }
    const stoppedForMs = Date.now() - stoppedAt;
    ctx.log(`Temporal resumed (SIGCONT) after ${round(stoppedForMs / 1000, 1)} s`);
    await until(
      () =>
        connection
          .withDeadline(Date.now() + 2_000, () => connection.healthService.check({}))
          .then(() => true),
      30_000,
      'Temporal answering after SIGCONT',
      200,
    );
    // The calls the load generator gave up on end by their deadline: before the client closes.
    await drain();

    // ---- rows ----------------------------------------------------------------------------------------------
    const rows: Row[] = [];
    const merged = (c: Condition, d: Design, e: string) => {
      const runs = results[key(c, d, e)]!;
      const latencies = runs.flatMap((r) => r.latencies);
      const ok = runs.reduce((n, r) => n + r.ok, 0);
      const elapsedMs = runs.reduce((n, r) => n + r.elapsedMs, 0);
      const bytes = runs.reduce((n, r) => n + r.bytes, 0);
      // What serving them cost: the API process, Temporal, the worker and PostgreSQL (not the load).
      const serveCpu = runs.reduce(
        (n, r) => n + r.cpu.api + r.cpu.temporal + r.cpu.worker + r.cpu.postgres,
        0,
      );
      return { runs, latencies, ok, elapsedMs, bytes, serveCpu };
    };
    const figures = (c: Condition, d: Design, e: string) => {
      const m = merged(c, d, e);
      const n = m.latencies.length;
      return {
        ...summarize(m.latencies),
        rps: m.ok / (m.elapsedMs / 1000),
        errorPct: n ? (100 * (n - m.ok)) / n : NaN,
        kib: m.ok ? m.bytes / m.ok / 1024 : NaN,
        cpuMsPerAnswer: m.ok ? (1000 * m.serveCpu) / m.ok : NaN,
      };
    };
    for (const c of ['running', 'stopped'] as Condition[]) {
      const bench = c === 'running' ? '8 reads, 200 clients' : '8 reads, Temporal SIGSTOPped';
      const baselineLabel =
        c === 'running' ? 'previous design (Temporal reads)' : 'previous design, Temporal SIGSTOPped';
      for (const e of endpoints) {
        const a = figures(c, 'store', e.name);
        const b = figures(c, 'previous', e.name);
        rows.push(
          row({ bench, metric: `${e.name} p50`, value: a.p50, unit: 'ms', baselineLabel, baseline: b.p50 }),
          row({ bench, metric: `${e.name} p99`, value: a.p99, unit: 'ms', baselineLabel, baseline: b.p99 }),
          row({
            bench,
            metric: `${e.name} 2xx answers`,
            value: a.rps,
            unit: '/s',
            baselineLabel,
            baseline: b.rps,
          }),
        );
        if (c === 'running')
          rows.push(
            row({
              bench,
              metric: `${e.name} CPU per 2xx answer (API, Temporal, worker, PostgreSQL)`,
              value: a.cpuMsPerAnswer,
              unit: 'ms',
              baselineLabel,
              baseline: b.cpuMsPerAnswer,
            }),
          );
        if (c === 'running' && e.path === '/status') {
          const t = figures(c, 'trimmed', e.name);
          const same = `${e.name}, same page as the baseline (latest message only)`;
          rows.push(
            row({ bench, metric: `${same} p50`, value: t.p50, unit: 'ms', baselineLabel, baseline: b.p50 }),
            row({ bench, metric: `${same} p99`, value: t.p99, unit: 'ms', baselineLabel, baseline: b.p99 }),
            row({
              bench,
              metric: `${same} 2xx answers`,
              value: t.rps,
              unit: '/s',
              baselineLabel,
              baseline: b.rps,
            }),
            row({
              bench,
              metric: `${same} CPU per 2xx answer`,
              value: t.cpuMsPerAnswer,
              unit: 'ms',
              baselineLabel,
              baseline: b.cpuMsPerAnswer,
            }),
          );
        }
        if (c === 'running' && e.path === '/status')
          rows.push(
            row({
              bench,
              metric: `${e.name} page size (baseline: latest message only)`,
              value: a.kib,
              unit: 'KiB',
              baselineLabel,
              baseline: b.kib,
            }),
          );
        if (c === 'stopped' || a.errorPct > 0 || b.errorPct > 0)
          rows.push(
            row({
              bench,
              metric: `${e.name} failed or timed out (${timeoutMs / 1000} s)`,
              value: a.errorPct,
              unit: '%',
              baselineLabel,
              baseline: b.errorPct,
              ratio: b.errorPct > 0 ? a.errorPct / b.errorPct : undefined,
            }),
          );
      }
    }
    for (const e of endpoints.filter((x) => x.path !== '/api/status')) {
      const a = singles[key('stopped', 'store', e.name)]!;
      const b = singles[key('stopped', 'previous', e.name)]!;
      const tag = (x: typeof a) => `${x.outcome}${x.stale ? ' stale' : ''}`;
      rows.push(
        row({
          bench: '8 reads, Temporal SIGSTOPped',
          metric: `${e.name}, one reader, no client timeout (${tag(a)} vs ${tag(b)})`,
          value: a.ms,
          unit: 'ms',
          baselineLabel: 'previous design, Temporal SIGSTOPped',
          baseline: b.ms,
        }),
      );
    }

    return {
      name: 'reads',
      title:
        'Reads under 200 concurrent clients: record store vs the previous design (Temporal reads), Temporal running and SIGSTOPped',
      rows,
      details: {
        baseline: baselineDescription,
        incidents: { closed: closedCount, open: openCount, acknowledged: openCount / 2, shown },
        samePage,
        ...(samePage ? {} : { pageTrimmed, pagePrevious }),
        concurrency,
        warmupMs,
        durationMs,
        timeoutMs,
        stoppedForSeconds: round(stoppedForMs / 1000, 1),
        loadGenerator: 'closed loop in a child process, one keep-alive http.Agent (maxSockets 200)',
        runs: Object.fromEntries(
          Object.keys(results).map((k) => {
            const [c, d, e] = k.split('|') as [Condition, Design, string];
            const m = merged(c, d, e);
            return [
              k,
              {
                latencyMs: roundSummary(summarize(m.latencies)),
                okPerSecond: round(m.ok / (m.elapsedMs / 1000), 1),
                windows: m.runs.map((r) => ({
                  p50: round(percentile(r.latencies, 50), 1),
                  p99: round(percentile(r.latencies, 99), 1),
                  okPerSecond: round(r.ok / (r.elapsedMs / 1000), 1),
                  outcomes: r.outcomes,
                  stale: r.stale,
                  elapsedMs: round(r.elapsedMs, 0),
                  cpuSeconds: Object.fromEntries(Object.entries(r.cpu).map(([k, v]) => [k, round(v, 2)])),
                })),
                meanBodyBytes: m.ok ? Math.round(m.bytes / m.ok) : 0,
              },
            ];
          }),
        ),
        singleReaders: Object.fromEntries(
          Object.entries(singles).map(([k, v]) => [k, { ...v, ms: round(v.ms, 1) }]),
        ),
      },
    };
  } finally {
    if (stopped) process.kill(ctx.serverPid, 'SIGCONT');
    load.stop();
    // A Temporal call still retrying when its connection closes would throw out of a timer.
    await until(() => baseline.pending() === 0, 30_000, 'baseline calls', 100).catch(() => undefined);
    await baseline.app.close();
    await trimmed.app.close();
    await trimmedDb.end();
    await api.close();
    await worker.stop();
    await connection.close();
  }
}
