/**
 * M1: anyone who can start a workflow writes its input. An incident started with input that names
 * the worker's own secrets (a webhook `urlEnv: ACK_LINK_SECRET`, an SSH check with `passwordEnv:
 * SESSION_SECRET` aimed at a server the attacker runs) must not read them: the worker looks
 * credentials up only in its own configuration, by id, and says so in an error that names no value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { startSshServer, type TestSshServer } from '../helpers/ssh-server.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { testConfig } from '../helpers/config.js';
import { buildIncidentInput } from '../../domain/model.js';
import { incidentWorkflowId } from '../../workflows/definitions.js';
import type { Check } from '../../domain/config-schema.js';
import type { IncidentInput } from '../../domain/incident.js';

describe('workflow input naming the worker’s secrets', () => {
  const ackSecret = `ack-${randomBytes(18).toString('base64url')}`;
  const sessionSecret = `session-${randomBytes(18).toString('base64url')}`;
  const saved = { ack: process.env.ACK_LINK_SECRET, session: process.env.SESSION_SECRET };
  let h: Harness;
  let ssh: TestSshServer;

  beforeAll(async () => {
    // The worker's own environment (the harness runs the worker in this process).
    process.env.ACK_LINK_SECRET = ackSecret;
    process.env.SESSION_SECRET = sessionSecret;
    // The attacker's SSH server: it would accept the session secret as a password.
    ssh = await startSshServer({ users: [{ username: 'thief', password: sessionSecret }] });
  });

  afterAll(async () => {
    await h?.close();
    await ssh?.close();
    for (const [k, v] of [
      ['ACK_LINK_SECRET', saved.ack],
      ['SESSION_SECRET', saved.session],
    ] as const)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });

  /** Starts an incident with the given input changes, waits for the webhook attempt or the end. */
  async function runHostile(serviceId: string, change: Partial<IncidentInput>, waitFor: string) {
    const input: IncidentInput = {
      ...buildIncidentInput(config, serviceId, {
        eventId: `hostile-${serviceId}`,
        source: 'api',
        actor: 'mallory',
        reason: 'crafted input',
      }),
      ...change,
    };
    const handle = await h.client.workflow.start('incidentWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: incidentWorkflowId(serviceId),
      args: [input],
    });
    const id = `${serviceId}.${handle.firstExecutionRunId}`;
    // Until the event `waitFor` is in the timeline, or the incident ended (a passing probe dismisses it).
    const view = await eventually(
      async () => {
        const v = await h.incidents.get(id).catch(() => undefined);
        if (v?.timeline.some((e) => e.kind === waitFor)) return v;
        const running = (await handle.describe()).status.name === 'RUNNING';
        return !running ? await h.incidents.get(id) : undefined;
      },
      30_000,
      `${waitFor} in the timeline`,
    );
    const lines = view.timeline.map((e) => `${e.kind}: ${e.detail}`);
    console.log(lines.join('\n'));
    const history = JSON.stringify(await handle.fetchHistory());
    await handle.terminate('test finished').catch(() => undefined);
    return { lines, texts: [JSON.stringify(view), history] };
  }

  let config: ReturnType<typeof testConfig>['config'];
  let serviceId: string;
  beforeAll(async () => {
    ({ config, serviceId } = testConfig());
    h = await startHarness({ config });
  });

  it('an SSH check with passwordEnv: SESSION_SECRET is refused; the server gets no password', async () => {
    const hostileCheck = {
      id: 'stolen-session',
      service: serviceId,
      kind: 'ssh',
      host: '127.0.0.1',
      port: ssh.port,
      expectExitCode: 0,
      timeout: '2s',
      auth: { username: 'thief', passwordEnv: 'SESSION_SECRET' },
    } as unknown as Check;
    const { lines, texts } = await runHostile(
      serviceId,
      { checks: [hostileCheck], webhooks: [] },
      'verified',
    );
    console.log('passwords the SSH server received:', ssh.authAttempts.filter((a) => a.password).length);
    expect(ssh.authAttempts.filter((a) => a.password !== undefined)).toEqual([]);
    expect(lines).toContainEqual(
      expect.stringMatching(/^verified: .*check "stolen-session" is not in this worker's configuration/),
    );
    for (const text of texts) expect(text).not.toContain(sessionSecret);
  });

  it('a webhook with urlEnv: ACK_LINK_SECRET is refused; the value is in no timeline or history', async () => {
    const { lines, texts } = await runHostile(
      `${serviceId}-host`,
      {
        checks: [],
        webhooks: [{ team: 'nobody', format: 'json', urlEnv: 'ACK_LINK_SECRET' }],
      },
      'webhook-failed',
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^webhook-failed: .*not in this worker's configuration/),
    );
    for (const text of texts) expect(text).not.toContain(ackSecret);
  });
});
