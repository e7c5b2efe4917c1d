/**
 * `/metrics` as Prometheus reads it: scraped from the API (record store figures, request durations)
 * and from a worker process of its own (probes, the Temporal SDK's runtime metrics), each parsed with
 * parse-prometheus-text-format (a parser this project did not write). The figures move when an
 * incident opens, is paged and is acknowledged.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { stringify } from 'yaml';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { freshStore, type TestStore } from '../helpers/store.js';
import { startWorkerProcess, type Proc } from '../helpers/processes.js';
import { freeLoopbackPort } from '../../worker/metrics.js';
import { validateConfig } from '../../config/load.js';

interface Family {
  name: string;
  type: string;
  help: string;
  metrics: Array<{ value?: string; labels?: Record<string, string>; buckets?: Record<string, string> }>;
}

const parse = (text: string) => parsePrometheusTextFormat(text) as Family[];
const family = (fs: Family[], name: string) => fs.find((f) => f.name === name);
const value = (fs: Family[], name: string, labels: Record<string, string>) => {
  const m = family(fs, name)?.metrics.find((x) =>
    Object.entries(labels).every(([k, v]) => x.labels?.[k] === v),
  );
  return m?.value === undefined ? undefined : Number(m.value);
};

describe('/metrics on the API', () => {
  let h: Harness;
  let serviceId: string;

  beforeAll(async () => {
    const t = testConfig({ levelTimeout: '10m' });
    serviceId = t.serviceId;
    h = await startHarness({ config: t.config });
  });
  afterAll(async () => {
    await h?.close();
  });

  const scrape = async () => {
    const r = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return parse(r.body);
  };

  it('moves when an incident opens, is paged and is acknowledged', async () => {
    const before = await scrape();
    expect(value(before, 'incident_orchestrator_record_store_up', {})).toBe(1);
    expect(
      value(before, 'incident_orchestrator_incidents_open', { severity: 'P1', state: 'triggered' }),
    ).toBe(0);
    expect(
      value(before, 'incident_orchestrator_page_deliveries_total', { channel: 'email', outcome: 'sent' }),
    ).toBe(0);
    expect(family(before, 'incident_orchestrator_time_to_acknowledge_seconds')?.metrics ?? []).toEqual([]);

    const opened = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('kari'),
      payload: { service: serviceId, reason: 'the export is stale', skipVerify: true },
    });
    expect(opened.statusCode).toBe(201);
    const id = (opened.json() as { incident: { id: string } }).incident.id;

    // The level-1 page to kari is delivered and recorded.
    const paged = await eventually(
      async () => {
        const fs = await scrape();
        return (value(fs, 'incident_orchestrator_page_deliveries_total', {
          channel: 'email',
          outcome: 'sent',
        }) ?? 0) >= 1
          ? fs
          : undefined;
      },
      30_000,
      'a sent page in /metrics',
    );
    expect(value(paged, 'incident_orchestrator_incidents_open', { severity: 'P1', state: 'triggered' })).toBe(
      1,
    );
    expect(family(paged, 'incident_orchestrator_incidents_open')?.type).toBe('GAUGE');
    expect(family(paged, 'incident_orchestrator_page_deliveries_total')?.type).toBe('COUNTER');
    // The escalation is not due for 10 minutes: nothing is late.
    expect(value(paged, 'incident_orchestrator_escalation_lateness_seconds', {})).toBe(0);

    const ack = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${id}/acknowledge`,
      headers: h.auth('kari'),
    });
    expect(ack.statusCode).toBe(200);
    const after = await eventually(
      async () => {
        const fs = await scrape();
        return value(fs, 'incident_orchestrator_incidents_open', {
          severity: 'P1',
          state: 'acknowledged',
        }) === 1
          ? fs
          : undefined;
      },
      20_000,
      'the acknowledged incident in /metrics',
    );
    expect(value(after, 'incident_orchestrator_incidents_open', { severity: 'P1', state: 'triggered' })).toBe(
      0,
    );
    const tta = family(after, 'incident_orchestrator_time_to_acknowledge_seconds')!;
    expect(tta.type).toBe('HISTOGRAM');
    // One acknowledged incident, acknowledged within seconds: in every bucket from 30 s up.
    expect(tta.metrics[0]!.buckets).toMatchObject({ '30': '1', '14400': '1', '+Inf': '1' });

    // Request durations, labelled by route pattern (never the incident id).
    const requests = family(after, 'incident_orchestrator_http_request_duration_seconds')!;
    expect(requests.type).toBe('HISTOGRAM');
    const text = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(
      /incident_orchestrator_http_request_duration_seconds_count\{route="\/api\/incidents\/:id\/acknowledge",method="POST",status_code="200"\} 1/,
    );
    expect(text).not.toContain(id);
  });
});

describe('/metrics on the worker', () => {
  let store: TestStore;
  let worker: Proc | undefined;
  let target: Server;
  let tmp: string;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'metrics-worker-'));
    store = await freshStore();
    target = createServer((s) => s.end());
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    await worker?.stop();
    await new Promise((r) => target?.close(r));
    await store?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("serves its probes and the Temporal SDK's runtime metrics on its own port", async () => {
    const { config, serviceId } = testConfig();
    const port = (target.address() as { port: number }).port;
    const checkId = `${serviceId}-tcp`;
    const withCheck = validateConfig(
      JSON.parse(
        JSON.stringify({
          ...config,
          checks: [
            {
              id: checkId,
              service: serviceId,
              kind: 'tcp',
              host: '127.0.0.1',
              port,
              interval: '1s',
              timeout: '1s',
            },
          ],
        }),
      ),
      'test',
    );
    const configPath = path.join(tmp, 'config.yaml');
    writeFileSync(configPath, stringify(withCheck));
    const metricsPort = await freeLoopbackPort();
    worker = await startWorkerProcess({
      configPath,
      temporalAddress: inject('temporalAddress'),
      taskQueue: `metrics-${randomUUID()}`,
      dataDir: tmp,
      databaseUrl: store.url,
      env: { WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}` },
    });
    const scrape = async () => {
      const r = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(r.status).toBe(200);
      return parse(await r.text());
    };
    // The monitor's probe loop runs the tcp check every second.
    const fs = await eventually(
      async () => {
        const f = await scrape();
        return (value(f, 'incident_orchestrator_probes_total', {
          check: checkId,
          kind: 'tcp',
          result: 'ok',
        }) ?? 0) >= 2
          ? f
          : undefined;
      },
      60_000,
      'probes in the worker’s /metrics',
    );
    expect(family(fs, 'incident_orchestrator_probe_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(value(fs, 'incident_orchestrator_temporal_metrics_up', {})).toBe(1);
    const temporal = fs.filter((f) => f.name.startsWith('temporal_'));
    expect(temporal.length).toBeGreaterThan(5);
    // Prometheus conventions from the SDK too: counters end in _total, durations are in seconds.
    for (const f of temporal.filter((x) => x.type === 'COUNTER')) expect(f.name).toMatch(/_total$/);
    expect(temporal.some((f) => /_seconds$/.test(f.name))).toBe(true);
    expect(value(fs, 'process_resident_memory_bytes', {})).toBeGreaterThan(0);
    // The event-loop lag is still there, sampled every 100 ms instead of prom-client's 10 ms.
    expect(value(fs, 'nodejs_eventloop_lag_p99_seconds', {})).toBeGreaterThan(0);
  }, 120_000);
});
