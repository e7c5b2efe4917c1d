import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpCheck } from '../../../domain/config-schema.js';
import { runProbe } from '../../../activities/probes/index.js';

const handler: http.RequestListener = (req, res) => {
  switch (req.url) {
    case '/health':
      res
        .writeHead(200, { 'content-type': 'text/plain' })
        .end(req.method === 'HEAD' ? undefined : 'status: all good');
      return;
    case '/down':
      res.writeHead(503).end('maintenance');
      return;
    case '/moved':
      res.writeHead(302, { location: '/health' }).end();
      return;
    case '/slow':
      return; // never answers
    default:
      res.writeHead(404).end();
  }
};

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const check = (over: Partial<HttpCheck> = {}): HttpCheck => ({
  id: 'http-check',
  service: 'web',
  kind: 'http',
  url: `${base}/health`,
  method: 'GET',
  expectStatus: 200,
  tlsVerify: true,
  ...over,
});

describe('http probe', () => {
  it('is ok on the expected status', async () => {
    const r = await runProbe(check(), { timeoutMs: 3000 });
    expect(r).toMatchObject({ ok: true, code: 'ok' });
    expect(r.latencyMs).toBeGreaterThan(0);
  });

  it('supports HEAD', async () => {
    expect(await runProbe(check({ method: 'HEAD' }), { timeoutMs: 3000 })).toMatchObject({ ok: true });
  });

  it('checks that the body contains a text', async () => {
    expect(await runProbe(check({ bodyContains: 'all good' }), { timeoutMs: 3000 })).toMatchObject({
      ok: true,
    });
    const r = await runProbe(check({ bodyContains: 'database: ok' }), { timeoutMs: 3000 });
    expect(r).toMatchObject({ ok: false, code: 'body-mismatch' });
    expect(r.message).toContain('database: ok');
  });

  it('is unexpected-status on another status, saying both', async () => {
    const r = await runProbe(check({ url: `${base}/down` }), { timeoutMs: 3000 });
    expect(r).toMatchObject({ ok: false, code: 'unexpected-status' });
    expect(r.message).toContain('503');
    expect(r.message).toContain('expected 200');
    expect(
      await runProbe(check({ url: `${base}/down`, expectStatus: 503 }), { timeoutMs: 3000 }),
    ).toMatchObject({
      ok: true,
    });
  });

  it('follows redirects unless a redirect is what is expected', async () => {
    expect(await runProbe(check({ url: `${base}/moved` }), { timeoutMs: 3000 })).toMatchObject({ ok: true });
    expect(
      await runProbe(check({ url: `${base}/moved`, expectStatus: 302 }), { timeoutMs: 3000 }),
    ).toMatchObject({
      ok: true,
    });
  });

  it('keeps query strings (which may hold tokens) out of messages', async () => {
    const r = await runProbe(check({ url: `${base}/down?token=hunter2` }), { timeoutMs: 3000 });
    expect(r.ok).toBe(false);
    expect(r.message).not.toContain('hunter2');
  });

  it('times out on a server that never answers', async () => {
    const started = performance.now();
    const r = await runProbe(check({ url: `${base}/slow` }), { timeoutMs: 1000 });
    expect(r).toMatchObject({ ok: false, code: 'timeout' });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('ends early when the signal aborts', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const started = performance.now();
    const r = await runProbe(check({ url: `${base}/slow` }), { timeoutMs: 5000, signal: ac.signal });
    expect(r).toMatchObject({ ok: false, code: 'aborted' });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('is refused when nothing listens', async () => {
    const probeServer = http.createServer();
    await new Promise<void>((resolve) => probeServer.listen(0, '127.0.0.1', resolve));
    const port = (probeServer.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probeServer.close(() => resolve()));
    const r = await runProbe(check({ url: `http://127.0.0.1:${port}/` }), { timeoutMs: 3000 });
    expect(r).toMatchObject({
      ok: false,
      code: 'refused',
      message: expect.stringContaining(`127.0.0.1:${port}`),
    });
  });
});

// Needs the openssl command (installed by .ci/run) to make a self-signed certificate.
describe('http probe over TLS with a self-signed certificate', () => {
  let tlsServer: https.Server;
  let url: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'probe-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '1',
        ].concat(['-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]),
        { stdio: 'ignore' },
      );
      tlsServer = https.createServer(
        { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
        handler,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}/health`;
  });

  afterAll(async () => {
    tlsServer.closeAllConnections();
    await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
  });

  it('is tls-error when the certificate is verified (the default)', async () => {
    const r = await runProbe(check({ url }), { timeoutMs: 3000 });
    expect(r).toMatchObject({ ok: false, code: 'tls-error' });
    expect(r.message).toContain('127.0.0.1:');
  });

  it('is ok with tlsVerify: false, body and status still checked', async () => {
    expect(
      await runProbe(check({ url, tlsVerify: false, bodyContains: 'all good' }), { timeoutMs: 3000 }),
    ).toMatchObject({ ok: true, code: 'ok' });
    expect(
      await runProbe(check({ url, tlsVerify: false, bodyContains: 'nope' }), { timeoutMs: 3000 }),
    ).toMatchObject({
      ok: false,
      code: 'body-mismatch',
    });
    const moved = url.replace('/health', '/moved');
    expect(await runProbe(check({ url: moved, tlsVerify: false }), { timeoutMs: 3000 })).toMatchObject({
      ok: true,
    });
  });
});
