/**
 * Slack, Teams and Mattermost incoming webhooks: the exact JSON each gets, against a local server
 * answering as each service documents (Slack `ok` / `invalid_token` / `rollup_error`; Teams
 * Workflows 202; Mattermost `ok`), 401/403, 429 with Retry-After, 5xx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackChannel } from '../../../../activities/notifiers/channels/slack.js';
import { createTeamsChannel } from '../../../../activities/notifiers/channels/teams.js';
import { createMattermostChannel } from '../../../../activities/notifiers/channels/mattermost.js';
import { startHttpService, type HttpService } from '../../../helpers/http-service.js';
import { assertRefusals, failureOf, page } from './contract.js';

let svc: HttpService;
beforeAll(async () => {
  svc = await startHttpService();
});
afterAll(() => svc.close());
const last = () => svc.requests[svc.requests.length - 1]!;

describe('slack channel', () => {
  const slack = () =>
    createSlackChannel({
      settings: { slack: { urlEnv: 'SLACK_WEBHOOK_URL' } },
      env: { SLACK_WEBHOOK_URL: `${svc.url}/services/T000/B000/XXXXXXXX` },
    });

  it('posts the page mentioning the contact, with Acknowledge and Resolve buttons carrying the incident', async () => {
    svc.answer({ status: 200, body: 'ok' });
    await slack().send(page({ to: 'U024BE7LH' }));
    const req = last();
    expect(req.url).toBe('/services/T000/B000/XXXXXXXX');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual({
      text: 'P1 FS → Canvas integration is down: <@U024BE7LH>, you are paged',
      blocks: [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: ':rotating_light: *P1* <https://incidents.example.org/console/incidents/inc-42|FS → Canvas integration is down>\n<@U024BE7LH>, you are paged.\nThe nightly export has not arrived for 3 hours.',
          },
        },
        {
          type: 'actions',
          block_id: 'incident:inc-42',
          elements: [
            {
              type: 'button',
              action_id: 'acknowledge',
              text: { type: 'plain_text', text: 'Acknowledge' },
              style: 'primary',
              value: 'inc-42',
            },
            {
              type: 'button',
              action_id: 'resolve',
              text: { type: 'plain_text', text: 'Resolve' },
              style: 'danger',
              value: 'inc-42',
            },
          ],
        },
      ],
    });
  });

  it("Slack's webhook errors: invalid_token permanent, 429 after Retry-After, rollup_error retried; channel_not_found permanent", async () => {
    await assertRefusals(svc, slack(), () => page({ to: 'U024BE7LH' }), {
      unauthorized: { status: 401, body: 'invalid_token' },
      tooMany: { status: 429, body: 'rate_limited' },
      serverError: { status: 500, body: 'rollup_error' },
    });
    svc.answer({ status: 404, body: 'channel_not_found' });
    const e = await failureOf(slack().send(page()));
    expect(e.nonRetryable).toBe(true);
    expect(e.message).toBe(`Slack at ${new URL(svc.url).host} answered 404: channel_not_found`);
    expect(e.message).not.toContain('XXXXXXXX');
  });
});

describe('teams channel', () => {
  const teams = () =>
    createTeamsChannel({
      settings: { teams: { urlEnv: 'TEAMS_URL' } },
      env: { TEAMS_URL: `${svc.url}/workflows/abc/triggers/manual/paths/invoke?sig=s3cr3t` },
    });

  it('posts an Adaptive Card message naming the contact with Open and Acknowledge buttons; 202 is accepted', async () => {
    svc.answer({ status: 202, body: '' });
    const r = await teams().send(page());
    expect(r.status).toBe('accepted');
    const body = JSON.parse(last().body) as {
      type: string;
      attachments: { contentType: string; content: { body: { text: string }[]; actions: unknown[] } }[];
    };
    expect(body.type).toBe('message');
    expect(body.attachments[0]!.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(body.attachments[0]!.content.body.map((b) => b.text)).toEqual([
      'P1 FS → Canvas integration is down',
      'Kari Nordmann, you are paged.',
      'The nightly export has not arrived for 3 hours.',
    ]);
    expect(body.attachments[0]!.content.actions).toEqual([
      {
        type: 'Action.OpenUrl',
        title: 'Open incident',
        url: 'https://incidents.example.org/console/incidents/inc-42',
      },
      {
        type: 'Action.OpenUrl',
        title: 'Acknowledge',
        url: 'https://incidents.example.org/ack/YTF-token.sig',
      },
    ]);
  });

  it('refusals: 401 permanent, 429 after Retry-After, 502 retried', async () => {
    await assertRefusals(svc, teams(), () => page(), {
      unauthorized: {
        status: 401,
        body: '{"error":{"code":"DirectApiAuthorizationRequired","message":"The request must be authenticated"}}',
      },
      tooMany: { status: 429, body: 'Microsoft Teams endpoint returned HTTP error 429' },
      serverError: { status: 502, body: 'Bad Gateway' },
    });
  });
});

describe('mattermost channel', () => {
  const mm = () =>
    createMattermostChannel({
      settings: { mattermost: { urlEnv: 'MM_URL', actionTokenEnv: 'MM_ACTION_TOKEN' } },
      env: {
        MM_URL: `${svc.url}/hooks/xxx-generatedkey-xxx`,
        MM_ACTION_TOKEN: 'mm-action-token-0123456789abcdef',
      },
      publicBaseUrl: 'https://incidents.example.org',
    });

  it('posts @username with Acknowledge and Resolve buttons posting back to the API with the action token', async () => {
    svc.answer({ status: 200, body: 'ok' });
    await mm().send(page({ to: 'kari.nordmann' }));
    const req = last();
    expect(req.url).toBe('/hooks/xxx-generatedkey-xxx');
    const action = (id: string, name: string) => ({
      id,
      name,
      integration: {
        url: 'https://incidents.example.org/api/chat/mattermost/actions',
        context: { action: id, incidentId: 'inc-42', token: 'mm-action-token-0123456789abcdef' },
      },
    });
    expect(JSON.parse(req.body)).toEqual({
      text: '@kari.nordmann you are paged: **P1** FS → Canvas integration is down',
      attachments: [
        {
          fallback: 'P1 FS → Canvas integration is down',
          color: '#d0021b',
          title: 'FS → Canvas integration is down',
          title_link: 'https://incidents.example.org/console/incidents/inc-42',
          text: 'The nightly export has not arrived for 3 hours.',
          actions: [action('acknowledge', 'Acknowledge'), action('resolve', 'Resolve')],
        },
      ],
    });
  });

  it('refusals: 401 permanent, 429 after Retry-After, 500 retried', async () => {
    await assertRefusals(svc, mm(), () => page({ to: 'kari' }), {
      unauthorized: {
        status: 401,
        body: '{"id":"web.incoming_webhook.invalid.app_error","message":"Invalid webhook.","status_code":401}',
      },
      tooMany: { status: 429, body: 'too many requests' },
      serverError: { status: 500, body: '{"id":"api.context.invalid_param.app_error","status_code":500}' },
    });
  });
});
