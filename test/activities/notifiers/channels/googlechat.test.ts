/**
 * Google Chat: the exact webhook post (https://developers.google.com/workspace/chat/quickstart/webhooks)
 * against a local server answering as Google Chat does: 200 with the created message, and
 * `{"error":{"code","message","status"}}` for 401 UNAUTHENTICATED, 429 RESOURCE_EXHAUSTED and 503.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGoogleChatChannel } from '../../../../activities/notifiers/channels/googlechat.js';
import { startHttpService, type HttpService } from '../../../helpers/http-service.js';
import { assertRefusals, failureOf, page } from './contract.js';

let chat: HttpService;
beforeAll(async () => {
  chat = await startHttpService();
});
afterAll(() => chat.close());

const googleError = (code: number, status: string, message: string) => ({
  status: code,
  headers: { 'content-type': 'application/json; charset=UTF-8' },
  body: JSON.stringify({ error: { code, message, status } }),
});

describe('Google Chat channel', () => {
  const path = '/v1/spaces/AAAAx1/messages?key=test-key&token=test-token';
  const channel = () =>
    createGoogleChatChannel({
      settings: { googlechat: { urlEnv: 'GOOGLE_CHAT_WEBHOOK_URL' } },
      env: { GOOGLE_CHAT_WEBHOOK_URL: `${chat.url}${path}` },
    });

  it('posts a text message mentioning the contact, with links to the incident and the ack page', async () => {
    chat.answer({
      status: 200,
      headers: { 'content-type': 'application/json; charset=UTF-8' },
      body: JSON.stringify({
        name: 'spaces/AAAAx1/messages/Bm1.Bm1',
        sender: { name: 'users/114022495153014004089', type: 'BOT' },
        createTime: '2026-12-02T16:00:00.000000Z',
      }),
    });
    const before = chat.requests.length;
    const r = await channel().send(page({ to: 'users/112233445566778899' }));
    expect(r).toEqual({ messageId: 'spaces/AAAAx1/messages/Bm1.Bm1', duplicate: false, status: 'accepted' });
    const req = chat.requests[before]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe(path);
    expect(req.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(JSON.parse(req.body)).toEqual({
      text:
        '<users/112233445566778899> you are paged: *P1 FS → Canvas integration is down*\n' +
        'The nightly export has not arrived for 3 hours.\n' +
        '<https://incidents.example.org/console/incidents/inc-42|Open incident> · ' +
        '<https://incidents.example.org/ack/YTF-token.sig|Acknowledge>',
    });
  });

  it('an unset webhook variable fails for good, naming it; refusals follow the contract', async () => {
    const unset = createGoogleChatChannel({
      settings: { googlechat: { urlEnv: 'GOOGLE_CHAT_WEBHOOK_URL' } },
      env: {},
    });
    const e = await failureOf(unset.send(page()));
    expect(e.nonRetryable).toBe(true);
    expect(e.message).toMatch(/GOOGLE_CHAT_WEBHOOK_URL is not set/);

    await assertRefusals(chat, channel(), () => page({ to: 'users/1' }), {
      unauthorized: googleError(
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      ),
      tooMany: googleError(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).'),
      serverError: googleError(503, 'UNAVAILABLE', 'The service is currently unavailable.'),
    });
  });
});
