/**
 * A person's notification rules survive continue-as-new: an incident flooded with notes continues
 * as a new run (its history bound) while Kari's SMS rule is still waiting; the new run sends that
 * SMS at its time, once, and the push that went before it is not sent again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { validateConfig } from '../../config/load.js';
import type { IncidentView } from '../../domain/incident.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { startHttpService, type HttpService } from '../helpers/http-service.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';

const smsAfterMs = 90_000;

describe('notification rules across continue-as-new', () => {
  let smtp: TestSmtpServer;
  let ntfy: HttpService;
  let sms: HttpService;
  let h: Harness | undefined;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    ntfy = await startHttpService({ status: 200, body: '{"id":"c1","event":"message"}' });
    sms = await startHttpService({ status: 200, body: '{"id":"s1","state":"Pending"}' });
  });
  afterAll(async () => {
    await h?.close();
    await smtp?.close();
    await ntfy?.close();
    await sms?.close();
  });

  it('a waiting SMS rule is carried into the next run and sent once, at its time', async () => {
    const serviceId = `svc-${randomUUID().slice(0, 8)}`;
    const config = validateConfig(
      {
        contacts: [
          {
            id: 'kari',
            name: 'Kari Nordmann',
            email: 'kari@test.local',
            methods: [
              { id: 'push', kind: 'ntfy', to: 'kari-pager' },
              { id: 'phone', kind: 'sms', to: '+4791234567' },
            ],
            rules: [
              { method: 'push', after: 0 },
              { method: 'phone', after: `${smsAfterMs / 1000}s` },
            ],
          },
          { id: 'per', name: 'Per Johansen', email: 'per@test.local' },
        ],
        channels: {
          ntfy: { url: ntfy.url },
          sms: { url: `${sms.url}/message`, body: '{"phoneNumbers":[{{to}}],"message":{{message}}}' },
        },
        policies: [
          { id: 'p', levels: [{ notify: ['kari'], ackTimeout: '30m' }], acknowledgementTimeout: '1h' },
        ],
        services: [{ id: serviceId, name: 'Canvas export', owner: 'per', policy: 'p' }],
        incidents: { verifyAttempts: 1, verifyInterval: '1s', recoveryPasses: 1, recoveryInterval: '1s' },
      },
      'test',
    );
    h = await startHarness({ config, smtpUrl: smtp.url });
    const harness = h;
    const r = await harness.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: harness.auth('per'),
      payload: { service: serviceId, reason: 'exports stopped' },
    });
    expect(r.statusCode, r.body).toBe(201);
    const id = (r.json() as { incident: IncidentView }).incident.id;
    await eventually(async () => ntfy.requests[0], 15_000, 'the push');
    const pagedAt = Date.now();

    // Long notes until the run passes its history bound and continues as new.
    const note = 'n'.repeat(9_000);
    const runs = async () => (await harness.store.records.getIncident(id))?.runs ?? 1;
    let sent = 0;
    while ((await runs()) < 2) {
      expect(sent, 'continued-as-new within 600 notes').toBeLessThan(600);
      const batch = await Promise.all(
        Array.from({ length: 10 }, () =>
          harness.app.inject({
            method: 'POST',
            url: `/api/incidents/${id}/notes`,
            headers: harness.auth('per'),
            payload: { text: note },
          }),
        ),
      );
      for (const b of batch) expect(b.statusCode, b.body).toBe(200);
      sent += batch.length;
    }
    // The precondition of this test: the new run began while the SMS was still waiting.
    expect(sms.requests, 'the SMS went before the run continued (the flood was too slow)').toHaveLength(0);

    await eventually(async () => sms.requests[0], smsAfterMs + 30_000, 'the SMS');
    expect(Date.now() - pagedAt).toBeGreaterThanOrEqual(smsAfterMs - 2_000);
    const v = await eventually(
      async () => {
        const x = await harness.store.records.getIncident(id);
        return x?.deliveries?.some((d) => d.method === 'phone' && d.outcome === 'accepted') && x;
      },
      20_000,
      'the SMS recorded',
    );
    expect(v.runs).toBeGreaterThanOrEqual(2);
    expect(v.deliveries!.map((d) => `${d.method}:${d.outcome}`)).toEqual([
      'push:queued',
      'push:accepted',
      'phone:queued',
      'phone:accepted',
    ]);
    expect(ntfy.requests).toHaveLength(1);
    expect(sms.requests).toHaveLength(1);
  }, 240_000);
});
