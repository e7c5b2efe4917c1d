/**
 * Fault drill 1: the worker process is killed with `kill -9` while an incident waits for an
 * acknowledgement, and stays down past the escalation deadline. When it is started again (same task
 * queue, same DATA_DIR, like a real deployment), the escalation still fires, and every (level,
 * recipient) page arrives exactly once, each with its own Message-ID.
 */
import { afterAll, describe, expect, it, inject } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { stringify } from 'yaml';
import type { IncidentView } from '../../domain/incident.js';
import { pageKey, startStack, tally, type Stack } from '../helpers/stack.js';
import { testConfig } from '../helpers/config.js';
import { eventually } from '../helpers/harness.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { freshStore, type TestStore } from '../helpers/store.js';
import { startWorkerProcess, type Proc } from '../helpers/processes.js';

const levelTimeoutMs = 4000;

describe('drill: kill -9 the worker while an incident waits for acknowledgement', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'drill-worker-kill-'));
  const workers: Proc[] = [];
  let smtp: TestSmtpServer | undefined;
  let api: Stack | undefined;

  let store: TestStore | undefined;
  afterAll(async () => {
    await api?.close();
    await store?.close();
    for (const w of workers) await w.stop(5000);
    await smtp?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('restarted, the worker fires the escalation, and each (level, recipient) page arrives exactly once', async () => {
    smtp = await startSmtpServer();
    const { config, serviceId } = testConfig({ levelTimeout: `${levelTimeoutMs / 1000}s` });
    const configPath = path.join(tmp, 'config.yaml');
    writeFileSync(configPath, stringify(config));
    const dataDir = path.join(tmp, 'data');
    mkdirSync(dataDir);
    const taskQueue = `drill-worker-kill-${randomUUID()}`;
    store = await freshStore();
    const worker = () =>
      startWorkerProcess({
        databaseUrl: store!.url,
        configPath,
        temporalAddress: inject('temporalAddress'),
        taskQueue,
        dataDir,
        smtpUrl: smtp!.url,
      });

    workers.push(await worker());
    api = await startStack({ config, taskQueue, databaseUrl: store.url });

    const declared = await api.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: api.auth('kari'),
      payload: { service: serviceId, reason: 'the export server does not answer' },
    });
    expect(declared.statusCode).toBe(201);
    const id = (declared.json() as { incident: IncidentView }).incident.id;
    const mine = () => smtp!.messages.filter((m) => m.text.includes(id));

    // Level 1 is paged, and the page's activity has completed (it is in the timeline): the incident
    // now only waits for an acknowledgement or the level's timeout.
    const before = await eventually(
      async () => {
        const v = await api!.incidents.get(id);
        return v.timeline.some((e) => e.kind === 'paged') ? v : undefined;
      },
      20_000,
      'level 1 paged',
    );
    expect(before.state).toBe('triggered');
    expect(before.paged.map((p) => p.recipient.id)).toEqual(['kari']);
    const deadline = Date.parse(before.nextEscalationAt!);
    expect(deadline).toBeGreaterThan(Date.now());

    const killed = await workers[0]!.kill9();
    expect(killed.signal).toBe('SIGKILL');

    // Nobody runs the workflow now: the escalation deadline passes without a page.
    await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now()) + 1000));
    expect(mine().map((m) => m.to[0])).toEqual(['kari@test.local']);

    const restartedAt = Date.now();
    workers.push(await worker());
    const upAt = Date.now();

    // The timer fired while no worker was up; the restarted worker picks the workflow up, escalates
    // to level 2 at once, and walks the rest of the chain on schedule.
    const ola = await smtp.waitFor((m) => m.text.includes(id) && m.to.includes('ola@test.local'), 30_000);
    await smtp.waitFor((m) => m.text.includes(id) && m.to.includes('per@test.local'), 30_000);
    const view = await eventually(
      async () => {
        const v = await api!.incidents.get(id);
        return v.timeline.filter((e) => e.kind === 'paged').length === 4 ? v : undefined;
      },
      15_000,
      'four pages in the timeline',
    );
    // Stragglers (a re-sent page) would come now; give them time.
    await new Promise((r) => setTimeout(r, 3000));

    expect(view.paged.map((p) => `${p.level}:${p.recipient.id}`)).toEqual([
      '1:kari',
      '2:ola',
      '3:ingrid',
      '0:per',
    ]);
    // The level-1 page before the crash is not repeated: the timeline before the crash is intact.
    expect(view.timeline.slice(0, before.timeline.length)).toEqual(before.timeline);
    expect(view.timeline.filter((e) => e.kind === 'page-failed')).toEqual([]);
    expect(view.timeline.filter((e) => e.kind === 'escalated')).toHaveLength(3);

    const mails = mine();
    expect(tally(mails.map(pageKey))).toEqual({
      'level 1 page → kari@test.local': 1,
      'level 2 page → ola@test.local': 1,
      'level 3 page → ingrid@test.local': 1,
      'final fallback page → per@test.local': 1,
    });
    expect(mails).toHaveLength(4);
    const ids = mails.map((m) => m.messageId);
    expect(ids.every((m) => /^<[0-9a-f]{64}@incident-orchestrator>$/.test(m))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // Escalation did not wait longer than it had to once a worker was back.
    expect(ola.receivedAt.getTime() - upAt).toBeLessThan(15_000);
    console.log(
      `[drill 1] worker down ${((upAt - deadline) / 1000).toFixed(1)} s past the level-1 deadline ` +
        `(restart took ${((upAt - restartedAt) / 1000).toFixed(1)} s); level 2 paged ` +
        `${((ola.receivedAt.getTime() - upAt) / 1000).toFixed(1)} s after it was back`,
    );
  }, 150_000);
});
