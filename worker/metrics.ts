/**
 * The worker's metrics port: `GET /metrics` answers this process's prom-client registry (probes,
 * process and Node.js metrics) followed by the Temporal SDK's own runtime metrics (workflow and
 * activity task latencies, slots, polls, sticky cache), which Core serves on a loopback address of
 * its own (`Runtime.install` with a Prometheus bind address); one scrape target per worker.
 * `incident_orchestrator_temporal_metrics_up` says whether the SDK's part could be read.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { collectProcessMetrics, workerRegistry } from '../activities/metrics.js';

let defaultsCollected = false;

export interface WorkerMetricsServer {
  /** `host:port` it listens on. */
  address: string;
  close(): Promise<void>;
}

/** `host:port` → its parts; a bare port binds 127.0.0.1. */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[?([^\]]*)\]?:)?(\d{1,5})$/.exec(address.trim());
  if (!m || Number(m[2]) > 65535) throw new Error(`"${address}" is not host:port`);
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}

/** A port nothing listens on right now (for the SDK's metrics endpoint, which needs one up front). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createTcpServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function startWorkerMetricsServer(o: {
  /** `host:port` to listen on (port 0: any free one). */
  address: string;
  /** Core's Prometheus endpoint, `host:port` (the bind address given to Runtime.install). */
  temporalMetricsAddress?: string;
  /** Collect process and Node.js metrics into the registry (default true). */
  processMetrics?: boolean;
}): Promise<WorkerMetricsServer> {
  if (o.processMetrics !== false && !defaultsCollected) {
    collectProcessMetrics(workerRegistry);
    defaultsCollected = true;
  }
  const temporalUrl = o.temporalMetricsAddress
    ? `http://${o.temporalMetricsAddress.replace(/^0\.0\.0\.0:/, '127.0.0.1:')}/metrics`
    : undefined;

  const temporalText = async (): Promise<string | undefined> => {
    if (!temporalUrl) return undefined;
    try {
      const r = await fetch(temporalUrl, { signal: AbortSignal.timeout(2000) });
      return r.ok ? await r.text() : undefined;
    } catch {
      return undefined;
    }
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ statusCode: 404, error: 'not_found', message: 'only GET /metrics is here' }));
      return;
    }
    void (async () => {
      try {
        const [own, temporal] = await Promise.all([workerRegistry.metrics(), temporalText()]);
        const up = temporalUrl
          ? [
              '# HELP incident_orchestrator_temporal_metrics_up Whether the Temporal SDK runtime metrics below could be read (1) or not (0).',
              '# TYPE incident_orchestrator_temporal_metrics_up gauge',
              `incident_orchestrator_temporal_metrics_up ${temporal === undefined ? 0 : 1}`,
              '',
            ].join('\n')
          : '';
        res.writeHead(200, { 'content-type': workerRegistry.contentType });
        res.end(`${own}${up}${temporal ? `${temporal.trimEnd()}\n` : ''}`);
      } catch (e) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ statusCode: 500, error: 'metrics_failed', message: (e as Error).message }));
      }
    })();
  });
  const { host, port } = parseAddress(o.address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    address: `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
