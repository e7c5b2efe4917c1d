import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TcpCheck } from '../../../domain/config-schema.js';
import { runProbe } from '../../../activities/probes/index.js';

let server: net.Server;
let port: number;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const tcp = (over: Partial<TcpCheck> = {}): TcpCheck => ({
  id: 'tcp-check',
  service: 'db',
  kind: 'tcp',
  host: '127.0.0.1',
  port,
  ...over,
});

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return p;
}

describe('tcp probe', () => {
  it('is ok when the port accepts', async () => {
    const r = await runProbe(tcp(), { timeoutMs: 2000 });
    expect(r).toMatchObject({ ok: true, code: 'ok' });
    expect(r.latencyMs).toBeGreaterThan(0);
  });

  it('is refused on a closed port, naming host:port', async () => {
    const closed = await freePort();
    const r = await runProbe(tcp({ port: closed }), { timeoutMs: 2000 });
    expect(r).toMatchObject({
      ok: false,
      code: 'refused',
      message: expect.stringContaining(`127.0.0.1:${closed}`),
    });
  });

  it('is dns for a name that does not resolve', async () => {
    const r = await runProbe(tcp({ host: 'no-such-host.invalid' }), { timeoutMs: 5000 });
    expect(r.ok).toBe(false);
    expect(['dns', 'timeout']).toContain(r.code);
  });

  it('does not hang on an address where packets are dropped (non-routable)', async () => {
    // Some sandboxes answer every SYN themselves, so "ok" is possible here; what matters is not hanging.
    const started = performance.now();
    const r = await runProbe(tcp({ host: '10.255.255.1', port: 22 }), { timeoutMs: 1000 });
    if (!r.ok) expect(['timeout', 'unreachable']).toContain(r.code);
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
