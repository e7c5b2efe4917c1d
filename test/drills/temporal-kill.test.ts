/**
 * Fault drill 2: the Temporal server itself (a private dev server on a SQLite file) is killed with
 * `kill -9` while an incident waits at level 1, and restarted on the same port with the same file.
 * The incident goes on from where it was: its timeline before the crash is intact, the next
 * escalation happens, nothing is lost and no page is sent twice. The worker (NativeConnection) and
 * the API (Connection) in this process are not touched: they must reconnect by themselves.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { IncidentView } from '../../domain/incident.js';
import { freshStore } from '../helpers/store.js';
import { pageKey, startStack, tally, type Stack } from '../helpers/stack.js';
import { testConfig } from '../helpers/config.js';
import { eventually } from '../helpers/harness.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { startDevServer, type DevServer } from '../helpers/processes.js';

describe('drill: kill -9 the Temporal server mid-incident', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'drill-temporal-kill-'));
  let server: DevServer | undefined;
  let smtp: TestSmtpServer | undefined;
  let stack: Stack | undefined;
  const others: Stack[] = [];
  const servers: DevServer[] = [];

  afterAll(async () => {
    await stack?.close();
    for (const s of others) await s.close();
    await server?.close();
    for (const s of servers) await s.close();
    await smtp?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('after the restart the incident goes on where it was, with no page lost or repeated', async () => {
    server = await startDevServer({ dbFile: path.join(tmp, 'temporal.db') });
    smtp = await startSmtpServer();
    const { config, serviceId } = testConfig({ levelTimeout: '6s' });
    stack = await startStack({
      config,
      address: server.address,
      worker: true,
      smtpUrl: smtp.url,
      dataDir: path.join(tmp, 'data'),
      callTimeoutMs: 3000,
    });
    const api = stack;
    const get = (id: string) =>
      api.app.inject({ method: 'GET', url: `/api/incidents/${id}`, headers: api.auth('kari') });

    const declared = await api.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: api.auth('kari'),
      payload: { service: serviceId, reason: 'the export server does not answer' },
    });
    expect(declared.statusCode).toBe(201);
    const id = (declared.json() as { incident: IncidentView }).incident.id;
    const mine = () => smtp!.messages.filter((m) => m.text.includes(id));

    const before = await eventually(
      async () => {
        const v = await api.incidents.get(id);
        return v.timeline.some((e) => e.kind === 'paged') ? v : undefined;
      },
      20_000,
      'level 1 paged',
    );
    expect(before.state).toBe('triggered');

    const killed = await server.kill9();
    expect(killed.signal).toBe('SIGKILL');
    const downAt = Date.now();

    // While it is down, reads answer at once from the record store; /readyz says Temporal is gone.
    const readStarted = Date.now();
    const during = await get(id);
    expect(during.statusCode).toBe(200);
    expect(Date.now() - readStarted).toBeLessThan(2000);
    expect((during.json() as IncidentView).state).toBe('triggered');
    const noteDown = await api.app.inject({
      method: 'POST',
      url: `/api/incidents/${id}/notes`,
      headers: api.auth('kari'),
      payload: { text: 'while Temporal is down' },
    });
    expect(noteDown.statusCode).toBe(503);
    expect(noteDown.json()).toMatchObject({ statusCode: 503, error: 'temporal_unavailable' });
    const ready = await api.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ temporal: 'unreachable', store: 'reachable' });
    expect((await api.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

    await server.restart();
    const upAt = Date.now();

    // The API reconnects by itself. (What it answers until the worker is back too is the next test.)
    const meanwhile: number[] = [];
    await eventually(
      async () => {
        const r = await get(id);
        meanwhile.push(r.statusCode);
        return r.statusCode === 200;
      },
      30_000,
      'the API answering again',
    );
    const apiBackAt = Date.now();

    // The worker reconnects by itself: the escalation goes on.
    await smtp.waitFor((m) => m.text.includes(id) && m.to.includes('ola@test.local'), 45_000);
    const workerBackAt = Date.now();
    await smtp.waitFor((m) => m.text.includes(id) && m.to.includes('per@test.local'), 30_000);
    const view = await eventually(
      async () => {
        const v = (await get(id)).json() as IncidentView;
        return v.timeline.filter((e) => e.kind === 'paged').length === 4 ? v : undefined;
      },
      15_000,
      'four pages in the timeline',
    );
    await new Promise((r) => setTimeout(r, 3000));

    expect(stack.workerError()).toBeUndefined();
    expect(stack.worker?.getState()).toBe('RUNNING');
    // Nothing lost: the timeline and the pages before the crash are the start of those after it.
    expect(view.timeline.slice(0, before.timeline.length)).toEqual(before.timeline);
    expect(view.paged.slice(0, before.paged.length)).toEqual(before.paged);
    expect(view.openedAt).toBe(before.openedAt);
    expect(view.paged.map((p) => `${p.level}:${p.recipient.id}`)).toEqual([
      '1:kari',
      '2:ola',
      '3:ingrid',
      '0:per',
    ]);
    // The escalation timer survived the crash: level 2 no earlier than its deadline.
    expect(Date.parse(view.paged[1]!.at)).toBeGreaterThanOrEqual(Date.parse(before.nextEscalationAt!));
    // No page repeated.
    const mails = mine();
    expect(tally(mails.map(pageKey))).toEqual({
      'level 1 page → kari@test.local': 1,
      'level 2 page → ola@test.local': 1,
      'level 3 page → ingrid@test.local': 1,
      'final fallback page → per@test.local': 1,
    });
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(mails.length);

    // And staff actions work again: an acknowledgement through the API is applied.
    const ack = await api.app.inject({
      method: 'POST',
      url: `/api/incidents/${id}/acknowledge`,
      headers: api.auth('ola'),
    });
    expect(ack.statusCode).toBe(200);
    expect((ack.json() as IncidentView).state).toBe('acknowledged');

    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      `[drill 2] server down ${s(upAt - downAt)}; API back ${s(apiBackAt - upAt)} and worker back ` +
        `(level 2 mail) ${s(workerBackAt - upAt)} after the restart; reads meanwhile: ${meanwhile.join(' ')}`,
    );
  }, 150_000);

  it('restarted while no worker runs, reading an incident answers from the record store at once', async () => {
    // Every worker is gone (crashed with the server, or not started yet) when the server comes back.
    const own = await startDevServer({ dbFile: path.join(tmp, 'no-worker.db') });
    servers.push(own);
    const { config, serviceId } = testConfig({ levelTimeout: '10m' });
    const store = await freshStore();
    const first = await startStack({ config, address: own.address, worker: true, databaseUrl: store.url });
    const declared = await first.incidents.declare({ service: serviceId, reason: 'x', actor: 'kari' });
    await eventually(
      async () => (await first.incidents.get(declared.id)).timeline.some((e) => e.kind === 'paged'),
      20_000,
      'level 1 paged',
    );
    await first.close();
    await own.kill9();
    await own.restart();

    const api = await startStack({
      config,
      address: own.address,
      taskQueue: first.taskQueue,
      callTimeoutMs: 3000,
      databaseUrl: store.url,
    });
    others.push(api);
    const read = () =>
      api.app.inject({ method: 'GET', url: `/api/incidents/${declared.id}`, headers: api.auth('kari') });
    // No worker to answer a query: the record store answers, at once and whole.
    const t0 = Date.now();
    const r = await read();
    expect(r.statusCode).toBe(200);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect((r.json() as IncidentView).paged.map((p) => p.recipient.id)).toEqual(['kari']);
    // An action needs the workflow: 503 (not 500) until a worker is back.
    const note = await api.app.inject({
      method: 'POST',
      url: `/api/incidents/${declared.id}/notes`,
      headers: api.auth('kari'),
      payload: { text: 'no worker' },
    });
    expect(note.statusCode).toBe(503);

    // A worker comes back: actions work again, and the incident is as it was.
    others.push(
      await startStack({
        config,
        address: own.address,
        taskQueue: first.taskQueue,
        worker: true,
        databaseUrl: store.url,
      }),
    );
    await eventually(
      async () =>
        (
          await api.app.inject({
            method: 'POST',
            url: `/api/incidents/${declared.id}/notes`,
            headers: api.auth('kari'),
            payload: { text: 'worker back' },
          })
        ).statusCode === 200,
      30_000,
      'actions again',
    );
    const view = (await read()).json() as IncidentView;
    expect(view.state).toBe('triggered');
    expect(view.paged.map((p) => p.recipient.id)).toEqual(['kari']);
    const notes = view.timeline.filter((e) => e.kind === 'note').map((e) => e.detail);
    // The 503 note's outcome was unknown to the caller: Temporal kept it and applied it once the
    // worker was back, or dropped it. Never twice.
    expect(notes.filter((n) => n === 'worker back')).toHaveLength(1);
    expect(notes.filter((n) => n === 'no worker').length).toBeLessThanOrEqual(1);
    await store.close();
  }, 90_000);
});
