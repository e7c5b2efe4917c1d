/**
 * The whole lifecycle through the API, on real parts: a Temporal dev server, a real SMTP server that
 * records what it receives, and a real SSH server (ssh2) that the test takes down and brings back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Worker } from '@temporalio/worker';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { startSshServer } from '../helpers/ssh-server.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import type { IncidentView } from '../../domain/incident.js';

type Smtp = Awaited<ReturnType<typeof startSmtpServer>>;
type Ssh = Awaited<ReturnType<typeof startSshServer>>;

describe('incident lifecycle end to end', () => {
  let smtp: Smtp;
  let ssh: Ssh;
  let h: Harness;
  let serviceId: string;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    ssh = await startSshServer();
    const t = testConfig({ ssh: { port: ssh.port, fingerprint: ssh.fingerprint }, levelTimeout: '4s' });
    serviceId = t.serviceId;
    h = await startHarness({ config: t.config, smtpUrl: smtp.url });
  });

  afterAll(async () => {
    await h?.close();
    await ssh?.close();
    await smtp?.close();
  });

  it('declare → verify → page → escalate → acknowledge → resolve only on probe proof → postmortem', async () => {
    // The firewall change: SSH to the data-sync host stops answering.
    await ssh.stop();

    const declared = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('kari'),
      payload: { service: serviceId, reason: 'institutions cannot reach the XML export over SSH' },
    });
    expect(declared.statusCode).toBe(201);
    const { incident, opened } = declared.json() as { incident: IncidentView; opened: boolean };
    expect(opened).toBe(true);
    const id = incident.id;
    const get = async () =>
      (
        await h.app.inject({ method: 'GET', url: `/api/incidents/${id}`, headers: h.auth('kari') })
      ).json() as IncidentView;

    // A second declaration of the same open problem joins it.
    const again = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('ola'),
      payload: { service: serviceId, reason: 'second institution reports the same' },
    });
    expect(again.statusCode).toBe(200);
    expect((again.json() as { incident: IncidentView; opened: boolean }).opened).toBe(false);
    expect((again.json() as { incident: IncidentView }).incident.id).toBe(id);

    // Verified by the probe, then level 1 is paged.
    const level1 = await smtp.waitFor(
      (m) => m.to.includes('kari@test.local') && /level 1/i.test(m.subject),
      20_000,
    );
    const verified = await get();
    expect(verified.state).toBe('triggered');
    expect(verified.timeline.find((e) => e.kind === 'verified')?.detail).toMatch(/refused/);
    expect(verified.status[0]?.state).toBe('investigating');

    // Nobody answers: level 2 after the level's 4 s timeout.
    const level2 = await smtp.waitFor(
      (m) => m.to.includes('ola@test.local') && /level 2/i.test(m.subject),
      20_000,
    );
    expect(level2.receivedAt.getTime() - level1.receivedAt.getTime()).toBeGreaterThanOrEqual(3500);

    // Ola acknowledges through the API: escalation stops, twice is harmless.
    const ack = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${id}/acknowledge`,
      headers: h.auth('ola'),
    });
    expect(ack.statusCode).toBe(200);
    expect((ack.json() as IncidentView).state).toBe('acknowledged');
    expect((await get()).acknowledgedBy).toBe('ola');
    const ack2 = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${id}/acknowledge`,
      headers: h.auth('ola'),
    });
    expect(ack2.statusCode).toBe(200);
    expect((ack2.json() as IncidentView).state).toBe('acknowledged');

    // Well past level 2's timeout: no level-3 page.
    await new Promise((r) => setTimeout(r, 6000));
    expect(smtp.messages.filter((m) => m.to.includes('ingrid@test.local'))).toHaveLength(0);

    // "Resolved" while SSH is still blocked: the probe disagrees, the incident stays open.
    const resolve = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${id}/resolve`,
      headers: h.auth('ola'),
      payload: { note: 'operators say the rule is reverted' },
    });
    expect(resolve.statusCode).toBe(200);
    const stillOpen = await eventually(
      async () => {
        const v = await get();
        return v.timeline.some((e) => e.kind === 'recovery-check' && /still failing/.test(e.detail))
          ? v
          : undefined;
      },
      20_000,
      'a failing recovery check',
    );
    expect(stillOpen.state).toBe('resolving');
    expect(stillOpen.resolvedAt).toBeUndefined();

    // The firewall rule is reverted: the probe passes twice in a row, and only then is it resolved.
    await ssh.start();
    const resolved = await eventually(
      async () => {
        const v = await get();
        return v.state === 'resolved' ? v : undefined;
      },
      30_000,
      'resolved',
    );
    expect(
      resolved.timeline.filter((e) => e.kind === 'recovery-check' && /^pass/.test(e.detail)).length,
    ).toBeGreaterThanOrEqual(2);
    expect(resolved.status.at(-1)?.state).toBe('resolved');

    // Resolved notice to everyone paged; postmortem draft to the owner with every timeline event.
    await smtp.waitFor((m) => m.to.includes('ola@test.local') && /resolved/i.test(m.subject), 20_000);
    const pm = await smtp.waitFor(
      (m) => m.to.includes('kari@test.local') && /postmortem/i.test(m.subject),
      30_000,
    );
    const draft = pm.attachments.find((a) => a.filename?.endsWith('.md'));
    expect(draft).toBeDefined();
    const markdown = draft!.content.toString('utf8');
    const final = await get();
    let cursor = 0;
    for (const e of final.timeline.filter((x) => x.at <= pm.receivedAt.toISOString())) {
      const at = markdown.indexOf(e.at, cursor);
      expect(at, `timeline event ${e.at} ${e.kind} in the draft, in order`).toBeGreaterThanOrEqual(0);
      cursor = at;
    }
    expect(markdown).toMatch(/## Timeline/);

    // Acknowledging a resolved incident is a conflict, not a change.
    const late = await eventually(
      async () => {
        const r = await h.app.inject({
          method: 'POST',
          url: `/api/incidents/${id}/acknowledge`,
          headers: h.auth('kari'),
        });
        return r.statusCode === 409 ? r : undefined;
      },
      10_000,
      '409 on a closed incident',
    );
    expect((late.json() as { message: string }).message).toMatch(/resolved/);

    // Exactly one mail per page: nobody got the same page twice.
    const ids = smtp.messages.map((m) => m.messageId);
    expect(new Set(ids).size).toBe(ids.length);

    // The recorded history replays without non-determinism against the current workflow code.
    const handle = h.client.workflow.getHandle(final.workflowId, final.id.split('.')[1]);
    const history = await handle.fetchHistory();
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      history,
      final.workflowId,
    );
    if (process.env.RECORD_HISTORY) {
      // `npm run record-history` keeps this run's history as a replay fixture (test/fixtures/).
      const json = execFileSync(inject('temporalCli'), [
        'workflow',
        'show',
        '--address',
        inject('temporalAddress'),
        '-w',
        final.workflowId,
        '-r',
        final.id.split('.')[1]!,
        '--output',
        'json',
      ]);
      writeFileSync(process.env.RECORD_HISTORY, json);
    }
  }, 120_000);
});
