/**
 * The customer-first drill (the seed's order of events), on real parts: a Temporal dev server, a
 * real SSH server (stopped: the firewall blocks it), real SMTP, the record store. A customer's report
 * opens the integration's incident first; the data-sync host's own check fails afterwards. One outage
 * is one incident: the host's failure joins the integration's incident instead of opening a second
 * one, and each person gets one page per level (Kari at level 1, Ola at level 2), not one per incident.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load.js';
import type { Config } from '../../domain/config-schema.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { startSshServer, type TestSshServer } from '../helpers/ssh-server.js';

function drillConfig(sshPort: number) {
  const p = `cf-${randomUUID().slice(0, 8)}`;
  const raw = {
    contacts: [
      { id: 'kari', name: 'Kari Nordmann', email: `kari-${p}@test.local` },
      { id: 'ola', name: 'Ola Hansen', email: `ola-${p}@test.local` },
    ],
    policies: [
      {
        id: 'chain',
        levels: [
          { notify: ['kari'], ackTimeout: '25s' },
          { notify: ['ola'], ackTimeout: '10m' },
        ],
        acknowledgementTimeout: '10m',
      },
    ],
    services: [
      { id: `${p}-host`, name: 'datasync02', type: 'host', owner: 'kari', policy: 'chain', severity: 'P2' },
      {
        id: `${p}-canvas`,
        name: 'FS → Canvas integration',
        owner: 'kari',
        policy: 'chain',
        severity: 'P1',
        dependsOn: [`${p}-host`],
        component: `Student system → Canvas ${p}`,
      },
    ],
    checks: [
      {
        id: `${p}-ssh`,
        service: `${p}-host`,
        kind: 'ssh',
        host: '127.0.0.1',
        port: sshPort,
        timeout: '1s',
        interval: '4s',
        failThreshold: 3,
      },
    ],
    incidents: { verifyAttempts: 1, verifyInterval: '1s', recoveryPasses: 1, recoveryInterval: '1s' },
  };
  return { p, config: validateConfig(raw, 'test') as Config };
}

describe('customer-first drill', () => {
  let ssh: TestSshServer;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let h: Harness;
  let p: string;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    ssh = await startSshServer();
    await ssh.stop(); // the firewall change: connections refused from the start
    const c = drillConfig(ssh.port);
    p = c.p;
    h = await startHarness({ config: c.config, smtpUrl: smtp.url, monitors: true });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await ssh?.close();
    await smtp?.close();
  });

  const incidentOf = async (serviceId: string) => {
    try {
      return await h.incidents.get(serviceId);
    } catch {
      return undefined;
    }
  };
  const pagesTo = (who: string, level: number) =>
    smtp.messages.filter(
      (m) => m.to.includes(`${who}-${p}@test.local`) && m.subject.includes(`level ${level} page`),
    );

  it('a report opens the integration’s incident, the host check fails after it: one incident, one page per person per level', async () => {
    // The customer is first (the monitor needs 3 failing probes 4 s apart, about 8 s).
    const reported = await h.app.inject({
      method: 'POST',
      url: '/api/reports',
      payload: {
        component: `${p}-canvas`,
        description: 'The XML export has not arrived since this morning',
        contact: 'it@hiof.example',
      },
    });
    expect(reported.statusCode, reported.body).toBeLessThan(300);
    const opened = await eventually(
      async () => incidentOf(`${p}-canvas`),
      15_000,
      'the integration’s incident',
    );
    expect(opened.source).toBe('customer');

    // The host's check fails afterwards and joins that incident: no incident of its own.
    const joined = await eventually(
      async () => {
        const v = await incidentOf(`${p}-canvas`);
        return v?.timeline.find(
          (e) =>
            e.kind === 'joined' && e.actor === `monitor:${p}-ssh` && e.detail.startsWith('another report'),
        );
      },
      40_000,
      'the host check joining the integration’s incident',
    );
    expect(joined.detail).toContain(`from ${p}-host, which this service depends on`);
    expect(await incidentOf(`${p}-host`)).toBeUndefined();
    const monitor = await h.app.inject({
      method: 'GET',
      url: `/api/monitors/${p}-ssh`,
      headers: h.auth('kari'),
    });
    expect(monitor.json().state).toMatch(/^failing/);

    // Nobody acknowledges: Ola is paged at level 2 once, and Kari had her level-1 page once.
    await smtp.waitFor(
      (m) => m.to.includes(`ola-${p}@test.local`) && m.subject.includes('level 2 page'),
      60_000,
    );
    await new Promise((r) => setTimeout(r, 3_000)); // anything duplicated would have arrived by now
    expect(pagesTo('kari', 1)).toHaveLength(1);
    expect(pagesTo('ola', 2)).toHaveLength(1);
    expect(pagesTo('ola', 1)).toHaveLength(0);
    const list = await h.app.inject({
      method: 'GET',
      url: `/api/incidents?open=true&limit=50`,
      headers: h.auth('kari'),
    });
    const ours = (list.json().incidents as { id: string; service: { id: string } | string }[]).filter((i) =>
      JSON.stringify(i).includes(p),
    );
    expect(ours.map((i) => i.id)).toEqual([opened.id]);

    // Ola acknowledges; the SSH server comes back: the host check's recovery reaches the one incident.
    const ack = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${opened.id}/acknowledge`,
      headers: h.auth('ola'),
    });
    expect(ack.statusCode).toBe(200);
    await ssh.start();
    const recovered = await eventually(
      async () => {
        const v = await incidentOf(`${p}-canvas`);
        return v?.timeline.find((e) => e.kind === 'recovered' || /recovered/.test(e.detail)) ? v : undefined;
      },
      40_000,
      'the host check’s recovery in the integration’s incident',
    );
    expect(recovered.id).toBe(opened.id);
    expect(await incidentOf(`${p}-host`)).toBeUndefined();
  }, 180_000);
});
