/**
 * Temporal stalls (the server is there and its connections stay open, but it answers nothing: here a
 * SIGSTOPped dev server): every route that needs Temporal answers 503 JSON within its deadline, never
 * 500, also when the stall begins while the calls are on the wire; reads from the record store still
 * answer; once the server answers again, so do the routes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app.js';
import { createIncidentService } from '../../api/incident-service.js';
import { createPostmortemService } from '../../api/postmortem-service.js';
import { createEmailNotifier } from '../../activities/notifiers/email.js';
import { createIncidentWorker } from '../../worker/create.js';
import { reconcileMonitors } from '../../client/monitors.js';
import { validateConfig } from '../../config/load.js';
import { testConfig } from '../helpers/config.js';
import { freshStore, type TestStore } from '../helpers/store.js';
import { startDevServer, type DevServer } from '../helpers/processes.js';
import { eventually } from '../helpers/harness.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const heartbeatToken = 'temporal-stall-heartbeat-token-01';
const routingKey = 'temporal-stall-routing-key-000001';
const amToken = 'temporal-stall-alertmanager-0001';
const token = 'temporal-stall-staff-token-000001';

describe('API while Temporal stalls', () => {
  let server: DevServer;
  let store: TestStore;
  let app: FastifyInstance;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let worker: Awaited<ReturnType<typeof createIncidentWorker>>;
  let running: Promise<void>;
  let stopped = false;
  const tmp = mkdtempSync(path.join(tmpdir(), 'stall-'));
  let serviceId = '';
  let checkId = '';

  beforeAll(async () => {
    server = await startDevServer({ dbFile: path.join(tmp, 'temporal.db') });
    const base = testConfig({ levelTimeout: '10m' });
    serviceId = base.serviceId;
    checkId = `${serviceId}-job`;
    const raw = JSON.parse(JSON.stringify(base.config)) as Record<string, unknown>;
    raw.checks = [
      {
        id: checkId,
        service: serviceId,
        kind: 'heartbeat',
        period: '1h',
        tokenSha256: sha256(heartbeatToken),
      },
    ];
    raw.integrations = [
      { id: 'pd', kind: 'pagerduty', service: serviceId, keySha256: sha256(routingKey) },
      { id: 'am', kind: 'alertmanager', service: serviceId, keySha256: sha256(amToken) },
    ];
    const config = validateConfig(raw, 'stall-test');
    const taskQueue = `stall-${randomUUID()}`;
    store = await freshStore();
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: 'default' });
    nativeConnection = await NativeConnection.connect({ address: server.address });
    const email = createEmailNotifier({
      outboxDir: path.join(tmp, 'outbox'),
      ledgerDir: path.join(tmp, 'sent'),
      from: 'x <x@test.local>',
      log: () => undefined,
    });
    const incidents = createIncidentService({
      client,
      connection,
      config,
      records: store.records,
      taskQueue,
      publicBaseUrl: 'http://127.0.0.1:3000',
      callTimeoutMs: 2000,
    });
    worker = await createIncidentWorker({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue,
      deps: {
        email,
        env: process.env,
        incidents: { client, config, taskQueue, publicBaseUrl: 'http://127.0.0.1:3000' },
        records: store.records,
        log: () => undefined,
      },
      workflowBundle: { codePath: inject('workflowBundlePath') },
      shutdownGraceTime: '2 seconds',
    });
    running = worker.run();
    await reconcileMonitors(client, config, taskQueue);
    const postmortems = createPostmortemService({
      client,
      config,
      taskQueue,
      records: store.records,
      callTimeoutMs: 2000,
    });
    app = await buildApp({
      config,
      incidents,
      postmortems,
      records: store.records,
      staffTokens: new Map([[token, 'kari']]),
    });
  }, 120_000);

  afterAll(async () => {
    if (stopped) process.kill(server.proc().pid, 'SIGCONT');
    await app?.close();
    worker?.shutdown();
    await running?.catch(() => undefined);
    await nativeConnection?.close();
    await connection?.close();
    await store?.close();
    await server?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const auth = { authorization: `Bearer ${token}` };

  it('answers 503 (never 500) on every route that needs Temporal, and recovers', async () => {
    const declared = await app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: auth,
      payload: { service: serviceId, reason: 'before the stall', skipVerify: true },
    });
    expect(declared.statusCode).toBe(201);
    const id = declared.json().incident.id as string;

    process.kill(server.proc().pid, 'SIGSTOP');
    stopped = true;
    const requests: {
      name: string;
      method: 'GET' | 'POST';
      url: string;
      headers?: object;
      payload?: object;
    }[] = [
      {
        name: 'declare',
        method: 'POST',
        url: '/api/incidents',
        headers: auth,
        payload: { service: serviceId, reason: 'r' },
      },
      { name: 'get', method: 'GET', url: `/api/incidents/${id}`, headers: auth },
      { name: 'acknowledge', method: 'POST', url: `/api/incidents/${id}/acknowledge`, headers: auth },
      {
        name: 'note',
        method: 'POST',
        url: `/api/incidents/${id}/notes`,
        headers: auth,
        payload: { text: 'n' },
      },
      {
        name: 'status',
        method: 'POST',
        url: `/api/incidents/${id}/status`,
        headers: auth,
        payload: { state: 'investigating', message: 'm' },
      },
      { name: 'resolve', method: 'POST', url: `/api/incidents/${id}/resolve`, headers: auth, payload: {} },
      { name: 'monitors', method: 'GET', url: '/api/monitors', headers: auth },
      { name: 'monitor', method: 'GET', url: `/api/monitors/${checkId}`, headers: auth },
      {
        name: 'pause',
        method: 'POST',
        url: `/api/monitors/${checkId}/pause`,
        headers: auth,
        payload: { until: '2099-01-01T00:00:00Z' },
      },
      { name: 'resume', method: 'POST', url: `/api/monitors/${checkId}/resume`, headers: auth },
      { name: 'heartbeat', method: 'POST', url: `/api/heartbeats/${heartbeatToken}` },
      {
        name: 'pagerduty',
        method: 'POST',
        url: '/v2/enqueue',
        payload: {
          routing_key: routingKey,
          event_action: 'trigger',
          dedup_key: 'd',
          payload: { summary: 's', source: 's', severity: 'critical' },
        },
      },
      {
        name: 'alertmanager',
        method: 'POST',
        url: '/api/events/alertmanager/am',
        headers: { authorization: `Bearer ${amToken}` },
        payload: {
          version: '4',
          status: 'firing',
          receiver: 'r',
          groupKey: 'g',
          alerts: [{ status: 'firing', labels: {}, startsAt: '2026-01-01T00:00:00Z', fingerprint: 'f' }],
        },
      },
      { name: 'readyz', method: 'GET', url: '/readyz' },
      { name: 'postmortem', method: 'GET', url: `/api/incidents/${id}/postmortem`, headers: auth },
      {
        name: 'follow-up',
        method: 'POST',
        url: `/api/incidents/${id}/follow-ups`,
        headers: auth,
        payload: { title: 't', owner: 'kari', dueDate: '2099-01-01' },
      },
      {
        name: 'change',
        method: 'POST',
        url: '/api/changes',
        headers: auth,
        payload: { what: 'w', hosts: ['h'], at: '2026-01-01T00:00:00Z' },
      },
      {
        name: 'report',
        method: 'POST',
        url: '/api/reports',
        payload: { component: serviceId, description: 'd' },
      },
      { name: 'status page', method: 'GET', url: '/api/status' },
    ];
    const send = () =>
      Promise.all(
        requests.map(async (r) => {
          const res = await app.inject({
            method: r.method,
            url: r.url,
            headers: r.headers as never,
            payload: r.payload,
          });
          return { name: r.name, status: res.statusCode, body: res.body };
        }),
      );
    // Stopped: what needs Temporal is 503 JSON within the deadline; reads from the record store answer.
    const stalled = await send();
    const fromStore = ['get', 'status page'];
    for (const a of stalled) {
      if (fromStore.includes(a.name)) expect(a.status, a.name).toBe(200);
      else if (a.name === 'readyz') expect(JSON.parse(a.body)).toMatchObject({ temporal: 'unreachable' });
      else
        expect(JSON.parse(a.body), `${a.name}: ${a.body}`).toEqual({
          statusCode: 503,
          error: 'temporal_unavailable',
          message: 'Temporal is not reachable; try again shortly',
        });
      if (!fromStore.includes(a.name)) expect(a.status, a.name).toBe(503);
    }

    // Resumed: the routes answer again.
    process.kill(server.proc().pid, 'SIGCONT');
    stopped = false;
    await eventually(async () => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200);
    // /readyz only says the server answers; the worker may need a moment to poll again (503 until then).
    // A 503 means "outcome unknown": the stalled resolve was already on the wire and may land once the
    // server runs again, closing the incident. So the note goes to an incident declared after the stall.
    // (A declaration joins the open incident; if that closes meanwhile, the note answers 409 and we declare again.)
    const note = await eventually(
      async () => {
        const d = await app.inject({
          method: 'POST',
          url: '/api/incidents',
          headers: auth,
          payload: { service: serviceId, reason: 'after the stall', skipVerify: true },
        });
        expect([200, 201, 503], d.body).toContain(d.statusCode);
        if (d.statusCode === 503) return undefined;
        const r = await app.inject({
          method: 'POST',
          url: `/api/incidents/${d.json().incident.id as string}/notes`,
          headers: auth,
          payload: { text: 'after the stall' },
        });
        expect([200, 409, 503], r.body).toContain(r.statusCode);
        if (r.statusCode === 409) expect(r.json().error).toBe('incident_closed');
        return r.statusCode === 200 ? r : undefined;
      },
      30_000,
      'a note after the stall',
    );
    expect(note.statusCode).toBe(200);

    // Mid-flight: the server stops while the calls are on the wire: each is answered or 503, never 500.
    const midFlight = send();
    await new Promise((r) => setTimeout(r, 15));
    process.kill(server.proc().pid, 'SIGSTOP');
    stopped = true;
    for (const a of await midFlight) expect(a.status, `${a.name}: ${a.body}`).not.toBe(500);
  }, 120_000);
});
