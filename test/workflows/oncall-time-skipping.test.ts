/**
 * Paging whoever is on call at each page time, on Temporal's time-skipping test server: an incident
 * that stays open across a DST change (Europe/Oslo spring-forward and fall-back) pages the person the schedule names at that instant, with real mail, a real record store
 * and the real worker. Days pass in seconds: the test server skips time while the workflow waits.
 *
 * The server is io.temporal:temporal-test-server from Maven Central, resolved once into ~/.cache
 * (scripts/temporal-test-server.ts); the SDK's own createTimeSkipping() would download a binary.
 * The test server's clock only moves forward, so the cases run in calendar order on one server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { validateConfig } from '../../config/load.js';
import type { Config } from '../../domain/config-schema.js';
import { buildIncidentInput } from '../../domain/model.js';
import { searchAttributeNames, incidentId } from '../../workflows/definitions.js';
import { ensureTemporalTestServer, startTemporalTestServer } from '../../scripts/temporal-test-server.js';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../../scripts/dev-server.js';

type Smtp = Awaited<ReturnType<typeof startSmtpServer>>;

const contacts = [
  { id: 'kari', name: 'Kari Nordmann', email: 'kari@test.local' },
  { id: 'ola', name: 'Ola Hansen', email: 'ola@test.local' },
];

function config(rotation: Record<string, unknown>, ackTimeout: string, repeat: number) {
  const serviceId = `svc-${randomUUID().slice(0, 8)}`;
  const c: Config = validateConfig(
    {
      contacts,
      schedules: [
        {
          id: 'integration',
          name: 'Integration team',
          layers: [
            {
              name: 'rota',
              rotation: { participants: ['kari', 'ola'], timeZone: 'Europe/Oslo', ...rotation },
            },
          ],
        },
      ],
      policies: [
        {
          id: 'chain',
          levels: [{ notify: ['schedule:integration'], ackTimeout }],
          repeat,
          acknowledgementTimeout: '1h',
        },
      ],
      // P3: no status-message deadline, so only the level pages (a P2 would page the owner after 1 h).
      services: [
        { id: serviceId, name: 'FS → Canvas integration', owner: 'kari', policy: 'chain', severity: 'P3' },
      ],
      incidents: { verifyAttempts: 1, verifyInterval: '1s', recoveryPasses: 1, recoveryInterval: '1s' },
    },
    'test',
  );
  return { config: c, serviceId };
}

describe('on-call at page time, with time skipping', () => {
  let proc: ChildProcess | undefined;
  let env: TestWorkflowEnvironment;
  let smtp: Smtp;
  const harnesses: Harness[] = [];

  beforeAll(async () => {
    const launcher = await ensureTemporalTestServer();
    const port = await freePort();
    proc = startTemporalTestServer(launcher, port);
    const address = `127.0.0.1:${port}`;
    await eventually(
      async () => {
        if (proc!.exitCode !== null) throw new Error(`the test server exited with ${proc!.exitCode}`);
        try {
          const c = await Connection.connect({ address, connectTimeout: 1_000 });
          await c.close();
          return true;
        } catch {
          return undefined;
        }
      },
      120_000,
      'the time-skipping test server',
    );
    // createFromExistingServer() turns time skipping off; the environment's own constructor keeps it.
    env = await (
      TestWorkflowEnvironment as unknown as {
        create(o: object): Promise<TestWorkflowEnvironment>;
      }
    ).create({ server: { type: 'existing' }, supportsTimeSkipping: true, address, namespace: 'default' });
    // Time moves only when the test says so (env.sleep unlocks it for that long). Unlocked, the
    // server also skips ahead whenever the workflow waits, and the first sleep counts twice.
    await env.connection.testService!.lockTimeSkipping({});
    // The test server has no ListSearchAttributes: register the incidents' attributes directly.
    await env.connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: Object.fromEntries(searchAttributeNames.map((n) => [n, 2 /* KEYWORD */])),
    });
    smtp = await startSmtpServer();
  }, 600_000);

  afterAll(async () => {
    for (const h of harnesses) await h.close();
    await env?.teardown();
    proc?.kill('SIGTERM');
    await smtp?.close();
  });

  /** Moves the test server's clock forward to `iso` (it never goes back). */
  const skipTo = async (iso: string) => {
    const now = await env.currentTimeMs();
    const ms = Date.parse(iso) - now;
    expect(ms, `the server clock (${new Date(now).toISOString()}) is before ${iso}`).toBeGreaterThan(0);
    await env.sleep(ms);
  };

  /**
   * Opens an incident at `at` and walks the clock through `pageTimes`, returning who each page went
   * to (by mail and by the timeline's on-call lines).
   */
  const pagesAcross = async (t: { config: Config; serviceId: string }, at: string, skips: number[]) => {
    const h = await startHarness({ config: t.config, smtpUrl: smtp.url, temporalAddress: env.address });
    harnesses.push(h);
    await skipTo(at);
    const input = buildIncidentInput(t.config, t.serviceId, {
      eventId: randomUUID(),
      source: 'api',
      actor: 'kari',
      reason: 'institutions cannot fetch the XML export',
      skipVerify: true,
    });
    const handle = await env.client.workflow.start('incidentWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `oncall-ts-${randomUUID()}`,
      args: [input],
    });
    const id = incidentId(t.serviceId, handle.firstExecutionRunId);
    const mailsOf = (n: number) => smtp.waitForCount((m) => m.text.includes(id), n, 60_000);
    await mailsOf(1);
    for (let i = 0; i < skips.length; i++) {
      await env.sleep(skips[i]!);
      await mailsOf(i + 2);
    }
    const view = await eventually(
      async () => {
        const v = await h.incidents.get(id);
        return v.paged.length >= skips.length + 1 ? v : undefined;
      },
      60_000,
      'the pages in the record',
    );
    await handle.terminate('test over');
    const mails = await mailsOf(skips.length + 1);
    await h.close();
    harnesses.splice(harnesses.indexOf(h), 1);
    console.log(
      `[time skipping] ${JSON.stringify({ mails: mails.map((m) => m.to[0]), paged: view.paged.map((p) => [p.at, p.recipient.id]) })}`,
    );
    return {
      to: mails.map((m) => m.to[0]),
      at: view.paged.map((p) => p.at),
      onCall: view.timeline.filter((e) => e.kind === 'on-call').map((e) => e.detail),
    };
  };

  const H = 3_600_000;

  it('spring-forward: the repeat at 09:30 CEST (08:30 by the winter clock) goes to the new person', async () => {
    // Daily handoff at 09:00 Oslo. 2027-03-27 (day 26 from 1 March): Kari, 08:00Z → 2027-03-28 07:00Z
    // (09:00 CEST); the clocks go forward at 01:00Z on 28 March.
    const t = config({ shiftLength: 1, shiftUnit: 'days', handoff: '09:00', start: '2027-03-01' }, '690m', 1);
    const r = await pagesAcross(t, '2027-03-27T20:00:00Z', [11.5 * H]);
    expect(r.to).toEqual(['kari@test.local', 'ola@test.local']);
    expect(r.at[1]!.slice(0, 16)).toBe('2027-03-28T07:30');
    expect(r.onCall).toEqual([
      'level 1: Kari Nordmann is on call in integration',
      'level 1 (repeat 1): Ola Hansen is on call in integration',
    ]);
  }, 300_000);

  it('fall-back: the repeat at 08:30 CET (09:30 by the summer clock) stays with the same person; the next goes on', async () => {
    // 2027-10-30 (day 243): Ola, 07:00Z (09:00 CEST) → 2027-10-31 08:00Z (09:00 CET); clocks go back
    // at 01:00Z on 31 October.
    const t = config({ shiftLength: 1, shiftUnit: 'days', handoff: '09:00', start: '2027-03-01' }, '690m', 2);
    const r = await pagesAcross(t, '2027-10-30T20:00:00Z', [11.5 * H, 11.5 * H]);
    expect(r.to).toEqual(['ola@test.local', 'ola@test.local', 'kari@test.local']);
    expect(r.at.map((a) => a.slice(0, 16))).toEqual([
      '2027-10-30T20:00',
      '2027-10-31T07:30',
      '2027-10-31T19:00',
    ]);
    expect(r.onCall).toEqual([
      'level 1: Ola Hansen is on call in integration',
      'level 1 (repeat 1): Ola Hansen is on call in integration',
      'level 1 (repeat 2): Kari Nordmann is on call in integration',
    ]);
  }, 300_000);
});
