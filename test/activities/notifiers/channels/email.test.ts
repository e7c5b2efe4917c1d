/**
 * The email channel (a contact's notification rules) through the real notifier to the test SMTP
 * server: the page arrives as multipart text + HTML, the HTML with the Acknowledge button (the
 * signed link `deliver` added) and the console button, the reason escaped.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmailChannel } from '../../../../activities/notifiers/channels/email.js';
import { createEmailNotifier } from '../../../../activities/notifiers/email.js';
import { pageMail } from '../../../../domain/templates.js';
import { buildOpenIncidentView, people } from '../../../helpers/incident-fixture.js';
import { startSmtpServer, type TestSmtpServer } from '../../../helpers/smtp-server.js';

describe('email channel', () => {
  let smtp: TestSmtpServer;
  let dir: string;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    dir = await mkdtemp(join(tmpdir(), 'email-channel-'));
  });
  afterAll(async () => {
    await smtp?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends the page as text and HTML with the acknowledge and console buttons', async () => {
    const email = createEmailNotifier({
      smtpUrl: smtp.url,
      outboxDir: join(dir, 'outbox'),
      ledgerDir: join(dir, 'ledger'),
      from: 'Incidents <incidents@example.test>',
      log: () => {},
    });
    const channel = createEmailChannel({ settings: {}, env: {}, email });
    const consoleUrl = 'https://incidents.example/console/incidents/inc-1';
    const view = buildOpenIncidentView(1, { reason: '<script>alert(1)</script> & more' });
    const m = pageMail(
      view,
      { level: 1, cycle: 0, reason: 'initial' },
      people.owner,
      { incidentUrl: 'https://incidents.example/api/incidents/inc-1', consoleUrl },
      { kind: 'nobody' },
    );
    const ackUrl = 'https://incidents.example/ack/signed.token';
    const r = await channel.send({
      idempotencyKey: `email-channel/${Math.random()}`,
      to: people.owner.email,
      recipient: { id: people.owner.id, name: people.owner.name },
      page: {
        incidentId: 'inc-1',
        title: 'FS: DOWN',
        text: m.text,
        severity: 'P1',
        service: 'fs',
        consoleUrl,
      },
      ackUrl,
    });
    expect(r.status).toBe('accepted');
    email.close();

    const got = await smtp.waitFor((x) => x.to.includes(people.owner.email));
    expect(got.headers['content-type']).toMatch(/^multipart\/alternative/);
    expect(got.text).toContain(`Acknowledge: ${ackUrl}`);
    expect(got.text).toContain('<script>alert(1)</script> & more');
    expect(got.html).toContain(`data-role="ack" href="${ackUrl}"`);
    expect(got.html).toContain(`data-role="console" href="${consoleUrl}"`);
    expect(got.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; more');
    expect(got.html).not.toContain('<script');
    expect(got.html).toMatch(/data-role="next"[^]*nobody further/);
  });
});
