/**
 * SMS through an HTTP gateway: one configured request, asserted byte for byte for three real
 * gateways' documented APIs (SMSEagle API v2, SMS Gateway for Android, Twilio's Messages form API)
 * against a local server answering as each does; a page fits one GSM-7 segment or says how many.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmsChannel } from '../../../../activities/notifiers/channels/sms.js';
import type { ChannelSettings } from '../../../../domain/channels.js';
import { smsEncoding, smsText } from '../../../../domain/channels.js';
import { startHttpService, type HttpService } from '../../../helpers/http-service.js';
import { assertRefusals, failureOf, page } from './contract.js';

let gw: HttpService;
beforeAll(async () => {
  gw = await startHttpService();
});
afterAll(() => gw.close());

const shortAck = 'https://inc.example.org/ack/AbC123';
const sms = (settings: Partial<ChannelSettings['sms']>, env: Record<string, string> = {}) =>
  createSmsChannel({
    settings: { sms: { method: 'POST', headers: {}, contentType: 'json', url: gw.url, ...settings } },
    env,
  });
const last = () => gw.requests[gw.requests.length - 1]!;

describe('sms channel', () => {
  it('SMSEagle API v2: JSON body with the access token header; the message id from its answer', async () => {
    gw.answer({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '[{"message_id":4711,"status":"queued","number":"+4791234567"}]',
    });
    const r = await sms(
      {
        url: `${gw.url}/api/v2/messages/sms`,
        headers: { 'access-token': '{{secret}}' },
        body: '{"to":[{{to}}],"text":{{message}}}',
        secretEnv: 'SMSEAGLE_TOKEN',
      },
      { SMSEAGLE_TOKEN: 'eagle-token-0123456789' },
    ).send(page({ to: '+4791234567', ackUrl: shortAck }));
    expect(r.messageId).toBe('4711');
    const req = last();
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/api/v2/messages/sms');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['access-token']).toBe('eagle-token-0123456789');
    const body = JSON.parse(req.body) as { to: string[]; text: string };
    expect(body.to).toEqual(['+4791234567']);
    expect(body.text).toBe('[P1] FS -> Canvas integration is down Ack: https://inc.example.org/ack/AbC123');
    expect(r.detail).toBe('GSM-7, 1 segment');
  });

  it('SMS Gateway for Android: Basic auth from the secret, phoneNumbers and textMessage; 202 with its id', async () => {
    gw.answer({
      status: 202,
      headers: { 'content-type': 'application/json' },
      body: '{"id":"PyDmBQZZXYmyxMwED8Fzy","state":"Pending","recipients":[{"phoneNumber":"+4791234567","state":"Pending"}]}',
    });
    const r = await sms(
      {
        url: `${gw.url}/message`,
        headers: { authorization: 'Basic {{secret|base64}}' },
        body: '{"textMessage":{"text":{{message}}},"phoneNumbers":[{{to}}]}',
        secretEnv: 'ANDROID_SMS',
      },
      { ANDROID_SMS: 'sms:h0tW1reP4ss' },
    ).send(page({ to: '+4791234567', ackUrl: shortAck }));
    expect(r.messageId).toBe('PyDmBQZZXYmyxMwED8Fzy');
    const req = last();
    expect(req.url).toBe('/message');
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from('sms:h0tW1reP4ss').toString('base64')}`);
    expect(JSON.parse(req.body)).toEqual({
      textMessage: { text: '[P1] FS -> Canvas integration is down Ack: https://inc.example.org/ack/AbC123' },
      phoneNumbers: ['+4791234567'],
    });
  });

  it("Twilio: a form-encoded POST to the account's Messages.json with Basic auth; 201 with the sid", async () => {
    gw.answer({
      status: 201,
      headers: { 'content-type': 'application/json' },
      body: '{"sid":"SM1f0e8ae6ade43cb3c0ce4525424e404f","status":"queued","to":"+4791234567","from":"+15017122661","num_segments":"1"}',
    });
    const r = await sms(
      {
        url: `${gw.url}/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json`,
        headers: { authorization: 'Basic {{secret|base64}}' },
        contentType: 'form',
        body: 'To={{to}}&From=%2B15017122661&Body={{message}}',
        secretEnv: 'TWILIO_AUTH',
      },
      { TWILIO_AUTH: 'AC0123456789abcdef0123456789abcdef:authtoken' },
    ).send(page({ to: '+4791234567', ackUrl: shortAck }));
    expect(r.messageId).toBe('SM1f0e8ae6ade43cb3c0ce4525424e404f');
    const req = last();
    expect(req.url).toBe('/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json');
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(req.body))).toEqual({
      To: '+4791234567',
      From: '+15017122661',
      Body: '[P1] FS -> Canvas integration is down Ack: https://inc.example.org/ack/AbC123',
    });
  });

  it('a GET gateway gets the values URL-encoded in its query', async () => {
    gw.answer({ status: 200, body: 'OK' });
    await sms({ method: 'GET', url: `${gw.url}/send?to={{to}}&msg={{message}}` }).send(
      page({ to: '+4791234567', ackUrl: shortAck }),
    );
    const req = last();
    expect(req.method).toBe('GET');
    const q = new URL(req.url, 'http://x').searchParams;
    expect(q.get('to')).toBe('+4791234567');
    expect(q.get('msg')).toMatch(/^\[P1\] FS -> Canvas/);
  });

  it('refusals as Twilio documents them: 401 code 20003 permanent, 429 code 20429 after Retry-After, 503 retried', async () => {
    const ch = sms({
      url: `${gw.url}/Messages.json`,
      contentType: 'form',
      body: 'To={{to}}&Body={{message}}',
    });
    await assertRefusals(gw, ch, () => page({ to: '+4791234567' }), {
      unauthorized: {
        status: 401,
        body: '{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}',
      },
      tooMany: {
        status: 429,
        body: '{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}',
      },
      serverError: { status: 503, body: 'Service Unavailable' },
    });
    gw.answer({
      status: 400,
      body: '{"code":21211,"message":"The \'To\' number +4700 is not a valid phone number.","status":400}',
    });
    const bad = await failureOf(ch.send(page({ to: '+4700' })));
    expect(bad.nonRetryable).toBe(true);
    expect(bad.message).toContain("The 'To' number +4700 is not a valid phone number.");
  });

  it('a template naming an unknown field is a permanent error naming it, and nothing is sent', async () => {
    const before = gw.requests.length;
    const e = await failureOf(sms({ body: '{"text":{{mesage}}}' }).send(page({ to: '+4791234567' })));
    expect(e.nonRetryable).toBe(true);
    expect(e.message).toContain('unknown template field {{mesage}}');
    expect(gw.requests.length).toBe(before);
  });

  it('a page with a long ack link states its segment count instead of being cut', async () => {
    gw.answer({ status: 200, body: '{}' });
    const long = `https://incidents.example.org/ack/${'x'.repeat(150)}`;
    const r = await sms({ body: '{"text":{{message}}}' }).send(page({ to: '+4791234567', ackUrl: long }));
    const text = (JSON.parse(last().body) as { text: string }).text;
    expect(text).toContain(long);
    expect(r.detail).toBe(`GSM-7, ${smsEncoding(text).segments} segments`);
    expect(smsEncoding(text).segments).toBe(2);
  });

  it('smsText keeps title and link in one GSM-7 segment, cutting the title', () => {
    const t = smsText(`[P0] ${'Å'.repeat(10)} ${'very long title '.repeat(20)}`, shortAck);
    expect(smsEncoding(t)).toMatchObject({ encoding: 'GSM-7', segments: 1 });
    expect(t.endsWith(`Ack: ${shortAck}`)).toBe(true);
    expect(smsEncoding('plain €').units).toBe(8);
    expect(smsEncoding('emoji 🚨').encoding).toBe('UCS-2');
  });
});
