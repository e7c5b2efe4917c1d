/**
 * Temporal down: the API answers 503 (JSON) on every route that needs it and on /readyz, stays up,
 * and recovers by itself when a server appears.
 */
import { afterAll, describe, expect, it, inject } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { buildApp } from '../../api/app.js';
import { createIncidentService } from '../../api/incident-service.js';
import { devServerArgs, freePort, waitForTemporal } from '../../scripts/dev-server.js';
import { freshStore } from '../helpers/store.js';
import { testConfig } from '../helpers/config.js';
import { eventually } from '../helpers/harness.js';

describe('API while Temporal is unreachable', () => {
  let server: ChildProcess | undefined;
  let connection: Connection | undefined;
  afterAll(async () => {
    await connection?.close();
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server!.once('exit', r));
    }
  });

  it('answers 503, then recovers when Temporal comes up', async () => {
    const port = await freePort();
    connection = Connection.lazy({ address: `127.0.0.1:${port}` });
    const client = new Client({ connection });
    const { config, serviceId } = testConfig();
    const store = await freshStore();
    const incidents = createIncidentService({
      client,
      connection,
      config,
      records: store.records,
      taskQueue: 'unused',
      publicBaseUrl: 'http://x',
      callTimeoutMs: 1500,
    });
    const app = await buildApp({
      config,
      incidents,
      records: store.records,
      staffTokens: new Map([['t', 'kari']]),
    });
    const auth = { authorization: 'Bearer t' };

    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: 'unavailable', temporal: 'unreachable', store: 'reachable' });
    const declare = await app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: auth,
      payload: { service: serviceId, reason: 'x' },
    });
    expect(declare.statusCode).toBe(503);
    expect(declare.json()).toMatchObject({ statusCode: 503, error: 'temporal_unavailable' });
    // Reads come from the record store: they answer while Temporal is down.
    const list = await app.inject({ method: 'GET', url: '/api/incidents', headers: auth });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({ incidents: [] });
    const status = await app.inject({ method: 'GET', url: '/api/status' });
    expect(status.statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

    server = spawn(inject('temporalCli'), devServerArgs(port), { stdio: 'ignore' });
    await waitForTemporal(`127.0.0.1:${port}`);
    await eventually(
      async () => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200,
      30_000,
      'ready again',
    );
    const after = await app.inject({ method: 'GET', url: '/api/incidents', headers: auth });
    expect(after.statusCode).toBe(200);
    await app.close();
    await store.close();
  }, 90_000);
});
