/**
 * The worker's own Prometheus metrics (prom-client): what its probes found and how long they took.
 * One registry per process, served by worker/metrics.ts on the worker's metrics port next to the
 * Temporal SDK's runtime metrics. Probe ids come from the config, so the series are bounded.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export const workerRegistry = new Registry();

/**
 * How often prom-client's event-loop-lag histogram samples. Its default, 10 ms, is 100 wake-ups a
 * second: 0.42 CPU-s/min in an otherwise idle process, in the API and in the worker alike (issue
 * #15). Every 100 ms costs 0.04; the lag that matters here (a blocked loop) is far longer.
 */
export const eventLoopMonitoringPrecisionMs = 100;

/** prom-client's process and Node.js metrics (`process_*`, `nodejs_*`) into `register`. */
export function collectProcessMetrics(register: Registry): void {
  collectDefaultMetrics({ register, eventLoopMonitoringPrecision: eventLoopMonitoringPrecisionMs });
}

const probeResults = new Counter({
  name: 'incident_orchestrator_probes_total',
  help: 'Probes run by this worker, by check, kind and result (ok, or the failure code: timeout, refused, hostkey-mismatch, ...).',
  labelNames: ['check', 'kind', 'result'] as const,
  registers: [workerRegistry],
});

const probeDuration = new Histogram({
  name: 'incident_orchestrator_probe_duration_seconds',
  help: 'Probe latency in seconds as the probe measured it, by check and kind (failed probes too: a timeout counts its timeout).',
  labelNames: ['check', 'kind'] as const,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [workerRegistry],
});

/** One probe's outcome. */
export function observeProbe(
  check: string,
  kind: string,
  ok: boolean,
  code: string,
  latencyMs: number,
): void {
  try {
    probeResults.inc({ check, kind, result: ok ? 'ok' : code || 'failed' });
    probeDuration.observe({ check, kind }, Math.max(0, latencyMs || 0) / 1000);
  } catch {
    // A metric never fails a probe.
  }
}
