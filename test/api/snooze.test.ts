/**
 * Snoozing an acknowledged incident through the API, against a real Temporal dev server and SMTP:
 * a 5 s snooze is recorded with its actor, and when it is over the incident is triggered again and
 * the acknowledger and the current level are paged again. In the past or over 24 h is 400, an
 * unacknowledged incident 409, no role 403.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { validateConfig } from '../../config/load.js';
import type { IncidentView } from '../../domain/incident.js';

describe('snooze API', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let h: Harness;
  let serviceId: string;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    const t = testConfig({ levelTimeout: '10m' });
    serviceId = t.serviceId;
    const raw = JSON.parse(JSON.stringify(t.config)) as { contacts: { id: string; roles?: string[] }[] };
    for (const c of raw.contacts) if (c.id === 'per') c.roles = [];
    h = await startHarness({ config: validateConfig(raw, 'snooze'), smtpUrl: smtp.url });
  });

  afterAll(async () => {
    await h?.close();
    await smtp?.close();
  });

  const post = (url: string, payload: object, who: string) =>
    h.app.inject({ method: 'POST', url, payload, headers: h.auth(who) });
  const view = async (id: string) =>
    (await h.app.inject({ url: `/api/incidents/${id}`, headers: h.auth('per') })).json() as IncidentView;

  it('a 5 s snooze: recorded, then triggered again and the level paged again', async () => {
    const declared = await post(
      '/api/incidents',
      { service: serviceId, reason: 'exports are late', skipVerify: true },
      'ola',
    );
    expect(declared.statusCode, declared.body).toBe(201);
    const id = (declared.json() as { incident: IncidentView }).incident.id;
    const toKari = (m: { to: string[] }) => m.to.includes('kari@test.local');
    await smtp.waitFor(toKari, 30_000);
    const url = `/api/incidents/${id}/snooze`;

    const early = await post(url, { until: '30m' }, 'kari');
    expect(early.statusCode).toBe(409);
    expect(early.json().message).toBe(
      'state: only an acknowledged incident can be snoozed; this one is triggered',
    );
    expect((await post(`/api/incidents/${id}/acknowledge`, {}, 'kari')).statusCode).toBe(200);

    const far = await post(url, { until: '25h' }, 'kari');
    expect(far.statusCode).toBe(400);
    expect(far.json().message).toBe('until: at most 24 hours ahead');
    const past = await post(url, { until: new Date(Date.now() - 60_000).toISOString() }, 'kari');
    expect(past.statusCode).toBe(400);
    expect(past.json().message).toBe('until: that time has passed');
    const forbidden = await post(url, { until: '30m' }, 'per');
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().message).toMatch(/^Snoozing needs the responder role/);

    const asked = Date.now();
    const snoozed = await post(url, { until: '5s' }, 'kari');
    expect(snoozed.statusCode, snoozed.body).toBe(200);
    const v = await view(id);
    expect(v.state).toBe('acknowledged');
    const line = v.timeline.find((e) => e.kind === 'snoozed');
    expect(line).toMatchObject({ actor: 'kari' });
    expect(line!.detail).toMatch(
      /^kari snoozed until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC; then it is paged again unless resolved$/,
    );
    const until = Date.parse(
      line!.detail.slice('kari snoozed until '.length, 'kari snoozed until '.length + 19).replace(' ', 'T') +
        'Z',
    );
    expect(until).toBeGreaterThanOrEqual(Math.floor(asked / 1000) * 1000 + 4_000);

    // Kari (who acknowledged, and is level 1) is paged again once the snooze is over.
    const [, again] = await smtp.waitForCount(toKari, 2, 60_000);
    expect(again!.subject).toMatch(/level 1 page \(snooze over\)$/);
    expect(again!.text).toContain(
      'the snooze is over and it is not resolved, so you are paged again (level 1)',
    );
    expect(again!.receivedAt.getTime()).toBeGreaterThanOrEqual(until);
    const after = await eventually(
      async () => {
        const x = await view(id);
        return x.state === 'triggered' ? x : undefined;
      },
      15_000,
      'triggered again',
    );
    expect(after.timeline.filter((e) => e.kind === 'ack-timeout').at(-1)?.detail).toMatch(
      /^the snooze until .* UTC is over and it is not resolved; back to unacknowledged, escalation resumes$/,
    );
  });
});
