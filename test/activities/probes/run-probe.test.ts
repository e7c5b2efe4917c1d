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
    const started = performance.now();
    const r = await runProbe({ id: 'x', service: 's', kind: 'tcp', host: '10.255.255.1', port: 22, timeout: '500ms' });
    expect(r.ok).toBe(false);
    expect(['timeout', 'unreachable']).toContain(r.code);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('a command without auth is a configuration error, not a crash', async () => {
    const r = await runProbe(
      { id: 'x', service: 's', kind: 'ssh', host: '127.0.0.1', port: 1, command: 'uptime', expectExitCode: 0 },
      { timeoutMs: 1000 },
    );
    expect(r).toMatchObject({ ok: false, code: 'auth-config' });
  });
});
