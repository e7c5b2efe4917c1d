/**
 * ntfy: the exact JSON publish (https://docs.ntfy.sh/publish/#publish-as-json) against a local server
 * answering as ntfy does: 200 with the message JSON, 401 {"code":40101,…}, 429 {"code":42901,…}, 5xx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNtfyChannel } from '../../../../activities/notifiers/channels/ntfy.js';
import { startHttpService, type HttpService } from '../../../helpers/http-service.js';
import { assertRefusals, failureOf, page } from './contract.js';

let ntfy: HttpService;
beforeAll(async () => {
  ntfy = await startHttpService();
});
afterAll(() => ntfy.close());

const published = (topic: string) => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: `{"id":"hwQ2YpKdmg","time":1735689600,"expires":1735732800,"event":"message","topic":"${topic}","title":"x","message":"x","priority":5}\n`,
});

describe('ntfy channel', () => {
  const channel = () =>
    createNtfyChannel({
      settings: { ntfy: { url: ntfy.url, tokenEnv: 'NTFY_TOKEN' } },
      env: { NTFY_TOKEN: 'tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2' },
    });

  it('publishes a P1 page at priority 5 with tags, the console click URL and an Acknowledge action POSTing the ack link', async () => {
    ntfy.answer(published('kari-pager'));
    const before = ntfy.requests.length;
    const r = await channel().send(page({ to: 'kari-pager' }));
    expect(r).toEqual({ messageId: 'hwQ2YpKdmg', duplicate: false, status: 'accepted' });
    const req = ntfy.requests[before]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/');
    expect(req.headers.authorization).toBe('Bearer tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual({
      topic: 'kari-pager',
      title: 'FS → Canvas integration is down',
      message: 'The nightly export has not arrived for 3 hours.',
      priority: 5,
      tags: ['rotating_light', 'P1', 'fs-canvas'],
      click: 'https://incidents.example.org/console/incidents/inc-42',
      actions: [
        {
          action: 'http',
          label: 'Acknowledge',
          url: 'https://incidents.example.org/ack/YTF-token.sig',
          method: 'POST',
          clear: true,
        },
      ],
    });
  });

  it('maps severity to priority: P0 and P1 at 5, P2 at 4, P3 at 3', async () => {
    ntfy.answer(published('t'));
    const priorities: number[] = [];
    for (const severity of ['P0', 'P1', 'P2', 'P3']) {
      const before = ntfy.requests.length;
      await channel().send(page({ to: 't', page: { ...page().page, severity } }));
      priorities.push((JSON.parse(ntfy.requests[before]!.body) as { priority: number }).priority);
    }
    expect(priorities).toEqual([5, 5, 4, 3]);
  });

  it('a wrong token is permanent, rate limiting waits for Retry-After, 5xx is retried', async () => {
    await assertRefusals(ntfy, channel(), () => page({ to: 't' }), {
      unauthorized: {
        status: 401,
        body: '{"code":40101,"http":401,"error":"unauthorized","link":"https://ntfy.sh/docs/publish/#authentication"}',
      },
      tooMany: {
        status: 429,
        body: '{"code":42901,"http":429,"error":"limit reached: too many requests","link":"https://ntfy.sh/docs/publish/#limitations"}',
      },
      serverError: { status: 500, body: '{"code":50001,"http":500,"error":"internal server error"}' },
    });
  });

  it('an unset token variable is a permanent error naming it, and nothing is sent', async () => {
    const before = ntfy.requests.length;
    const e = await failureOf(
      createNtfyChannel({ settings: { ntfy: { url: ntfy.url, tokenEnv: 'NTFY_TOKEN' } }, env: {} }).send(
        page(),
      ),
    );
    expect(e.nonRetryable).toBe(true);
    expect(e.message).toBe('ntfy: NTFY_TOKEN is not set');
    expect(ntfy.requests.length).toBe(before);
  });
});
