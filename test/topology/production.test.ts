/**
 * The production topology, for real, without Docker: a Temporal server (the v1.29.1 build of
 * scripts/temporal-server.ts, built with Go on first run) on Debian's PostgreSQL with its schema set
 * up by temporal-sql-tool, the namespace and search attributes registered with the Temporal CLI, and
 * TWO worker and TWO API processes started as docker-compose starts them, sharing the record store's
 * database. Declare through API 1 → the level-1 page arrives → `kill -9` the worker that holds the
 * incident's workflow and API 1 → the level-2 page still comes on time (the other worker takes
 * over) → an acknowledgement through API 2 stops the escalation: no level-3 page.
 */
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { Client, Connection } from '@temporalio/client';
import { ensureTemporalServer, type TemporalServerBuild } from '../../scripts/temporal-server.js';
import { freePort } from '../../scripts/dev-server.js';
import type { IncidentView } from '../../domain/incident.js';
import { testConfig } from '../helpers/config.js';
import { eventually } from '../helpers/harness.js';
import { startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../helpers/smtp-server.js';
import type { Proc } from '../helpers/processes.js';
import { startApi, startTemporalCluster, startWorker, type AppEnv, type TemporalCluster } from './cluster.js';

/** Seconds-scale on purpose: longer than the server's 10 s window for noticing a dead sticky worker. */
const levelTimeoutMs = 15_000;
const retentionDays = 30;
const token = (who: string) => `${who}-${randomBytes(18).toString('hex')}`;

describe('production topology: temporal-server on PostgreSQL, two workers, two APIs', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'topology-'));
  let build: TemporalServerBuild;
  let cluster: TemporalCluster | undefined;
  let smtp: TestSmtpServer | undefined;
  const procs: Proc[] = [];

  beforeAll(async () => {
    // A fresh machine builds it here (about 10-17 minutes, once; progress every 15 s). The Temporal
    // CLI was built by the global setup before any test file ran, and the two builds share one lock.
    const started = Date.now();
    build = await ensureTemporalServer({ log: (l) => console.log(`[temporal-server] ${l}`) });
    console.log(`[topology] Temporal server build ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 30 * 60_000);

  afterAll(async () => {
    for (const p of procs) await p.stop(10_000);
    await smtp?.close();
    await cluster?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  it(
    'declare → page → kill -9 a worker and an API → level 2 on time → ack through the other API stops it',
    async () => {
      const t0 = Date.now();
      cluster = await startTemporalCluster({
        build,
        temporalCli: inject('temporalCli'),
        dir: tmp,
        retentionDays,
      });
      const c = cluster;
      // The namespace keeps closed histories for the retention it was registered with.
      const connection = await Connection.connect({ address: c.address });
      const client = new Client({ connection, namespace: 'default' });
      try {
        const ns = await connection.workflowService.describeNamespace({ namespace: 'default' });
        expect(Number(ns.config?.workflowExecutionRetentionTtl?.seconds)).toBe(retentionDays * 24 * 3600);
        const sys = await connection.workflowService.getSystemInfo({});
        expect(sys.serverVersion).toBe('1.29.1');

        smtp = await startSmtpServer();
        const { config, serviceId } = testConfig({ levelTimeout: `${levelTimeoutMs / 1000}s` });
        const configPath = path.join(tmp, 'config.yaml');
        writeFileSync(configPath, stringify(config));
        const apiPorts = [await freePort(), await freePort()];
        const app: AppEnv = {
          configPath,
          temporalAddress: c.address,
          databaseUrl: c.recordsUrl,
          ackLinkSecret: randomBytes(32).toString('base64url'),
          publicBaseUrl: `http://127.0.0.1:${apiPorts[0]}`,
        };
        const tokens = { kari: token('kari'), ola: token('ola') };
        const staffTokens = `kari=${tokens.kari},ola=${tokens.ola}`;
        const sessionSecret = randomBytes(32).toString('base64url');
        const appsStarted = Date.now();
        const workers = await Promise.all(
          [1, 2].map((i) =>
            startWorker(app, {
              name: `worker ${i}`,
              dataDir: path.join(tmp, `worker-${i}`),
              smtpUrl: smtp!.url,
            }),
          ),
        );
        procs.push(...workers);
        const apis = await Promise.all(
          [1, 2].map((i) =>
            startApi(app, {
              name: `api ${i}`,
              dataDir: path.join(tmp, `api-${i}`),
              port: apiPorts[i - 1]!,
              sessionSecret,
              staffTokens,
            }),
          ),
        );
        procs.push(...apis);
        const appsMs = Date.now() - appsStarted;
        const [api1, api2] = apiPorts.map((p) => `http://127.0.0.1:${p}`) as [string, string];
        const call = (base: string, who: keyof typeof tokens, method: string, url: string, body?: unknown) =>
          fetch(`${base}${url}`, {
            method,
            headers: {
              authorization: `Bearer ${tokens[who]}`,
              ...(body ? { 'content-type': 'application/json' } : {}),
            },
            body: body ? JSON.stringify(body) : undefined,
          });

        // ---- declare through API 1; the level-1 page arrives ---------------------------------------
        const declared = await call(api1, 'kari', 'POST', '/api/incidents', {
          service: serviceId,
          reason: 'the export server does not answer',
          skipVerify: true,
        });
        expect(declared.status, await declared.clone().text()).toBe(201);
        const { incident } = (await declared.json()) as { incident: IncidentView };
        const ours = (m: ReceivedMail) => m.text.includes(incident.id);
        const level1 = await smtp.waitFor((m) => ours(m) && m.to.includes('kari@test.local'), 60_000);
        expect(level1.subject).toMatch(/level 1 page$/);
        // Recorded in the shared store (the activity completed), readable through either API.
        const view = async (base: string) =>
          (await (
            await call(base, 'kari', 'GET', `/api/incidents/${incident.id}`)
          ).json()) as IncidentView & {
            timeline: { kind: string; detail: string }[];
          };
        // …with the time the workflow's escalation timer is due (level 2), read through API 2.
        const level2Due = await eventually(
          async () => {
            const v = await view(api2);
            return v.timeline.some((e) => e.kind === 'paged') && v.nextEscalationAt
              ? new Date(v.nextEscalationAt).getTime()
              : undefined;
          },
          30_000,
          'the level-1 page and the next escalation time in the record',
        );

        // ---- kill -9 the worker that holds the workflow, and API 1 ---------------------------------
        const history = await client.workflow.getHandle(incident.workflowId).fetchHistory();
        const identities = (history.events ?? [])
          .map((e) => e.workflowTaskCompletedEventAttributes?.identity)
          .filter((x): x is string => !!x);
        const holder = identities.at(-1)!;
        const victim = workers.find((w) => holder.startsWith(`${w.pid}@`));
        expect(victim, `the workflow's worker (${holder}) is one of ours`).toBeDefined();
        const survivor = workers.find((w) => w !== victim)!;
        const killedAt = Date.now();
        expect((await victim!.kill9()).signal).toBe('SIGKILL');
        expect((await apis[0]!.kill9()).signal).toBe('SIGKILL');
        expect(
          await fetch(`${api1}/readyz`).then(
            () => 'answered',
            () => 'gone',
          ),
        ).toBe('gone');

        // ---- level 2 comes on time, from the surviving worker --------------------------------------
        const level2 = await smtp.waitFor(
          (m) => ours(m) && m.to.includes('ola@test.local'),
          levelTimeoutMs + 30_000,
        );
        expect(level2.subject).toMatch(/level 2 page$/);
        const gapMs = level2.receivedAt.getTime() - level1.receivedAt.getTime();
        // On time: not before the workflow's own due time, and within seconds of it.
        const latenessMs = level2.receivedAt.getTime() - level2Due;
        expect(latenessMs, 'level 2 early by').toBeGreaterThanOrEqual(-500);
        // The due time is the workflow's; the mail adds the page activity's own latency (0.1 s on a quiet
        // machine, 4.3 s at a load of 22 on 2 cores).
        expect(latenessMs, 'level 2 late by').toBeLessThan(8000);
        const after = await client.workflow.getHandle(incident.workflowId).fetchHistory();
        const laterTasks = (after.events ?? [])
          .filter((e) => Number(e.eventTime?.seconds ?? 0) * 1000 > killedAt)
          .map((e) => e.workflowTaskCompletedEventAttributes?.identity)
          .filter((x): x is string => !!x);
        expect(laterTasks.length).toBeGreaterThan(0);
        expect(laterTasks.every((id) => id.startsWith(`${survivor.pid}@`))).toBe(true);

        // ---- acknowledge through API 2: the escalation stops ---------------------------------------
        const acked = await call(api2, 'ola', 'POST', `/api/incidents/${incident.id}/acknowledge`);
        expect(acked.status, await acked.clone().text()).toBe(200);
        const ackedAt = Date.now();
        // Level 3 would be due one level timeout after level 2: wait past that, plus a margin.
        const level3Due = level2.receivedAt.getTime() + levelTimeoutMs;
        await new Promise((r) => setTimeout(r, Math.max(0, level3Due + 5000 - Date.now())));
        const pages = smtp.messages
          .filter(ours)
          .map((m) => `${m.subject.split(' — ').pop()} → ${m.to.join(',')}`);
        expect(pages).toEqual(['level 1 page → kari@test.local', 'level 2 page → ola@test.local']);
        const final = await view(api2);
        expect(final.state).toBe('acknowledged');
        expect(final.timeline.filter((e) => e.kind === 'paged')).toHaveLength(2);
        expect(survivor.running()).toBe(true);
        expect(apis[1]!.running()).toBe(true);

        console.log(
          `[topology] temporal-server ${sys.serverVersion} on PostgreSQL (${c.steps
            .map((s) => `${s.what} ${(s.ms / 1000).toFixed(1)} s`)
            .join(', ')}); 2 workers + 2 APIs ready in ${(appsMs / 1000).toFixed(1)} s; ` +
            `level 2 ${(gapMs / 1000).toFixed(1)} s after level 1 (timeout ${levelTimeoutMs / 1000} s; ${(latenessMs / 1000).toFixed(1)} s after its due time) ` +
            `after kill -9 of worker ${victim!.pid} and API 1; acknowledged through API 2 ${((ackedAt - level2.receivedAt.getTime()) / 1000).toFixed(1)} s after level 2; ` +
            `no level-3 page; whole run ${((Date.now() - t0) / 1000).toFixed(1)} s`,
        );
      } finally {
        await connection.close();
      }
    },
    10 * 60_000,
  );
});
