import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { Writable } from 'node:stream';
import { loggerOptions, redactPath } from '../../api/log-redaction.js';

describe('request log redaction', () => {
  it('replaces tokens in heartbeat and acknowledge paths', () => {
    expect(redactPath('/api/heartbeats/s3cret-token')).toBe('/api/heartbeats/[redacted]');
    expect(redactPath('/ack/abc.def?x=1')).toBe('/ack/[redacted]?x=1');
    expect(redactPath('/api/incidents/x')).toBe('/api/incidents/x');
  });

  it('a real Fastify request log carries neither the bearer token nor the path token', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const app = Fastify({ logger: { ...loggerOptions('info'), stream } });
    app.post('/api/heartbeats/:token', async () => ({ ok: true }));
    await app.inject({
      method: 'POST',
      url: '/api/heartbeats/very-secret-heartbeat',
      headers: { authorization: 'Bearer staff-secret' },
    });
    await app.close();
    const log = lines.join('');
    expect(log).toContain('/api/heartbeats/[redacted]');
    expect(log).not.toContain('very-secret-heartbeat');
    expect(log).not.toContain('staff-secret');
  });
});
