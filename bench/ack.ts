/**
 * 1. Acknowledge round trip: HTTP `POST /api/incidents/:id/acknowledge` (Fastify on 127.0.0.1, a
 * keep-alive client) against a bare `handle.executeUpdate(acknowledgeUpdate)` on incidents of the
 * same kind. Sequential calls, the two sides interleaved so that noise hits both alike; each side has
 * its own incidents, acknowledged round-robin the same number of times (a re-acknowledge restarts
 * the acknowledgement timer and adds a timeline line, so the views grow alike).
 */
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { reportIncident } from '../client/incidents.js';
import { acknowledgeUpdate, parseIncidentId } from '../workflows/definitions.js';
import {
  connectClient,
  genConfig,
  ids,
  pool,
  round,
  roundSummary,
  row,
  startApi,
  startWorker,
  summarize,
  type BenchContext,
  type BenchOptions,
  type BenchResult,
} from './lib.js';

export async function ackBench(ctx: BenchContext, o: BenchOptions): Promise<BenchResult> {
  const incidentsPerSide = o.quick ? 10 : 30;
  const samples = o.quick ? 60 : 300;
  const warmup = 10;
  const taskQueue = `bench-ack-${randomUUID().slice(0, 8)}`;
  const apiServices = ids('ack-api', incidentsPerSide);
  const bareServices = ids('ack-bare', incidentsPerSide);
  const config = genConfig({
    services: [...apiServices, ...bareServices],
    levelTimeouts: ['1h', '1h', '1h'],
  });

  const worker = await startWorker(ctx, { taskQueue, config });
  const { client, connection } = await connectClient(ctx.address);
  const api = await startApi(client, connection, config, taskQueue);
  try {
    const open = (service: string) =>
      reportIncident({ client, config, taskQueue }, service, {
        eventId: randomUUID(),
        source: 'api',
        actor: 'kari',
        reason: 'bench: acknowledge round trip',
        skipVerify: true,
      }).then((r) => r.id);
    const apiIds = await pool(apiServices, 8, open);
    const bareIds = await pool(bareServices, 8, open);
    ctx.log(`${apiIds.length + bareIds.length} incidents open`);

    const viaApi = async (id: string) => {
      const t = performance.now();
      const r = await api.request('POST', `/api/incidents/${id}/acknowledge`);
      const ms = performance.now() - t;
      if (r.status !== 200)
        throw new Error(`acknowledge via API: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      return ms;
    };
    const bare = async (id: string) => {
      const { workflowId, runId } = parseIncidentId(id)!;
      const t = performance.now();
      await client.workflow
        .getHandle(workflowId, runId)
        .executeUpdate(acknowledgeUpdate, { args: [{ actor: 'kari' }] });
      return performance.now() - t;
    };

    for (let i = 0; i < warmup; i++) {
      await viaApi(apiIds[i % apiIds.length]!);
      await bare(bareIds[i % bareIds.length]!);
    }
    const apiMs: number[] = [];
    const bareMs: number[] = [];
    for (let i = 0; i < samples; i++) {
      // Alternate which side goes first, so neither always follows the other.
      if (i % 2 === 0) {
        apiMs.push(await viaApi(apiIds[i % apiIds.length]!));
        bareMs.push(await bare(bareIds[i % bareIds.length]!));
      } else {
        bareMs.push(await bare(bareIds[i % bareIds.length]!));
        apiMs.push(await viaApi(apiIds[i % apiIds.length]!));
      }
    }
    const a = summarize(apiMs);
    const b = summarize(bareMs);
    const acksPerIncident = Math.round((samples + warmup) / incidentsPerSide);
    const bench = '1 ack round trip';
    const baselineLabel = 'bare executeUpdate';
    return {
      name: 'ack',
      title: 'Acknowledge round trip: API vs bare executeUpdate',
      rows: [
        row({ bench, metric: 'p50', value: a.p50, unit: 'ms', baselineLabel, baseline: b.p50 }),
        row({ bench, metric: 'p99', value: a.p99, unit: 'ms', baselineLabel, baseline: b.p99 }),
      ],
      details: {
        samplesPerSide: samples,
        incidentsPerSide,
        acksPerIncident,
        apiMs: roundSummary(a),
        bareMs: roundSummary(b),
        apiOverheadP50Ms: round(a.p50 - b.p50),
        workerStartupMs: worker.startupMs,
      },
    };
  } finally {
    await api.close();
    await worker.stop();
    await connection.close();
  }
}
