/**
 * Team webhooks (teams[].webhooks) signed per Standard Webhooks when they name a `secretEnv`: a local
 * receiver records the exact request and verifies it with the `standardwebhooks` reference library;
 * a retry of the same message carries the same `webhook-id`; an unset or malformed secret posts
 * nothing and fails for good.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createWebhookNotifier } from '../../../activities/notifiers/webhook.js';
import { createSecretResolver } from '../../../activities/secrets.js';
import type { Config } from '../../../domain/config-schema.js';
import type { ChatEvent } from '../../../domain/chat.js';
import { startHttpService, type HttpService } from '../../helpers/http-service.js';

const secret = `whsec_${Buffer.from('a team webhook secret of 32 bytes').toString('base64')}`;
let svc: HttpService;
beforeAll(async () => {
  svc = await startHttpService({ status: 204 });
});
afterAll(() => svc.close());

const event: ChatEvent = {
  kind: 'opened',
  incidentId: 'fs-canvas.run-1',
  service: 'FS → Canvas integration',
  severity: 'P1',
  state: 'triggered',
  title: 'FS → Canvas integration is down',
  text: 'The nightly export has not arrived.',
  url: 'https://incidents.example.org/console/incidents/fs-canvas.run-1',
  at: '2026-12-02T03:00:00.000Z',
};

function notifier(
  env: Record<string, string | undefined>,
  secretEnv: string | undefined = 'TEAM_HOOK_SECRET',
) {
  const config = {
    teams: [
      {
        id: 'integration',
        name: 'Integration team',
        members: ['kari'],
        webhooks: [
          { format: 'json', url: `${svc.url}/hooks/integration`, ...(secretEnv ? { secretEnv } : {}) },
          { format: 'slack', url: `${svc.url}/services/T0/B0/X` },
        ],
      },
    ],
    checks: [],
  } as unknown as Config;
  return createWebhookNotifier({ secrets: createSecretResolver({ config, env }) });
}

describe('team webhooks', () => {
  it('signs a json webhook per Standard Webhooks; the receiver verifies it with the library', async () => {
    const n = notifier({ TEAM_HOOK_SECRET: secret });
    const before = Math.floor(Date.now() / 1000);
    await n.postWebhook({
      idempotencyKey: 'incident-fs-canvas/run-1/opened',
      format: 'json',
      team: 'integration',
      index: 0,
      event,
    });
    const req = svc.requests.at(-1)!;
    expect(req.url).toBe('/hooks/integration');
    const headers = {
      'webhook-id': String(req.headers['webhook-id']),
      'webhook-timestamp': String(req.headers['webhook-timestamp']),
      'webhook-signature': String(req.headers['webhook-signature']),
    };
    expect(headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(Number(headers['webhook-timestamp'])).toBeGreaterThanOrEqual(before);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const verified = new Webhook(secret).verify(req.body, headers) as { incidentId?: string };
    expect(JSON.stringify(verified)).toContain('fs-canvas.run-1');
    expect(() => new Webhook(secret).verify(req.body.replace('run-1', 'run-2'), headers)).toThrow();
    const other = `whsec_${Buffer.from('another secret of thirty-two byte').toString('base64')}`;
    expect(() => new Webhook(other).verify(req.body, headers)).toThrow();

    // A retry of the same message: the same webhook-id, so the receiver can drop the duplicate.
    await n.postWebhook({
      idempotencyKey: 'incident-fs-canvas/run-1/opened',
      format: 'json',
      team: 'integration',
      index: 0,
      event,
    });
    expect(svc.requests.at(-1)!.headers['webhook-id']).toBe(headers['webhook-id']);
  });

  it('leaves a webhook without secretEnv unsigned', async () => {
    await notifier({}).postWebhook({
      idempotencyKey: 'k2',
      format: 'slack',
      team: 'integration',
      index: 1,
      event,
    });
    const req = svc.requests.at(-1)!;
    expect(req.url).toBe('/services/T0/B0/X');
    expect(req.headers['webhook-signature']).toBeUndefined();
  });

  it('posts nothing when the secret is unset or not a whsec_ secret, and fails for good naming the variable', async () => {
    const count = svc.requests.length;
    const unset = await notifier({})
      .postWebhook({ idempotencyKey: 'k3', format: 'json', team: 'integration', index: 0, event })
      .catch((e: unknown) => e as { message: string; nonRetryable: boolean });
    expect(unset).toMatchObject({
      nonRetryable: true,
      message: expect.stringContaining('TEAM_HOOK_SECRET is not set'),
    });
    const bad = await notifier({ TEAM_HOOK_SECRET: 'plain words' })
      .postWebhook({ idempotencyKey: 'k4', format: 'json', team: 'integration', index: 0, event })
      .catch((e: unknown) => e as { message: string; nonRetryable: boolean });
    expect(bad).toMatchObject({ nonRetryable: true, message: expect.stringContaining('whsec_') });
    expect(JSON.stringify(bad)).not.toContain('plain words');
    expect(svc.requests.length).toBe(count);
  });
});
