/**
 * Config without restarts, on a worker process of its own: SIGHUP (or the file changing) applies a
 * valid file — a check added to it gets its monitor, which probes it and opens an incident with the
 * new file — and refuses an invalid one with its errors, the running configuration staying in force.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { stringify } from 'yaml';
import { testConfig } from '../helpers/config.js';
import { eventually } from '../helpers/harness.js';
import { startWorkerProcess, type Proc } from '../helpers/processes.js';
import { freshStore, type TestStore } from '../helpers/store.js';
import { monitorWorkflowId } from '../../workflows/monitor.js';

describe('config reload in the worker', () => {
  let tmp: string;
  let store: TestStore;
  let worker: Proc | undefined;
  let connection: Connection;
  let client: Client;
  let closedPort: number;
  const taskQueue = `reload-${randomUUID()}`;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'reload-'));
    store = await freshStore();
    connection = await Connection.connect({ address: inject('temporalAddress') });
    client = new Client({ connection, namespace: 'default' });
    // A port nothing listens on: the added check fails.
    const s: Server = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    closedPort = (s.address() as { port: number }).port;
    await new Promise((r) => s.close(r));
  });
  afterAll(async () => {
    await worker?.stop();
    for await (const w of client.workflow.list({
      query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`,
    }))
      await client.workflow
        .getHandle(w.workflowId)
        .terminate('test finished')
        .catch(() => undefined);
    await connection?.close();
    await store?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('applies a valid file on SIGHUP (a new check gets its monitor) and refuses an invalid one', async () => {
    const { config, serviceId } = testConfig();
    const file = path.join(tmp, 'config.yaml');
    writeFileSync(file, stringify(config));
    worker = await startWorkerProcess({
      configPath: file,
      temporalAddress: inject('temporalAddress'),
      taskQueue,
      dataDir: tmp,
      databaseUrl: store.url,
      env: { WORKER_METRICS_ADDRESS: '' },
    });
    await worker.waitForOutput(/monitors: 0 running/, 30_000);

    // Add a check, then SIGHUP.
    const checkId = `${serviceId}-tcp`;
    const withCheck = {
      ...JSON.parse(JSON.stringify(config)),
      checks: [
        {
          id: checkId,
          service: serviceId,
          kind: 'tcp',
          host: '127.0.0.1',
          port: closedPort,
          interval: '1s',
          timeout: '1s',
          failThreshold: 1,
        },
      ],
    };
    writeFileSync(file, stringify(withCheck));
    process.kill(worker.pid, 'SIGHUP');
    await worker.waitForOutput(/config reloaded \((SIGHUP|file changed)\)/, 30_000);
    await worker.waitForOutput(/monitors: 1 running/, 30_000);
    const monitor = client.workflow.getHandle(monitorWorkflowId(checkId));
    expect((await monitor.describe()).status.name).toBe('RUNNING');
    // The new monitor probes the closed port and opens the service's incident, from the new file.
    const incidentId = await eventually(
      async () => store.records.latestIncidentId(serviceId),
      60_000,
      'the incident the new check opened',
    );
    const incident = await eventually(
      async () => store.records.getIncident(incidentId),
      20_000,
      'its record',
    );
    expect(incident.openKeys).toContain(`check:${checkId}`);

    // A bad file: refused with its errors (by path), the running configuration stays.
    const before = worker.output().length;
    writeFileSync(
      file,
      stringify({
        ...withCheck,
        services: withCheck.services.map((s: object) => ({ ...s, policy: 'nope' })),
      }),
    );
    process.kill(worker.pid, 'SIGHUP');
    await eventually(
      async () => /config reload \((SIGHUP|file changed)\) refused/.test(worker!.output().slice(before)),
      30_000,
      'the refusal',
    );
    const refusal = worker.output().slice(before);
    expect(refusal).toMatch(/services\[0\]\.policy: unknown policy "nope"/);
    expect(refusal).toContain('the running configuration stays');
    expect(refusal).not.toMatch(/config reloaded/);
    expect(worker.running()).toBe(true);
    expect((await monitor.describe()).status.name).toBe('RUNNING');
  }, 180_000);
});
