/**
 * The generic JSON webhook, signed per Standard Webhooks: the receiver here verifies with the
 * reference library (`standardwebhooks`), the way a customer's receiver would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createWebhookChannel } from '../../../../activities/notifiers/channels/webhook.js';
import { startHttpService, type HttpService } from '../../../helpers/http-service.js';
import { assertRefusals, failureOf, page } from './contract.js';

let rx: HttpService;
beforeAll(async () => {
  rx = await startHttpService();
});
afterAll(() => rx.close());
const secret = `whsec_${Buffer.from('a-32-byte-webhook-signing-key!!!').toString('base64')}`;
const hook = (env: Record<string, string> = { HOOK_SECRET: secret }) =>
  createWebhookChannel({
    settings: { webhook: { url: `${rx.url}/hooks/incidents`, secretEnv: 'HOOK_SECRET' } },
    env,
  });
const last = () => rx.requests[rx.requests.length - 1]!;

describe('webhook channel', () => {
  it('signs with webhook-id, webhook-timestamp and webhook-signature that the reference library verifies', async () => {
    rx.answer({ status: 204 });
    const msg = page({ to: 'kari' });
    const r = await hook().send(msg);
    const req = last();
    const headers = {
      'webhook-id': String(req.headers['webhook-id']),
      'webhook-timestamp': String(req.headers['webhook-timestamp']),
      'webhook-signature': String(req.headers['webhook-signature']),
    };
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(Math.abs(Number(headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(10);
    const payload = new Webhook(secret).verify(req.body, headers) as {
      type: string;
      data: Record<string, unknown>;
    };
    expect(payload.type).toBe('incident.paged');
    expect(payload.data).toMatchObject({
      incidentId: 'inc-42',
      severity: 'P1',
      recipient: { id: 'kari', name: 'Kari Nordmann', to: 'kari' },
      ackUrl: 'https://incidents.example.org/ack/YTF-token.sig',
    });
    expect(r.messageId).toBe(headers['webhook-id']);
    // A retry of the same message carries the same webhook-id (receivers deduplicate on it).
    await hook().send(msg);
    expect(last().headers['webhook-id']).toBe(headers['webhook-id']);
    // Tampered bodies do not verify.
    expect(() => new Webhook(secret).verify(req.body.replace('inc-42', 'inc-43'), headers)).toThrow();
  });

  it('refusals: 401 permanent, 429 after Retry-After, 500 retried; a malformed secret is permanent, naming its variable', async () => {
    await assertRefusals(rx, hook(), () => page(), {
      unauthorized: { status: 401, body: 'invalid signature' },
      tooMany: { status: 429, body: 'slow down' },
      serverError: { status: 500, body: 'oops' },
    });
    const before = rx.requests.length;
    const e = await failureOf(hook({ HOOK_SECRET: 'not base64 !!' }).send(page()));
    expect(e.nonRetryable).toBe(true);
    expect(e.message).toContain('HOOK_SECRET');
    expect(rx.requests.length).toBe(before);
  });
});
