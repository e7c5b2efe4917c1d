/**
 * GET /api/monitors shows the probe loop's live state (the record store's `monitor_status` row, written
 * after every probe), not the activity's throttled heartbeat: while a real TCP server goes away, every
 * answer's last result is at most one interval (+ timeout + slack) old, a failing last result is never
 * shown as healthy, and the next probe is never in the past.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';

interface Shown {
  state: string;
  lastResult: { ok: boolean; at: string; code: string } | null;
  nextProbeAt: string | null;
  probing: boolean;
  stale: boolean;
}

const listenTcp = async (port = 0) => {
  const server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return server;
};
const closeTcp = (s: Server) => new Promise<void>((r) => s.close(() => r()));

describe('live monitor state', () => {
  let h: Harness;
  let tcp: Server;
  let port = 0;
  let checkId = '';
  const intervalMs = 2000;
  const timeoutMs = 1000;

  beforeAll(async () => {
    tcp = await listenTcp();
    port = (tcp.address() as AddressInfo).port;
    const base = testConfig({ severity: 'P3' });
    checkId = `${base.serviceId}-tcp`;
    const raw = JSON.parse(JSON.stringify(base.config)) as { checks: unknown[] };
    raw.checks = [
      {
        id: checkId,
        service: `${base.serviceId}-host`,
        kind: 'tcp',
        host: '127.0.0.1',
        port,
        interval: `${intervalMs / 1000}s`,
        timeout: `${timeoutMs / 1000}s`,
        failThreshold: 4,
        recoverThreshold: 2,
      },
    ];
    h = await startHarness({ config: validateConfig(raw, 'monitors-live'), monitors: true });
  });
  afterAll(async () => {
    await h?.close();
    if (tcp.listening) await closeTcp(tcp);
  });

  const read = async (): Promise<{ shown: Shown; readAt: number }> => {
    const r = await h.app.inject({ url: `/api/monitors/${checkId}`, headers: h.auth('per') });
    expect(r.statusCode, r.body).toBe(200);
    return { shown: r.json() as Shown, readAt: Date.now() };
  };

  /** What every answer must hold, whenever it is read. */
  const truthful = ({ shown, readAt }: { shown: Shown; readAt: number }) => {
    if (shown.lastResult && !shown.lastResult.ok)
      expect(shown.state, JSON.stringify(shown)).not.toBe('healthy');
    if (shown.nextProbeAt !== null)
      // Computed before the answer left; the answer may take a few ms to reach us.
      expect(Date.parse(shown.nextProbeAt), JSON.stringify(shown)).toBeGreaterThan(readAt - 1000);
    if (shown.lastResult && !shown.stale)
      expect(readAt - Date.parse(shown.lastResult.at), JSON.stringify(shown)).toBeLessThanOrEqual(
        intervalMs + timeoutMs + 3000,
      );
  };

  it('healthy while the port answers: a fresh passing result and a next probe ahead', async () => {
    const first = await eventually(
      async () => {
        const r = await read();
        return r.shown.lastResult?.ok && r.shown.nextProbeAt ? r : undefined;
      },
      20_000,
      'a passing live result',
    );
    expect(first.shown.state).toBe('healthy');
    truthful(first);
    // A few reads across several probes: the result keeps moving (it is not a state-change snapshot).
    const seen = new Set<string>();
    await eventually(
      async () => {
        const r = await read();
        truthful(r);
        if (r.shown.lastResult) seen.add(r.shown.lastResult.at);
        return seen.size >= 3 ? true : undefined;
      },
      20_000,
      'three distinct probe results',
    );
  });

  it('the port goes away: the first failed probe shows at once as suspect, then failing — never healthy', async () => {
    await closeTcp(tcp);
    const downAt = Date.now();
    const states: string[] = [];
    const failing = await eventually(
      async () => {
        const r = await read();
        truthful(r);
        states.push(r.shown.state);
        return r.shown.state === 'failing' ? r : undefined;
      },
      30_000,
      'the monitor failing',
    );
    expect(failing.shown.lastResult).toMatchObject({ ok: false });
    expect(Date.parse(failing.shown.lastResult!.at)).toBeGreaterThan(downAt);
    // Below the threshold it said so (the API polled while failures were counted).
    expect(states).toContain('suspect');

    // Back up: recovering (a pass below recoverThreshold) or straight to healthy; never a stale failure.
    tcp = await listenTcp(port);
    const healthy = await eventually(
      async () => {
        const r = await read();
        truthful(r);
        return r.shown.state === 'healthy' ? r : undefined;
      },
      30_000,
      'the monitor healthy again',
    );
    expect(healthy.shown.lastResult).toMatchObject({ ok: true });
  });
});
