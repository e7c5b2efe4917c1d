/**
 * Config without restarts, on an API process of its own (`node dist/api/server.js`, as deployed):
 * SIGHUP applies a valid file — the status page's components come from the new file at once, and a
 * service added to it takes incidents — a changed file is picked up without a signal too, and an
 * invalid file is refused with its errors (by path) while the running configuration stays in force.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { testConfig } from '../helpers/config.js';
import { eventually } from '../helpers/harness.js';
import { spawnTracked, type Proc } from '../helpers/processes.js';
import { freshStore, type TestStore } from '../helpers/store.js';

const freePort = async () => {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
};

describe('config reload in the API', () => {
  let tmp: string;
  let store: TestStore;
  let api: Proc | undefined;
  let base = '';
  const token = `reload-${randomUUID()}`;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'api-reload-'));
    store = await freshStore();
  });
  afterAll(async () => {
    await api?.stop();
    await store?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const components = async () => {
    const r = await fetch(`${base}/api/v2/components.json`);
    expect(r.status).toBe(200);
    return ((await r.json()) as { components: { name: string }[] }).components.map((c) => c.name).sort();
  };

  it('applies a valid file on SIGHUP and on a file change, and refuses an invalid one', async () => {
    const { config, serviceId } = testConfig();
    const file = path.join(tmp, 'config.yaml');
    writeFileSync(file, stringify(config));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      INCIDENT_CONFIG: file,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: `api-reload-${randomUUID()}`,
      DATA_DIR: tmp,
      DATABASE_URL: store.url,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      STAFF_TOKENS: `kari=${token}`,
      SESSION_SECRET: 'a-session-secret-of-the-test',
    };
    delete env.ACK_LINK_SECRET;
    api = spawnTracked(process.execPath, ['dist/api/server.js'], { env, name: 'api' });
    await eventually(
      async () =>
        (await fetch(`${base}/readyz`).then(
          (r) => r.status,
          () => 0,
        )) === 200,
      60_000,
      'the API ready',
    );
    expect(await components()).toEqual(['Student system → Canvas integration']);
    const newService = `${serviceId}-new`;
    const declare = () =>
      fetch(`${base}/api/incidents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ service: newService, reason: 'testing the reload', severity: 'P3' }),
      });
    const before = await declare();
    expect(before.status).toBe(400);
    expect(await before.text()).toContain(newService);

    // A renamed component and a new service, then SIGHUP.
    const next = JSON.parse(JSON.stringify(config));
    next.services[1].component = 'Canvas sync (renamed)';
    next.services.push({
      id: newService,
      name: 'New service',
      owner: 'kari',
      policy: 'chain',
      severity: 'P3',
    });
    writeFileSync(file, stringify(next));
    process.kill(api.pid, 'SIGHUP');
    await api.waitForOutput(/config reloaded \((SIGHUP|file changed)\)/, 30_000);
    expect(await components()).toEqual(['Canvas sync (renamed)']);
    // The new service is known to the routes now: no 400 naming it (Temporal takes the incident).
    const after = await declare();
    expect(after.status, await after.clone().text()).not.toBe(400);

    // A changed file without a signal: seen by the file watch.
    const third = JSON.parse(JSON.stringify(next));
    third.services[1].component = 'Canvas sync (file watch)';
    writeFileSync(file, stringify(third));
    await eventually(
      async () => (await components()).includes('Canvas sync (file watch)'),
      30_000,
      'the file change applied',
    );

    // A bad file: refused with its errors (by path); the running configuration stays.
    const mark = api.output().length;
    writeFileSync(
      file,
      stringify({ ...third, services: third.services.map((s: object) => ({ ...s, policy: 'nope' })) }),
    );
    process.kill(api.pid, 'SIGHUP');
    await eventually(
      async () => /config reload \((SIGHUP|file changed)\) refused/.test(api!.output().slice(mark)),
      30_000,
      'the refusal',
    );
    const refusal = api.output().slice(mark);
    expect(refusal).toMatch(/services\[0\]\.policy: unknown policy \\?"nope\\?"/);
    expect(refusal).toContain('the running configuration stays');
    expect(refusal).not.toMatch(/config reloaded/);
    expect(api.running()).toBe(true);
    expect(await components()).toEqual(['Canvas sync (file watch)']);
    // The staff token still works across reloads.
    const me = await fetch(`${base}/api/incidents?limit=1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(me.status).toBe(200);
  }, 120_000);
});
