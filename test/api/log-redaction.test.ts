import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { Writable } from 'node:stream';
import { loggerOptions, redactPath } from '../../api/log-redaction.js';

describe('request log redaction', () => {
  it('replaces tokens in heartbeat and acknowledge paths', () => {
    expect(redactPath('/api/heartbeats/s3cret-token')).toBe('/api/heartbeats/[redacted]');
    expect(redactPath('/ack/abc.def?x=1')).toBe('/ack/[redacted]?[redacted]');
    expect(redactPath('/api/oncall/calendar/sig.ics')).toBe('/api/oncall/calendar/[redacted]');
    expect(redactPath('/api/incidents/x')).toBe('/api/incidents/x');
  });

  it('query strings are never logged, only that there was one', () => {
    expect(redactPath('/api/incidents?q=kari%40uio.no&limit=5')).toBe('/api/incidents?[redacted]');
    expect(redactPath('/login?next=/console#x')).toBe('/login?[redacted]');
    expect(redactPath('/api/heartbeats/tok?x')).toBe('/api/heartbeats/[redacted]?[redacted]');
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
    app.get('/api/incidents', async () => ({ ok: true }));
    await app.inject({
      method: 'POST',
      url: '/api/heartbeats/very-secret-heartbeat',
      headers: { authorization: 'Bearer staff-secret' },
    });
    await app.inject({ method: 'GET', url: '/api/incidents?q=secret-search-words&key=query-key-1234' });
    await app.close();
    const log = lines.join('');
    expect(log).toContain('/api/heartbeats/[redacted]');
    expect(log).not.toContain('very-secret-heartbeat');
    expect(log).not.toContain('staff-secret');
    expect(log).toContain('/api/incidents?[redacted]');
    expect(log).not.toContain('secret-search-words');
    expect(log).not.toContain('query-key-1234');
  });
});
