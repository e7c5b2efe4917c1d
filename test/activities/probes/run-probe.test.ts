import net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Check } from '../../../domain/config-schema.js';
import { runProbe } from '../../../activities/probes/index.js';

describe('runProbe', () => {
  it('never throws: an unknown kind becomes probe-error', async () => {
    const r = await runProbe({ id: 'x', service: 's', kind: 'smoke-signal' } as unknown as Check);
    expect(r).toMatchObject({ ok: false, code: 'probe-error' });
    expect(r.message).toContain('smoke-signal');
  });

  it('never throws: an invalid timeout becomes probe-error', async () => {
    const r = await runProbe({
      id: 'x',
      service: 's',
      kind: 'tcp',
      host: '127.0.0.1',
      port: 1,
      timeout: 'soon',
    } as unknown as Check);
    expect(r).toMatchObject({ ok: false, code: 'probe-error' });
    expect(r.message).toContain('soon');
  });

  it('never throws: an invalid URL becomes probe-error', async () => {
    const r = await runProbe({
      id: 'x',
      service: 's',
      kind: 'http',
      url: 'http://',
      method: 'GET',
      expectStatus: 200,
      tlsVerify: true,
    });
    expect(r).toMatchObject({ ok: false, code: 'probe-error' });
  });

  it("uses the check's timeout when the context gives none", async () => {
    const silent = net.createServer((socket) => sockets.add(socket)); // accepts, never says a word
    const sockets = new Set<net.Socket>();
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const started = performance.now();
      const r = await runProbe({
        id: 'x',
        service: 's',
        kind: 'ssh',
        host: '127.0.0.1',
        port,
        expectExitCode: 0,
        timeout: '500ms',
      });
      const took = performance.now() - started;
      expect(r).toMatchObject({ ok: false, code: 'timeout' });
      expect(r.message).toContain('500ms');
      expect(took).toBeGreaterThanOrEqual(450);
      expect(took).toBeLessThan(1500);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('a command without auth is a configuration error, not a crash', async () => {
    const r = await runProbe(
      {
        id: 'x',
        service: 's',
        kind: 'ssh',
        host: '127.0.0.1',
        port: 1,
        command: 'uptime',
        expectExitCode: 0,
      },
      { timeoutMs: 1000 },
    );
    expect(r).toMatchObject({ ok: false, code: 'auth-config' });
  });
});
