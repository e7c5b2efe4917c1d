/**
 * The API's Prometheus metrics (prom-client): what the record store says about the whole deployment
 * (open incidents, delivery attempts, time to acknowledge, overdue escalations) and this process's
 * request durations. The worker's own metrics (probes, the Temporal SDK's) are in worker/metrics.ts.
 *
 * Names follow the Prometheus conventions: an `incident_orchestrator_` prefix, base units in the name
 * (`_seconds`), `_total` for counters. The record's figures are read once per scrape (shared by every
 * metric of that scrape, at most one read a second); when the store does not answer they are left
 * out and `incident_orchestrator_record_store_up` is 0.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '../activities/metrics.js';
import { severities } from '../domain/config-schema.js';
import { closedStates, incidentStates } from '../domain/incident.js';
import type { RecordMetrics, Records } from '../store/records.js';

export const metricPrefix = 'incident_orchestrator_';

/** Time-to-acknowledge buckets, seconds: 30 s to 4 h. */
export const ackBuckets = [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400] as const;

/** API request duration buckets, seconds. */
const requestBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const openStates = incidentStates.filter((s) => !closedStates.includes(s));

/**
 * A histogram whose counts come from somewhere else (the record store), in prom-client's shape, so
 * the registry prints it like its own: `_bucket{le}` (cumulative, with `+Inf`), `_sum`, `_count`.
 */
function storedHistogram(o: {
  name: string;
  help: string;
  labelName: string;
  buckets: readonly number[];
  read: () => Promise<RecordMetrics['timeToAcknowledge'] | undefined>;
}) {
  return {
    name: o.name,
    help: o.help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const rows = (await o.read()) ?? [];
      const values = rows.flatMap((r) => {
        const labels = { [o.labelName]: r.severity };
        return [
          ...o.buckets.map((le, i) => ({
            metricName: `${o.name}_bucket`,
            labels: { ...labels, le },
            value: r.buckets[i] ?? 0,
          })),
          { metricName: `${o.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: r.count },
          { metricName: `${o.name}_sum`, labels, value: r.sumSeconds },
          { metricName: `${o.name}_count`, labels, value: r.count },
        ];
      });
      return { name: o.name, help: o.help, type: 'histogram', aggregator: 'sum', values };
    },
    reset() {},
  };
}

export interface ApiMetrics {
  registry: Registry;
  /** One answered request: its route pattern (never the raw URL), method, status and seconds. */
  observeRequest(route: string, method: string, statusCode: number, seconds: number): void;
}

export function createApiMetrics(o: { records: Records; processMetrics?: boolean }): ApiMetrics {
  const registry = new Registry();
  if (o.processMetrics !== false) collectProcessMetrics(registry);

  // One read of the store per scrape (every metric below asks; they share it for a second).
  let cached: { at: number; value: Promise<RecordMetrics | undefined> } | undefined;
  const snapshot = () => {
    if (!cached || Date.now() - cached.at > 1000)
      cached = {
        at: Date.now(),
        value: o.records.metricsSnapshot(ackBuckets).catch(() => undefined),
      };
    return cached.value;
  };

  new Gauge({
    name: `${metricPrefix}record_store_up`,
    help: 'Whether the record store answered the read for this scrape (1) or not (0); the figures from the record are left out when it did not.',
    registers: [registry],
    async collect() {
      this.set((await snapshot()) ? 1 : 0);
    },
  });

  new Gauge({
    name: `${metricPrefix}incidents_open`,
    help: 'Open incidents (not resolved or dismissed) of the whole deployment, from the record store, by severity and state.',
    labelNames: ['severity', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const s = await snapshot();
      if (!s) return;
      // Every combination, so a series drops to 0 instead of disappearing.
      for (const severity of severities) for (const state of openStates) this.set({ severity, state }, 0);
      for (const r of s.open) this.set({ severity: r.severity, state: r.state }, r.count);
    },
  });

  new Counter({
    name: `${metricPrefix}page_deliveries_total`,
    help: 'Attempts to deliver a page or notice, from the record store, by channel and outcome (sent, failed, duplicate: already sent by an earlier attempt).',
    labelNames: ['channel', 'outcome'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const s = await snapshot();
      if (!s) return;
      for (const outcome of ['sent', 'failed']) this.inc({ channel: 'email', outcome }, 0);
      for (const r of s.deliveries) this.inc({ channel: r.channel, outcome: r.outcome }, r.count);
    },
  });

  registry.registerMetric(
    storedHistogram({
      name: `${metricPrefix}time_to_acknowledge_seconds`,
      help: 'Seconds from an incident opening to its first acknowledgement, from the record store, by severity.',
      labelName: 'severity',
      buckets: ackBuckets,
      read: async () => (await snapshot())?.timeToAcknowledge,
    }) as unknown as Histogram,
  );

  new Gauge({
    name: `${metricPrefix}escalation_lateness_seconds`,
    help: 'How far past its due time the most overdue escalation of an unacknowledged incident is (0 when none is overdue); more than a few seconds means no worker is escalating.',
    registers: [registry],
    async collect() {
      this.reset();
      const s = await snapshot();
      if (s) this.set(s.escalationLatenessSeconds);
    },
  });

  const requests = new Histogram({
    name: `${metricPrefix}http_request_duration_seconds`,
    help: 'API request duration in seconds, by route pattern, method and status code.',
    labelNames: ['route', 'method', 'status_code'] as const,
    buckets: requestBuckets,
    registers: [registry],
  });

  return {
    registry,
    observeRequest(route, method, statusCode, seconds) {
      requests.observe({ route, method, status_code: String(statusCode) }, seconds);
    },
  };
}
