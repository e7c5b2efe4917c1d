/**
 * Escalation on a real dev server with real mail: the chain, its repeat and the final fallback when
 * nobody answers, and PagerDuty's acknowledgement timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import type { IncidentView } from '../../domain/incident.js';

type Smtp = Awaited<ReturnType<typeof startSmtpServer>>;

describe('escalation', () => {
  let smtp: Smtp;
  const harnesses: Harness[] = [];

  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(async () => {
    for (const h of harnesses) await h.close();
    await smtp?.close();
  });

  const declare = async (h: Harness, serviceId: string) => {
    const r = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('kari'),
      payload: { service: serviceId, reason: 'nobody home' },
    });
    expect(r.statusCode).toBe(201);
    return (r.json() as { incident: IncidentView }).incident.id;
  };
  const pagesFor = (id: string) =>
    smtp.messages.filter((m) => m.subject.includes(id.split('.')[0]!) || m.text.includes(id));

  it('walks every level, repeats the chain, then the final fallback, each page once and in order', async () => {
    const t = testConfig({ levelTimeout: '1s', repeat: 1 });
    const h = await startHarness({ config: t.config, smtpUrl: smtp.url });
    harnesses.push(h);
    const id = await declare(h, t.serviceId);
    const view = await eventually(
      async () => {
        const v = await h.incidents.get(id);
        return v.paged.length === 7 && v.timeline.filter((e) => e.kind === 'paged').length === 7
          ? v
          : undefined;
      },
      30_000,
      'seven pages',
    );
    expect(view.paged.map((p) => `${p.cycle}:${p.level}:${p.recipient.id}`)).toEqual([
      '0:1:kari',
      '0:2:ola',
      '0:3:ingrid',
      '1:1:kari',
      '1:2:ola',
      '1:3:ingrid',
      '2:0:per',
    ]);
    const mails = await smtp.waitForCount((m) => m.text.includes(id), 7, 10_000);
    expect(mails.map((m) => m.to[0])).toEqual([
      'kari@test.local',
      'ola@test.local',
      'ingrid@test.local',
      'kari@test.local',
      'ola@test.local',
      'ingrid@test.local',
      'per@test.local',
    ]);
    // After the fallback there is nobody left: no more pages, the incident stays open for whoever acts.
    await new Promise((r) => setTimeout(r, 2500));
    expect((await h.incidents.get(id)).paged).toHaveLength(7);
    expect(pagesFor(id).length).toBeGreaterThanOrEqual(7);
  });

  it('an acknowledgement that times out goes back to unacknowledged and re-pages the acknowledger and the level', async () => {
    const t = testConfig({ levelTimeout: '3s', acknowledgementTimeout: '3s' });
    const h = await startHarness({ config: t.config, smtpUrl: smtp.url });
    harnesses.push(h);
    const id = await declare(h, t.serviceId);
    await smtp.waitFor((m) => m.text.includes(id) && m.to.includes('ola@test.local'), 20_000);
    // Kari (level 1) acknowledges while level 2 (Ola) is current.
    const ack = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${id}/acknowledge`,
      headers: h.auth('kari'),
    });
    expect(ack.statusCode).toBe(200);
    const view = await eventually(
      async () => {
        const v = await h.incidents.get(id);
        return v.paged.some((p) => p.reason === 'ack-timeout') ? v : undefined;
      },
      20_000,
      'acknowledgement timeout',
    );
    expect(view.state).toBe('triggered');
    expect(view.timeline.some((e) => e.kind === 'ack-timeout')).toBe(true);
    expect(view.paged.filter((p) => p.reason === 'ack-timeout').map((p) => p.recipient.id)).toEqual([
      'kari',
      'ola',
    ]);
    // Escalation resumes: level 3 follows after the level's timeout.
    await smtp.waitFor((m) => m.text.includes(id) && m.to.includes('ingrid@test.local'), 20_000);
  });
});
