/**
 * Monitors on real parts: a Temporal dev server, a real ssh2 server and a real HTTP server, real mail.
 * Intervals are 1 s so each scenario takes seconds.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { startSshServer } from '../helpers/ssh-server.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { validateConfig } from '../../config/load.js';
import { reconcileMonitors } from '../../client/monitors.js';
import { monitorStateQuery, monitorWorkflowId } from '../../workflows/monitor.js';
import type { Config } from '../../domain/config-schema.js';

type Smtp = Awaited<ReturnType<typeof startSmtpServer>>;

const people = [
  { id: 'kari', name: 'Kari Nordmann', email: 'kari@test.local' },
  { id: 'ola', name: 'Ola Hansen', email: 'ola@test.local' },
];

function monitorConfig(p: {
  checks: (prefix: string) => object[];
  maintenance?: (prefix: string) => object[];
}) {
  const prefix = `m-${randomUUID().slice(0, 8)}`;
  const raw = {
    contacts: people,
    policies: [
      {
        id: 'chain',
        levels: [
          { notify: ['kari'], ackTimeout: '1m' },
          { notify: ['ola'], ackTimeout: '1m' },
        ],
        acknowledgementTimeout: '10m',
      },
    ],
    services: [
      {
        id: `${prefix}-host`,
        name: 'data-sync host',
        type: 'host',
        owner: 'kari',
        policy: 'chain',
        severity: 'P1',
      },
      {
        id: `${prefix}-canvas`,
        name: 'FS → Canvas integration',
        owner: 'kari',
        policy: 'chain',
        severity: 'P1',
        dependsOn: [`${prefix}-host`],
        component: 'Student system → Canvas integration',
        subscribers: Array.from({ length: 25 }, (_, i) => ({ name: `Institution ${i + 1}` })),
      },
    ],
    checks: p.checks(prefix),
    maintenance: p.maintenance?.(prefix) ?? [],
    incidents: { verifyAttempts: 1, verifyInterval: '1s', recoveryPasses: 2, recoveryInterval: '1s' },
  };
  return { prefix, config: validateConfig(JSON.parse(JSON.stringify(raw)), 'test') as Config };
}

const sshCheck = (prefix: string, port: number, extra: object = {}) => ({
  id: `${prefix}-ssh`,
  service: `${prefix}-host`,
  kind: 'ssh',
  host: '127.0.0.1',
  port,
  interval: '1s',
  timeout: '1s',
  failThreshold: 3,
  recoverThreshold: 2,
  ...extra,
});

describe('monitors', () => {
  let smtp: Smtp;
  let h: Harness | undefined;
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  afterAll(async () => {
    await smtp?.close();
  });

  const incidentOf = async (serviceId: string) => {
    try {
      return await h!.incidents.get(serviceId);
    } catch {
      return undefined;
    }
  };

  it('a check that goes down opens exactly one incident in time, pages level 1, and its recovery resolves it', async () => {
    const ssh = await startSshServer();
    try {
      const { prefix, config } = monitorConfig({
        checks: (p) => [sshCheck(p, ssh.port, { fingerprint: ssh.fingerprint })],
      });
      h = await startHarness({ config, smtpUrl: smtp.url, monitors: true });
      // Healthy first: no incident while the server answers.
      await new Promise((r) => setTimeout(r, 2500));
      expect(await incidentOf(`${prefix}-host`)).toBeUndefined();

      const downAt = Date.now();
      await ssh.stop();
      const view = await eventually(
        async () => incidentOf(`${prefix}-host`),
        15_000,
        'incident opened by the monitor',
      );
      const openedAfter = Date.parse(view.openedAt) - downAt;
      // interval × failThreshold plus a small margin (workflow and activity scheduling).
      expect(openedAfter).toBeLessThan(1000 * 3 + 2500);
      expect(view.source).toBe('probe');
      expect(view.timeline[0]?.detail).toMatch(/refused/);
      expect(view.openKeys).toEqual([`check:${prefix}-ssh`]);
      // The data-sync host's incident marks the integration used by 25 institutions as affected.
      expect(view.affected.map((a) => [a.id, a.subscribers])).toEqual([
        [`${prefix}-host`, 0],
        [`${prefix}-canvas`, 25],
      ]);
      const mail = await smtp.waitFor(
        (m) => m.text.includes(view.id) && m.to.includes('kari@test.local'),
        15_000,
      );
      expect(mail.subject).toMatch(/level 1/i);
      const firstMailAfter = mail.receivedAt.getTime() - downAt;
      expect(firstMailAfter).toBeLessThan(1000 * 3 + 5000);

      // Still failing for a while: still one incident, one page.
      await new Promise((r) => setTimeout(r, 2000));
      const list = await h.incidents.list({ service: `${prefix}-host`, limit: 10 });
      expect(list.filter((i) => i.running)).toHaveLength(1);

      // Back up: the monitor proves recovery (2 passes) and that resolves the incident.
      await ssh.start();
      const resolved = await eventually(
        async () => {
          const v = await h!.incidents.get(view.id);
          return v.state === 'resolved' ? v : undefined;
        },
        20_000,
        'resolved by the monitor',
      );
      expect(resolved.timeline.find((e) => e.kind === 'recovered')?.detail).toMatch(/2 passing probe/);
      expect(
        smtp.messages.filter((m) => m.text.includes(view.id) && /level 1/i.test(m.subject)),
      ).toHaveLength(1);

      const monitor = await h.app.inject({
        method: 'GET',
        url: `/api/monitors/${prefix}-ssh`,
        headers: h.auth('kari'),
      });
      expect(monitor.statusCode).toBe(200);
      expect(monitor.json()).toMatchObject({ id: `${prefix}-ssh`, health: 'healthy' });
      expect(monitor.json().lastResult.ok).toBe(true);
      if (process.env.RECORD_MONITOR_HISTORY) {
        // `RECORD_MONITOR_HISTORY=$PWD/test/fixtures/monitor-down-up.history.json npx vitest run
        // test/workflows/monitor.test.ts -t 'goes down'` keeps this monitor's history (healthy →
        // failing → incident → healthy → recovered) as a replay fixture (test/workflows/replay.test.ts).
        const json = execFileSync(inject('temporalCli'), [
          'workflow',
          'show',
          '--address',
          inject('temporalAddress'),
          '-w',
          monitorWorkflowId(`${prefix}-ssh`),
          '--output',
          'json',
        ]);
        writeFileSync(process.env.RECORD_MONITOR_HISTORY, json);
      }
    } finally {
      await ssh.close();
    }
  }, 60_000);

  it('detects a silent server as a timeout and a changed host key as hostkey-mismatch; a dependent joins the root incident', async () => {
    const hanging = await startSshServer();
    const rekeyed = await startSshServer();
    let canvasUp = true;
    const canvas: Server = createServer((_req, res) => res.writeHead(canvasUp ? 200 : 502).end());
    await new Promise<void>((r) => canvas.listen(0, '127.0.0.1', () => r()));
    const canvasPort = (canvas.address() as { port: number }).port;
    try {
      await hanging.hang();
      const wrong =
        'SHA256:' + createHash('sha256').update('some other key').digest('base64').replace(/=+$/, '');
      const { prefix, config } = monitorConfig({
        checks: (p) => [
          sshCheck(p, hanging.port, { id: `${p}-hang` }),
          sshCheck(p, rekeyed.port, { id: `${p}-key`, fingerprint: wrong }),
          {
            id: `${p}-import`,
            service: `${p}-canvas`,
            kind: 'http',
            url: `http://127.0.0.1:${canvasPort}/`,
            interval: '1s',
            timeout: '1s',
            failThreshold: 2,
          },
        ],
      });
      h = await startHarness({ config, smtpUrl: smtp.url, monitors: true });
      const host = await eventually(
        async () => {
          const v = await incidentOf(`${prefix}-host`);
          return v && v.openKeys.length === 2 ? v : undefined;
        },
        20_000,
        'both host checks in the incident',
      );
      const details = host.timeline
        .filter((e) => e.kind === 'detected' || e.kind === 'joined')
        .map((e) => e.detail)
        .join('\n');
      expect(details).toMatch(/timeout/);
      expect(details).toMatch(/hostkey-mismatch/);

      // The integration's own check now fails because its dependency is down: it joins the root incident.
      canvasUp = false;
      const joined = await eventually(
        async () => {
          const v = await h!.incidents.get(host.id);
          return v.openKeys.includes(`check:${prefix}-import`) ? v : undefined;
        },
        20_000,
        'the dependent check joins the root incident',
      );
      expect(joined.timeline.at(-1)?.detail).toMatch(/from dependent service/);
      expect(await incidentOf(`${prefix}-canvas`)).toBeUndefined();

      // The dependent recovers first: recorded as recovered, the root stays open.
      canvasUp = true;
      const recovered = await eventually(
        async () => {
          const v = await h!.incidents.get(host.id);
          return v.timeline.some((e) => e.kind === 'recovered' && e.detail.includes(`${prefix}-import`))
            ? v
            : undefined;
        },
        20_000,
        'dependent recovery recorded',
      );
      expect(recovered.state).not.toBe('resolved');
      expect(recovered.openKeys.sort()).toEqual([`check:${prefix}-hang`, `check:${prefix}-key`].sort());
    } finally {
      canvas.close();
      await hanging.close();
      await rekeyed.close();
    }
  }, 60_000);

  it('flapping below the threshold opens nothing; two failing checks of one service give one incident', async () => {
    let n = 0;
    const flapping: Server = createServer((_req, res) => {
      n++;
      res.writeHead(n % 2 === 0 ? 500 : 200).end('ok');
    });
    await new Promise<void>((r) => flapping.listen(0, '127.0.0.1', () => r()));
    const port = (flapping.address() as { port: number }).port;
    try {
      const { prefix, config } = monitorConfig({
        checks: (p) => [
          {
            id: `${p}-flap`,
            service: `${p}-canvas`,
            kind: 'http',
            url: `http://127.0.0.1:${port}/`,
            interval: '1s',
            timeout: '1s',
            failThreshold: 2,
          },
        ],
      });
      h = await startHarness({ config, smtpUrl: smtp.url, monitors: true });
      await eventually(async () => n >= 8, 20_000, 'eight probes');
      expect(await incidentOf(`${prefix}-canvas`)).toBeUndefined();
    } finally {
      flapping.close();
    }

    await h.close();
    const { prefix, config } = monitorConfig({
      checks: (p) => [
        {
          id: `${p}-tcp1`,
          service: `${p}-host`,
          kind: 'tcp',
          host: '127.0.0.1',
          port: 1,
          interval: '1s',
          timeout: '1s',
          failThreshold: 2,
        },
        {
          id: `${p}-tcp2`,
          service: `${p}-host`,
          kind: 'tcp',
          host: '127.0.0.1',
          port: 2,
          interval: '1s',
          timeout: '1s',
          failThreshold: 2,
        },
      ],
    });
    h = await startHarness({ config, smtpUrl: smtp.url, monitors: true });
    const both = await eventually(
      async () => {
        const v = await incidentOf(`${prefix}-host`);
        return v && v.openKeys.length === 2 ? v : undefined;
      },
      20_000,
      'both checks in one incident',
    );
    // The record store lists it once its first write is in (the read above may have come from the
    // workflow itself, a moment earlier); then exactly one incident.
    const runs = await eventually(
      async () => {
        const l = await h!.incidents.list({ service: `${prefix}-host`, limit: 10 });
        return l.length > 0 ? l : undefined;
      },
      10_000,
      'the incident in the record store',
    );
    expect(runs.map((r) => r.id)).toEqual([both.id]);
  }, 60_000);

  it('a failure inside a maintenance window pages nobody; one that outlasts it opens an incident', async () => {
    const ssh = await startSshServer();
    await ssh.stop();
    try {
      const from = new Date(Date.now() - 60_000).toISOString();
      const until = new Date(Date.now() + 7_000).toISOString();
      const { prefix, config } = monitorConfig({
        checks: (p) => [sshCheck(p, ssh.port)],
        maintenance: (p) => [{ checks: [`${p}-ssh`], from, until, reason: 'firewall work' }],
      });
      h = await startHarness({ config, smtpUrl: smtp.url, monitors: true });
      const before = smtp.messages.length;
      const suppressed = await eventually(
        async () => {
          const m = await h!.app.inject({
            method: 'GET',
            url: `/api/monitors/${prefix}-ssh`,
            headers: h!.auth('kari'),
          });
          return m.json().state === 'failing (maintenance)'
            ? (m.json() as { events: { kind: string }[] })
            : undefined;
        },
        15_000,
        'failing inside the window',
      );
      expect(suppressed!.events.some((e: { kind: string }) => e.kind === 'suppressed')).toBe(true);
      expect(await incidentOf(`${prefix}-host`)).toBeUndefined();
      expect(smtp.messages.length).toBe(before);

      const view = await eventually(
        async () => incidentOf(`${prefix}-host`),
        20_000,
        'incident after the window',
      );
      expect(Date.parse(view.openedAt)).toBeGreaterThanOrEqual(Date.parse(until));
      expect(view.reason).toMatch(/after the maintenance window/);
    } finally {
      await ssh.close();
    }
  }, 60_000);

  it('a recurring window shows on /status before it starts, and a failure inside it pages nobody', async () => {
    const ssh = await startSshServer();
    try {
      // A weekly window (UTC) starting at the next minute boundary at least 15 s away, for 2 minutes.
      const start = Math.ceil((Date.now() + 15_000) / 60_000) * 60_000;
      const at = new Date(start).toISOString().slice(11, 16);
      const day = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][new Date(start).getUTCDay()];
      const { prefix, config } = monitorConfig({
        checks: (p) => [sshCheck(p, ssh.port)],
        maintenance: (p) => [
          {
            id: 'weekly-firewall',
            services: [`${p}-host`, `${p}-canvas`],
            weekly: { days: [day], at },
            duration: '2m',
            timeZone: 'UTC',
            reason: 'weekly firewall rule review',
          },
        ],
      });
      h = await startHarness({ config, smtpUrl: smtp.url, monitors: true });
      const monitor = async () =>
        (
          await h!.app.inject({ method: 'GET', url: `/api/monitors/${prefix}-ssh`, headers: h!.auth('kari') })
        ).json() as { state: string; events: { kind: string }[] };
      await eventually(async () => (await monitor()).state === 'healthy', 15_000, 'healthy before');

      // Before it starts: the visitor sees it scheduled, with its time and reason; so does the Statuspage API.
      expect(Date.now()).toBeLessThan(start);
      const maintenanceSection = async () => {
        const page = await h!.app.inject({ method: 'GET', url: '/status?lang=en' });
        expect(page.statusCode).toBe(200);
        return /<section aria-labelledby="maintenance">([\s\S]*?)<\/section>/.exec(page.body)?.[1] ?? '';
      };
      const before = await maintenanceSection();
      expect(before).toContain('Student system → Canvas integration');
      expect(before).toContain('weekly firewall rule review');
      expect(before).toMatch(/>\s*Scheduled\s*</);
      expect(before).not.toContain('In progress');
      const upcoming = await h!.app.inject({
        method: 'GET',
        url: '/api/v2/scheduled-maintenances/upcoming.json',
      });
      expect(upcoming.json().scheduled_maintenances[0]).toMatchObject({
        id: `weekly-firewall/${new Date(start).toISOString()}`,
        status: 'scheduled',
        scheduled_for: new Date(start).toISOString(),
      });

      // Inside the window the host goes away (the seed's firewall change): failing, suppressed, nobody paged.
      await new Promise((r) => setTimeout(r, Math.max(0, start - Date.now() + 1_000)));
      const mailsBefore = smtp.messages.length;
      await ssh.stop();
      const suppressed = await eventually(
        async () => {
          const m = await monitor();
          return m.state === 'failing (maintenance)' && m.events.some((e) => e.kind === 'suppressed')
            ? m
            : undefined;
        },
        20_000,
        'failing inside the recurring window',
      );
      expect(suppressed.state).toBe('failing (maintenance)');
      // Well past the 3 × 1 s threshold and the verification: still no incident and no mail.
      await new Promise((r) => setTimeout(r, 8_000));
      expect(await incidentOf(`${prefix}-host`)).toBeUndefined();
      expect(await incidentOf(`${prefix}-canvas`)).toBeUndefined();
      expect(smtp.messages.length).toBe(mailsBefore);
      const during = await maintenanceSection();
      expect(during).toContain('In progress');
      expect(during).toContain('weekly firewall rule review');
    } finally {
      await ssh.close();
    }
  }, 150_000);

  it('pause through the API: failures are recorded but page nobody until resumed', async () => {
    const ssh = await startSshServer();
    try {
      const { prefix, config } = monitorConfig({ checks: (p) => [sshCheck(p, ssh.port)] });
      h = await startHarness({ config, smtpUrl: smtp.url, monitors: true });
      const pause = await h.app.inject({
        method: 'POST',
        url: `/api/monitors/${prefix}-ssh/pause`,
        headers: h.auth('kari'),
        payload: { until: new Date(Date.now() + 60_000).toISOString(), reason: 'planned reboot' },
      });
      expect(pause.statusCode).toBe(200);
      expect(pause.json().pauseReason).toBe('planned reboot');
      const badPause = await h.app.inject({
        method: 'POST',
        url: `/api/monitors/${prefix}-ssh/pause`,
        headers: h.auth('kari'),
        payload: { until: 'tomorrow' },
      });
      expect(badPause.statusCode).toBe(400);
      await ssh.stop();
      await eventually(
        async () => {
          const m = await h!.app.inject({
            method: 'GET',
            url: `/api/monitors/${prefix}-ssh`,
            headers: h!.auth('kari'),
          });
          return m.json().state === 'failing (maintenance)';
        },
        15_000,
        'failure recorded while paused',
      );
      expect(await incidentOf(`${prefix}-host`)).toBeUndefined();
      const resume = await h.app.inject({
        method: 'POST',
        url: `/api/monitors/${prefix}-ssh/resume`,
        headers: h.auth('kari'),
      });
      expect(resume.statusCode).toBe(200);
      await eventually(async () => incidentOf(`${prefix}-host`), 20_000, 'incident after resume');
      const unknown = await h.app.inject({
        method: 'GET',
        url: '/api/monitors/nope',
        headers: h.auth('kari'),
      });
      expect(unknown.statusCode).toBe(404);
    } finally {
      await ssh.close();
    }
  }, 60_000);

  it('reconciling: a changed check reaches its running monitor, a removed check stops its monitor', async () => {
    const { prefix, config } = monitorConfig({
      checks: (p) => [
        {
          id: `${p}-a`,
          service: `${p}-host`,
          kind: 'tcp',
          host: '127.0.0.1',
          port: 1,
          interval: '30s',
          timeout: '1s',
        },
        {
          id: `${p}-b`,
          service: `${p}-host`,
          kind: 'tcp',
          host: '127.0.0.1',
          port: 2,
          interval: '30s',
          timeout: '1s',
        },
      ],
    });
    h = await startHarness({ config, smtpUrl: smtp.url, monitors: true });
    const changed: Config = {
      ...config,
      checks: [{ ...config.checks[0]!, port: 3 } as Config['checks'][number]],
    };
    const again = await reconcileMonitors(h.client, changed, h.taskQueue);
    expect(again.configured).toEqual([`${prefix}-a`]);
    // The first reconcile stops b if the visibility store lists it already; else a later one does.
    const stopped =
      again.stopped.length > 0
        ? again
        : await eventually(
            async () => {
              const r = await reconcileMonitors(h!.client, changed, h!.taskQueue);
              return r.stopped.length > 0 ? r : undefined;
            },
            15_000,
            'the removed monitor is found and stopped',
          );
    expect(stopped.stopped).toEqual([`monitor-${prefix}-b`]);
    await eventually(
      async () => {
        const d = await h!.client.workflow.getHandle(`monitor-${prefix}-b`).describe();
        return d.status.name === 'COMPLETED';
      },
      15_000,
      'monitor b completed',
    );
    const a = await h.client.workflow.getHandle(`monitor-${prefix}-a`).query(monitorStateQuery);
    expect(a.check).toMatchObject({ port: 3 });
    expect(a.events.some((e) => e.kind === 'configured')).toBe(true);
  }, 60_000);

  it('heartbeat: pings on time keep it healthy, a missed ping opens an incident, the next ping recovers it', async () => {
    const token = `hb-${randomUUID()}`;
    const { prefix, config } = monitorConfig({
      checks: (p) => [
        {
          id: `${p}-import`,
          service: `${p}-canvas`,
          kind: 'heartbeat',
          period: '2s',
          grace: '1s',
          tokenSha256: createHash('sha256').update(token).digest('hex'),
        },
      ],
    });
    h = await startHarness({ config, smtpUrl: smtp.url, monitors: true });
    const ping = () => h!.app.inject({ method: 'POST', url: `/api/heartbeats/${token}` });
    for (let i = 0; i < 4; i++) {
      const r = await ping();
      expect(r.statusCode).toBe(202);
      await new Promise((res) => setTimeout(res, 1000));
    }
    expect(await incidentOf(`${prefix}-canvas`)).toBeUndefined();
    expect((await h.app.inject({ method: 'POST', url: '/api/heartbeats/not-the-token' })).statusCode).toBe(
      404,
    );

    const view = await eventually(
      async () => incidentOf(`${prefix}-canvas`),
      15_000,
      'missed ping opens an incident',
    );
    expect(view.reason).toMatch(/no ping for/);
    await ping();
    const resolved = await eventually(
      async () => {
        const v = await h!.incidents.get(view.id);
        return v.state === 'resolved' ? v : undefined;
      },
      15_000,
      'next ping recovers',
    );
    expect(resolved.timeline.some((e) => e.kind === 'recovered' && /ping arrived/.test(e.detail))).toBe(true);
  }, 60_000);
});
