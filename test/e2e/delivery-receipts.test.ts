/**
 * Delivery receipts end to end: a real dev server and worker, the record store, and a local HTTP
 * server standing in for Twilio's Messages API (it records the request and answers 201 with the
 * documented message resource). The page's form carries `StatusCallback` = its signed receipt URL;
 * the test then posts Twilio's documented status callbacks there: `sent` is not recorded,
 * `delivered` is recorded once as a delivered attempt (in the timeline and in `deliveries`), a
 * forged token is 401 and records nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { validateConfig } from '../../config/load.js';
import type { IncidentView } from '../../domain/incident.js';
import { startHttpService, type HttpService } from '../helpers/http-service.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';

describe('delivery receipts (Twilio status callback)', () => {
  let twilio: HttpService;
  let h: Harness;
  let serviceId = '';

  beforeAll(async () => {
    twilio = await startHttpService();
    serviceId = `svc-${randomUUID().slice(0, 8)}`;
    const raw = {
      contacts: [
        {
          id: 'kari',
          name: 'Kari Nordmann',
          email: 'kari@test.local',
          methods: [{ id: 'phone', kind: 'sms', to: '+4791234567' }],
          rules: [{ method: 'phone', after: 0 }],
        },
        { id: 'per', name: 'Per Johansen', email: 'per@test.local' },
      ],
      channels: {
        // Twilio's form API: POST …/Messages.json with To, From, Body and StatusCallback.
        sms: {
          url: `${twilio.url}/2010-04-01/Accounts/ACtest/Messages.json`,
          contentType: 'form',
          body: 'To={{to}}&From=%2B4759000000&Body={{message}}&StatusCallback={{receiptUrl}}',
        },
      },
      policies: [
        { id: 'chain', levels: [{ notify: ['kari'], ackTimeout: '10m' }], acknowledgementTimeout: '1h' },
      ],
      services: [
        { id: serviceId, name: 'FS → Canvas integration', owner: 'per', policy: 'chain', severity: 'P1' },
      ],
      incidents: { verifyAttempts: 1, verifyInterval: '1s', recoveryPasses: 1, recoveryInterval: '1s' },
    };
    h = await startHarness({ config: validateConfig(raw, 'receipts') });
  });
  afterAll(async () => {
    await h?.close();
    await twilio?.close();
  });

  const view = async (id: string) =>
    (await h.app.inject({ url: `/api/incidents/${id}`, headers: h.auth('per') })).json() as IncidentView;
  const callback = (path: string, form: Record<string, string>) =>
    h.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(form).toString(),
    });

  it('records delivered from the status callback once; progress is not recorded; a forged token is 401', async () => {
    twilio.answer({
      status: 201,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sid: 'SM3f1b2c', status: 'queued', to: '+4791234567', num_segments: '1' }),
    });
    const declared = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('per'),
      payload: { service: serviceId, reason: 'exports to Canvas stopped', skipVerify: true },
    });
    expect(declared.statusCode, declared.body).toBe(201);
    const id = (declared.json() as { incident: IncidentView }).incident.id;

    const sent = await eventually(async () => twilio.requests[0], 15_000, 'the SMS');
    const form = new URLSearchParams(sent.body);
    expect(form.get('To')).toBe('+4791234567');
    const receipt = new URL(form.get('StatusCallback') ?? 'http://missing/');
    expect(receipt.pathname).toMatch(/^\/api\/receipts\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    await eventually(
      async () => (await view(id)).deliveries?.some((d) => d.channel === 'sms' && d.outcome === 'accepted'),
      15_000,
      'the accepted SMS attempt',
    );

    // Twilio's documented callbacks: first the progress, then the handset's report.
    const progress = await callback(receipt.pathname, { MessageSid: 'SM3f1b2c', MessageStatus: 'sent' });
    expect(progress.statusCode, progress.body).toBe(200);
    expect(progress.json()).toEqual({ recorded: false, message: 'nothing to record: the status is "sent"' });
    for (let i = 0; i < 2; i++) {
      const done = await callback(receipt.pathname, {
        MessageSid: 'SM3f1b2c',
        MessageStatus: 'delivered',
        To: '+4791234567',
      });
      expect(done.statusCode, done.body).toBe(200);
      expect(done.json()).toEqual({ recorded: true, message: 'recorded: delivered' });
    }
    const delivered = await eventually(
      async () => {
        const v = await view(id);
        return v.deliveries?.some((d) => d.outcome === 'delivered') ? v : undefined;
      },
      15_000,
      'the delivered attempt',
    );
    expect(delivered.deliveries!.filter((d) => d.outcome === 'delivered')).toEqual([
      expect.objectContaining({
        channel: 'sms',
        recipientId: 'kari',
        detail: 'SMS page to Kari Nordmann delivered (the service reports it)',
      }),
    ]);
    expect(delivered.timeline.map((e) => e.detail)).toContain(
      'SMS page to Kari Nordmann delivered (the service reports it)',
    );

    // A forged token: 401, nothing recorded.
    const token = receipt.pathname.split('/').pop()!;
    const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    const refused = await callback(`/api/receipts/${forged}`, {
      MessageSid: 'SM3f1b2c',
      MessageStatus: 'undelivered',
    });
    expect(refused.statusCode).toBe(401);
    expect(refused.json().message).toBe('not a valid receipt link');
    await new Promise((r) => setTimeout(r, 500));
    expect((await view(id)).deliveries!.some((d) => d.outcome === 'failed')).toBe(false);
  });
});
