/**
 * 11. Reconciling 10,000 checks at start: `reconcileMonitors` (what the worker runs when it starts or
 * reloads) against the dev server, first when no monitor runs (10,000 signal-with-starts, 64 at a
 * time), then again when all run (a restart: every monitor is re-configured). Baseline: the same for
 * 1,000 checks in the same run, so the ratio says how it scales. No worker polls the task queue: this
 * is the start-up's cost to Temporal, not the probes' (the monitors benchmark measures those).
 */
import { randomUUID } from 'node:crypto';
import { reconcileMonitors } from '../client/monitors.js';
import { monitorWorkflowId } from '../workflows/monitor.js';
import {
  connectClient,
  genConfig,
  ids,
  pool,
  row,
  type BenchContext,
  type BenchOptions,
  type BenchResult,
} from './lib.js';

export async function reconcileBench(ctx: BenchContext, o: BenchOptions): Promise<BenchResult> {
  const sizes = o.quick ? [200, 2000] : [1000, 10_000];
  const { client, connection } = await connectClient(ctx.address);
  const measured: { n: number; firstMs: number; againMs: number }[] = [];
  try {
    for (const n of sizes) {
      const taskQueue = `bench-rec-${randomUUID().slice(0, 8)}`;
      const services = ids(`rec${n}`, n);
      const config = genConfig({
        services,
        levelTimeouts: ['1h'],
        checks: services.map((s) => ({
          id: `${s}-tcp`,
          service: s,
          kind: 'tcp',
          host: '127.0.0.1',
          port: 9,
          interval: '30s',
          timeout: '5s',
        })),
      });
      let t = Date.now();
      await reconcileMonitors(client, config, taskQueue);
      const firstMs = Date.now() - t;
      t = Date.now();
      const { shards } = await reconcileMonitors(client, config, taskQueue);
      const againMs = Date.now() - t;
      measured.push({ n, firstMs, againMs });
      ctx.log(`${n} checks: reconciled in ${firstMs} ms from nothing, ${againMs} ms with all running`);
      await pool([...services.map((s) => monitorWorkflowId(`${s}-tcp`)), ...shards], 64, (id) =>
        client.workflow
          .getHandle(id)
          .terminate('bench finished')
          .catch(() => undefined),
      );
    }
  } finally {
    await connection.close();
  }
  const [small, big] = measured as [(typeof measured)[0], (typeof measured)[0]];
  const bench = `11 reconcile ${big.n} checks`;
  const base = `${small.n} checks, same run`;
  return {
    name: 'reconcile',
    title: `reconcileMonitors for ${big.n} checks, from nothing and with all running`,
    rows: [
      row({
        bench,
        metric: 'from nothing (start)',
        value: big.firstMs / 1000,
        unit: 's',
        baselineLabel: base,
        baseline: small.firstMs / 1000,
      }),
      row({
        bench,
        metric: 'with all running (restart)',
        value: big.againMs / 1000,
        unit: 's',
        baselineLabel: base,
        baseline: small.againMs / 1000,
      }),
      row({
        bench,
        metric: 'checks per second, from nothing',
        value: big.n / (big.firstMs / 1000),
        unit: '/s',
        baselineLabel: base,
        baseline: small.n / (small.firstMs / 1000),
      }),
    ],
    details: { measured, concurrency: 64 },
  };
}
