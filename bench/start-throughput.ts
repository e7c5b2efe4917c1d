/**
 * 2. Incident start throughput: `POST /api/incidents` (distinct services, `skipVerify`) against a
 * bare `client.workflow.start` of `incidentWorkflow` with the same input (`buildIncidentInput`, the
 * same search attributes), both at the same client concurrency. A third side, `reportIncident` called
 * directly (the update-with-start the API makes, without HTTP and without the view query), splits the
 * difference. Two figures per side: calls returned per second, and declared → level-1 page written
 * per second (the worker's sent-mail ledger), which is the same work on every side.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { reportIncident } from '../client/incidents.js';
import { buildIncidentInput } from '../domain/model.js';
import {
  incidentServiceKey,
  incidentSeverityKey,
  incidentStateKey,
  incidentWorkflowId,
} from '../workflows/definitions.js';
import {
  connectClient,
  genConfig,
  ids,
  pool,
  round,
  roundSummary,
  row,
  sleep,
  startApi,
  startWorker,
  summarize,
  type BenchContext,
  type BenchOptions,
  type BenchResult,
} from './lib.js';

type Side = 'api' | 'bare' | 'uws';

export async function startBench(ctx: BenchContext, o: BenchOptions): Promise<BenchResult> {
  const perSide = o.quick ? 60 : 200;
  const rounds = 2;
  const concurrency = 16;
  const taskQueue = `bench-start-${randomUUID().slice(0, 8)}`;
  const sides: Side[] = ['api', 'bare', 'uws'];
  const services = Object.fromEntries(sides.map((s) => [s, ids(`start-${s}`, perSide)])) as Record<
    Side,
    string[]
  >;
  const warmup = Object.fromEntries(sides.map((s) => [s, ids(`warm-${s}`, 4)])) as Record<Side, string[]>;
  const config = genConfig({
    services: sides.flatMap((s) => [...services[s], ...warmup[s]]),
    levelTimeouts: ['1h', '1h', '1h'],
  });
  const ledgerDir = path.join(ctx.tmpDir, `${taskQueue}-sent`);
  const pages = () => {
    try {
      return readdirSync(ledgerDir).filter((f) => f.endsWith('.json')).length;
    } catch {
      return 0;
    }
  };

  const worker = await startWorker(ctx, { taskQueue, config, ledgerDir });
  const { client, connection } = await connectClient(ctx.address);
  const api = await startApi(client, connection, config, taskQueue);
  const publicBaseUrl = 'http://127.0.0.1:3000';
  const detection = () => ({
    eventId: randomUUID(),
    source: 'api' as const,
    actor: 'kari',
    reason: 'bench: start throughput',
    skipVerify: true,
  });
  const call: Record<Side, (service: string) => Promise<void>> = {
    api: async (service) => {
      const r = await api.request('POST', '/api/incidents', {
        service,
        reason: 'bench: start throughput',
        skipVerify: true,
      });
      if (r.status !== 201)
        throw new Error(`POST /api/incidents: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    },
    bare: async (service) => {
      const input = buildIncidentInput(config, service, detection(), { publicBaseUrl });
      await client.workflow.start('incidentWorkflow', {
        workflowId: incidentWorkflowId(service),
        taskQueue,
        args: [input],
        typedSearchAttributes: [
          { key: incidentServiceKey, value: service },
          { key: incidentSeverityKey, value: input.severity },
          { key: incidentStateKey, value: 'verifying' },
        ],
      });
    },
    uws: async (service) => {
      const r = await reportIncident({ client, config, taskQueue, publicBaseUrl }, service, detection());
      if (!r.opened) throw new Error(`reportIncident joined instead of opening ${service}`);
    },
  };

  const acc = Object.fromEntries(
    sides.map((s) => [s, { n: 0, callMs: 0, pagedMs: 0, latencies: [] as number[] }]),
  ) as Record<Side, { n: number; callMs: number; pagedMs: number; latencies: number[] }>;
  try {
    // Warm-up: connections, the worker's first tasks, Fastify's first request.
    for (const side of sides) await pool(warmup[side], 4, call[side]);
    for (let r = 0; r < rounds; r++) {
      for (const side of sides) {
        const batch = services[side].slice((r * perSide) / rounds, ((r + 1) * perSide) / rounds);
        const before = pages();
        const t0 = performance.now();
        await pool(batch, concurrency, async (service) => {
          const t = performance.now();
          await call[side](service);
          acc[side].latencies.push(performance.now() - t);
        });
        const t1 = performance.now();
        // Every incident pages level 1 once: wait for those pages before the next side starts.
        const deadline = Date.now() + 120_000;
        while (pages() < before + batch.length) {
          if (Date.now() > deadline) throw new Error(`${side}: pages did not arrive`);
          await sleep(20);
        }
        const t2 = performance.now();
        acc[side].n += batch.length;
        acc[side].callMs += t1 - t0;
        acc[side].pagedMs += t2 - t0;
        ctx.log(
          `round ${r + 1} ${side}: ${batch.length} in ${Math.round(t1 - t0)} ms, paged after ${Math.round(t2 - t0)} ms`,
        );
      }
    }
    const rate = (s: Side, k: 'callMs' | 'pagedMs') => acc[s].n / (acc[s][k] / 1000);
    const bench = '2 start throughput';
    return {
      name: 'start',
      title: 'Incident start throughput: API vs bare client.workflow.start',
      rows: [
        row({
          bench,
          metric: `API POST returned, ${concurrency} concurrent`,
          value: rate('api', 'callMs'),
          unit: '/s',
          baselineLabel: 'bare workflow.start returned',
          baseline: rate('bare', 'callMs'),
        }),
        row({
          bench,
          metric: 'API declared → level-1 page written',
          value: rate('api', 'pagedMs'),
          unit: '/s',
          baselineLabel: 'bare start → page written',
          baseline: rate('bare', 'pagedMs'),
        }),
        row({
          bench,
          metric: 'reportIncident (update-with-start) returned',
          value: rate('uws', 'callMs'),
          unit: '/s',
          baselineLabel: 'bare workflow.start returned',
          baseline: rate('bare', 'callMs'),
        }),
      ],
      details: {
        perSide,
        rounds,
        concurrency,
        services: config.services.length,
        ...Object.fromEntries(
          sides.map((s) => [
            s,
            {
              returnedPerSecond: round(rate(s, 'callMs')),
              pagedPerSecond: round(rate(s, 'pagedMs')),
              callLatencyMs: roundSummary(summarize(acc[s].latencies)),
            },
          ]),
        ),
        workerCpuSeconds: round(worker.cpuSeconds()),
      },
    };
  } finally {
    await api.close();
    await worker.stop();
    await connection.close();
  }
}
