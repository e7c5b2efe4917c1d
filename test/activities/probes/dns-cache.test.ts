/**
 * Probes reuse DNS lookups: the cache's rules (kept for its TTL, shared by probes that start
 * together, failures never kept, bounded), then real TCP and SSH probes of `localhost` against real
 * servers: the second probe of the name asks no resolver, and a name that does not resolve is
 * reported as `dns` by every probe.
 */
import net from 'node:net';
import type { LookupAddress } from 'node:dns';
import type { Check } from '../../../domain/config-schema.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLookupCache, probeLookups } from '../../../activities/probes/dns-cache.js';
import { runProbe } from '../../../activities/probes/index.js';
import { startSshServer, type TestSshServer } from '../../helpers/ssh-server.js';

/** A resolver that answers from a table and counts what it was asked. */
function resolver(table: Record<string, string[]>) {
  const asked: string[] = [];
  let pending: (() => void)[] | undefined;
  return {
    asked,
    /** Hold answers until `release()` (to start lookups together). */
    hold: () => (pending = []),
    release: () => {
      const p = pending ?? [];
      pending = undefined;
      for (const f of p) f();
    },
    lookup: (
      hostname: string,
      _o: object,
      cb: (e: NodeJS.ErrnoException | null, a: string | LookupAddress[]) => void,
    ) => {
      asked.push(hostname);
      const answer = () => {
        const list = table[hostname];
        if (!list)
          cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
        else
          cb(
            null,
            list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
          );
      };
      if (pending) pending.push(answer);
      else answer();
    },
  };
}

const ask = (c: ReturnType<typeof createLookupCache>, host: string, all = false) =>
  new Promise<string | LookupAddress[]>((resolve, reject) =>
    c.lookup(host, { all }, (e, a) => (e ? reject(e) : resolve(a))),
  );

describe('lookup cache', () => {
  it('reuses an answer for its TTL, then asks again', async () => {
    let t = 0;
    const r = resolver({ 'db.example': ['10.0.0.7', 'fd00::7'] });
    const c = createLookupCache({ ttlMs: 30_000, now: () => t, lookup: r.lookup });
    expect(await ask(c, 'db.example')).toBe('10.0.0.7');
    t = 29_999;
    expect(await ask(c, 'DB.example', true)).toEqual([
      { address: '10.0.0.7', family: 4 },
      { address: 'fd00::7', family: 6 },
    ]);
    expect(r.asked).toEqual(['db.example']);
    t = 30_000;
    await ask(c, 'db.example');
    expect(r.asked).toEqual(['db.example', 'db.example']);
    expect(c.stats()).toEqual({ hits: 1, misses: 2, entries: 1 });
  });

  it('asks once for probes that start together, and answers them all', async () => {
    const r = resolver({ 'db.example': ['10.0.0.7'] });
    const c = createLookupCache({ lookup: r.lookup });
    r.hold();
    const all = Promise.all(Array.from({ length: 50 }, () => ask(c, 'db.example')));
    r.release();
    expect(await all).toEqual(Array.from({ length: 50 }, () => '10.0.0.7'));
    expect(r.asked).toHaveLength(1);
  });

  it('never keeps a failure: the next probe asks again and fails with the reason', async () => {
    const table: Record<string, string[]> = {};
    const r = resolver(table);
    const c = createLookupCache({ lookup: r.lookup });
    await expect(ask(c, 'new.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(ask(c, 'new.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    table['new.example'] = ['10.0.0.9'];
    expect(await ask(c, 'new.example')).toBe('10.0.0.9');
    expect(r.asked).toHaveLength(3);
  });

  it('keeps at most maxEntries names, dropping the oldest', async () => {
    const r = resolver({ a: ['10.0.0.1'], b: ['10.0.0.2'], c: ['10.0.0.3'] });
    const c = createLookupCache({ maxEntries: 2, lookup: r.lookup });
    for (const h of ['a', 'b', 'c', 'c', 'b', 'a']) await ask(c, h);
    // a was dropped when c came; b and c stayed.
    expect(r.asked).toEqual(['a', 'b', 'c', 'a']);
    expect(c.stats().entries).toBe(2);
  });

  it('resolves IP literals without asking anyone', async () => {
    const r = resolver({});
    const c = createLookupCache({ lookup: r.lookup });
    expect(await c.resolve('127.0.0.1')).toBe('127.0.0.1');
    expect(await c.resolve('::1')).toBe('::1');
    expect(r.asked).toEqual([]);
  });
});

describe('probes reuse lookups (real servers)', () => {
  let tcp: net.Server;
  let port = 0;
  let ssh: TestSshServer;

  beforeAll(async () => {
    tcp = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    port = (tcp.address() as net.AddressInfo).port;
    ssh = await startSshServer();
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    await ssh?.close();
  });

  it('a second TCP probe of localhost asks no resolver; SSH shares the same answer', async () => {
    probeLookups.clear();
    const check = { id: 'c', service: 's', kind: 'tcp' as const, host: 'localhost', port };
    expect(await runProbe(check, { timeoutMs: 2000 })).toMatchObject({ ok: true });
    expect(await runProbe(check, { timeoutMs: 2000 })).toMatchObject({ ok: true });
    expect(probeLookups.stats()).toMatchObject({ misses: 1, hits: 1 });
    const sshCheck = {
      id: 'ssh',
      service: 's',
      kind: 'ssh' as const,
      host: 'localhost',
      port: ssh.port,
      fingerprint: ssh.fingerprint,
      expectExitCode: 0,
    };
    expect(await runProbe(sshCheck, { timeoutMs: 5000 })).toMatchObject({ ok: true });
    expect(probeLookups.stats()).toMatchObject({ misses: 1, hits: 2 });
  });

  it('a name that does not resolve is dns for every probe, SSH included', async () => {
    probeLookups.clear();
    const host = 'no-such-host.invalid';
    const tcpCheck = { id: 'c', service: 's', kind: 'tcp' as const, host, port };
    const sshCheck = {
      id: 'ssh',
      service: 's',
      kind: 'ssh' as const,
      host,
      port: ssh.port,
      expectExitCode: 0,
    };
    for (const check of [tcpCheck, tcpCheck, sshCheck] as Check[])
      expect(await runProbe(check, { timeoutMs: 5000 })).toMatchObject({
        ok: false,
        code: 'dns',
        message: expect.stringContaining(host),
      });
    expect(probeLookups.stats()).toMatchObject({ misses: 3, hits: 0, entries: 0 });
  });
});
