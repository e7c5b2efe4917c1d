/**
 * Issue #13 item 3 on real parts (dev server, a real ssh2 server, real SMTP): a monitor opens the
 * incident; the page of the only level says nobody further is paged; verification names the monitor;
 * the monitors' recovery is what the resolved mail and the postmortem both state; the postmortem
 * gives the first failing probe and time to detect = opened − first failing probe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { startSshServer } from '../helpers/ssh-server.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { validateConfig } from '../../config/load.js';
import type { Config } from '../../domain/config-schema.js';
import { incidentFigures } from '../../domain/postmortem.js';
import { recoveryFacts, recoverySentences } from '../../domain/recovery-facts.js';

type Smtp = Awaited<ReturnType<typeof startSmtpServer>>;

describe('a monitor-detected incident says only what is true', () => {
  let smtp: Smtp;
  let h: Harness | undefined;
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(async () => {
    await h?.close();
    await smtp?.close();
  });

  it('postmortem: time to detect = opened − first failing probe; one recovery story; nobody further after the last level', async () => {
    const ssh = await startSshServer();
    try {
      const prefix = `t-${randomUUID().slice(0, 8)}`;
      const config = validateConfig(
        JSON.parse(
          JSON.stringify({
            contacts: [{ id: 'kari', name: 'Kari Nordmann', email: 'kari@test.local' }],
            policies: [
              { id: 'solo', levels: [{ notify: ['kari'], ackTimeout: '1m' }], acknowledgementTimeout: '10m' },
            ],
            services: [
              {
                id: `${prefix}-host`,
                name: 'data-sync host',
                type: 'host',
                owner: 'kari',
                policy: 'solo',
                severity: 'P1',
              },
            ],
            checks: [
              {
                id: `${prefix}-ssh`,
                service: `${prefix}-host`,
                kind: 'ssh',
                host: '127.0.0.1',
                port: ssh.port,
                fingerprint: ssh.fingerprint,
                interval: '1s',
                timeout: '1s',
                failThreshold: 3,
                recoverThreshold: 2,
              },
            ],
            incidents: { verifyAttempts: 1, verifyInterval: '1s', recoveryPasses: 2, recoveryInterval: '1s' },
          }),
        ),
        'test',
      ) as Config;
      h = await startHarness({ config, smtpUrl: smtp.url, monitors: true });
      await new Promise((r) => setTimeout(r, 2500));
      await ssh.stop();
      const open = await eventually(
        async () => {
          try {
            return await h!.incidents.get(`${prefix}-host`);
          } catch {
            return undefined;
          }
        },
        15_000,
        'incident opened by the monitor',
      );
      expect(open.source).toBe('probe');
      const verified = open.timeline.find((e) => e.kind === 'verified')!;
      expect(verified.detail).toMatch(/the monitor monitor:.*-ssh already saw its check fail/);
      expect(verified.detail).not.toMatch(/reporter vouches/);

      // The only level: the page promises nobody further, and the view (the console) says so.
      const pageMail = await smtp.waitFor(
        (m) => m.text.includes(open.id) && /level 1/.test(m.subject),
        15_000,
      );
      expect(pageMail.text).toContain('This is the last level: nobody further is paged automatically.');
      expect(pageMail.text).not.toContain('the next person is paged automatically');
      const waiting = await eventually(
        async () => {
          const v = await h!.incidents.get(open.id);
          return v.paged.length > 0 ? v : undefined;
        },
        10_000,
        'paged',
      );
      expect(waiting.nobodyFurther).toBe(true);
      expect(waiting.nextEscalationAt).toBeUndefined();
      const consolePage = await h.app.inject({
        method: 'GET',
        url: `/console/incidents/${open.id}`,
        headers: h.auth('kari'),
      });
      expect(consolePage.statusCode).toBe(200);
      expect(consolePage.body).toContain('nobody further: the last level has been paged');

      await ssh.start();
      const resolved = await eventually(
        async () => {
          const v = await h!.incidents.get(open.id);
          return v.state === 'resolved' ? v : undefined;
        },
        25_000,
        'resolved by the monitor',
      );
      expect(resolved.recoveryProof).toBe('keys');
      const story = recoverySentences(recoveryFacts(resolved));
      expect(story[0]).toMatch(/^Recovery was proven by the monitoring that reported it/);

      const resolvedMail = await smtp.waitFor(
        (m) => m.text.includes(open.id) && /RESOLVED/.test(m.subject),
        15_000,
      );
      for (const s of story) expect(resolvedMail.text).toContain(s);
      expect(resolvedMail.text).not.toMatch(/No probe proved/);

      const pmMail = await smtp.waitFor(
        (m) => m.text.includes(open.id) && /Postmortem due/.test(m.subject),
        30_000,
      );
      const draft = pmMail.attachments.find((a) => a.filename.endsWith('.md'))!.content.toString('utf8');
      const first = resolved.firstProbeFailureAt!;
      expect(first).toMatch(/^\d{4}-\d\d-\d\dT/);
      const toDetectMs = Date.parse(resolved.openedAt) - Date.parse(first);
      expect(toDetectMs).toBeGreaterThan(0);
      const fig = incidentFigures({ ...resolved, timeline: resolved.timeline });
      expect(fig.timeToDetectMs).toBe(toDetectMs);
      const shown = `${Math.round(toDetectMs / 1000)}s`;
      expect(draft).toContain(`- First failing probe: ${first}.`);
      expect(draft).toContain(`- Time to detect (opened − first failing probe): ${shown}.`);
      expect(draft).toContain(`| Time to detect (first failing probe → opened) | ${shown} |`);
      expect(draft).not.toContain('no failing probe recorded');
      expect(draft).not.toContain('none ran');
      expect(draft).toContain(story[0]!.replace(/[\\`*_[\]<>&|~!{}#]/g, '\\$&'));
      console.log(
        `[must-show] opened ${resolved.openedAt}, first failing probe ${first}, time to detect ${toDetectMs} ms → draft "${shown}"`,
      );
    } finally {
      await ssh.close();
    }
  }, 90_000);
});
