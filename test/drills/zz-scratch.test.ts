import { afterAll, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStack, type Stack } from '../helpers/stack.js';
import { testConfig } from '../helpers/config.js';
import { eventually } from '../helpers/harness.js';
import { startDevServer, type DevServer } from '../helpers/processes.js';

let server: DevServer; const stacks: Stack[] = [];
afterAll(async () => { for (const s of stacks) await s.close(); await server?.close(); });
it('scratch', async () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'zz-'));
  server = await startDevServer({ dbFile: path.join(tmp, 't.db') });
  const { config, serviceId } = testConfig({ levelTimeout: '10m' });
  const a = await startStack({ config, address: server.address, worker: true });
  const d = await a.incidents.declare({ service: serviceId, reason: 'x', actor: 'kari' });
  await eventually(async () => (await a.incidents.get(d.id)).timeline.some((e) => e.kind === 'paged'), 20000);
  await a.close();
  for (const variant of ['before restart', 'after restart']) {
    if (variant === 'after restart') { await server.kill9(); await server.restart(); }
    const api = await startStack({ config, address: server.address, taskQueue: a.taskQueue, callTimeoutMs: 3000 });
    stacks.push(api);
    const t0 = Date.now();
    const r = await api.app.inject({ method: 'GET', url: `/api/incidents/${d.id}`, headers: api.auth('kari') });
    console.log(variant, r.statusCode, Date.now() - t0, 'ms', r.body.slice(0, 100), api.temporalErrors.map((e) => e.message.slice(0, 120)));
  }
}, 120000);
