/**
 * Acknowledge and Resolve buttons from Slack and Mattermost against the real stack (Temporal dev
 * server, worker, record store, API): Slack's signature v0 checked against Slack's documented example
 * request; a signed interactive payload acknowledges as the mapped contact; a replay with an old
 * timestamp, a forged signature or a wrong Mattermost token gets 401 and changes nothing; a double
 * click acknowledges once; someone who is no contact is told so. Slack's `response_url` is a local
 * server of this test that records what we post there.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySlackSignature } from '../../api/routes/chat-actions.js';
import { decideChatAction, contactForChatUser } from '../../domain/chat-actions.js';
import type { Config } from '../../domain/config-schema.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { startHttpService, type HttpService } from '../helpers/http-service.js';

// Slack's documented example (https://api.slack.com/authentication/verifying-requests-from-slack).
const slackDoc = {
  secret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: '1531420618',
  body: 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};

describe('Slack signature v0', () => {
  it("accepts Slack's documented example request within 5 minutes of its timestamp", () => {
    const h = { timestamp: slackDoc.timestamp, signature: slackDoc.signature };
    expect(verifySlackSignature(slackDoc.secret, h, slackDoc.body, 1531420618)).toEqual({ ok: true });
    expect(verifySlackSignature(slackDoc.secret, h, slackDoc.body, 1531420618 + 300)).toEqual({ ok: true });
  });

  it('refuses it when stale, changed, signed with another secret or unsigned', () => {
    const h = { timestamp: slackDoc.timestamp, signature: slackDoc.signature };
    expect(verifySlackSignature(slackDoc.secret, h, slackDoc.body, 1531420618 + 301)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/5 minutes/),
    });
    expect(verifySlackSignature(slackDoc.secret, h, slackDoc.body, 1531420618 - 301).ok).toBe(false);
    expect(
      verifySlackSignature(slackDoc.secret, h, slackDoc.body.replace('roadrunner', 'coyote'), 1531420618),
    ).toMatchObject({ ok: false, reason: 'X-Slack-Signature does not match' });
    expect(verifySlackSignature('another-secret', h, slackDoc.body, 1531420618).ok).toBe(false);
    expect(
      verifySlackSignature(slackDoc.secret, { timestamp: slackDoc.timestamp }, slackDoc.body, 1531420618).ok,
    ).toBe(false);
    expect(
      verifySlackSignature(slackDoc.secret, { ...h, timestamp: '1531420619' }, slackDoc.body, 1531420618).ok,
    ).toBe(false);
  });
});

describe('what a click does (table)', () => {
  it.each([
    ['acknowledge', 'triggered', 'act'],
    ['acknowledge', 'verifying', 'act'],
    ['acknowledge', 'acknowledged', 'already'],
    ['acknowledge', 'resolving', 'resolving'],
    ['acknowledge', 'resolved', 'closed'],
    ['resolve', 'triggered', 'act'],
    ['resolve', 'acknowledged', 'act'],
    ['resolve', 'resolving', 'resolving'],
    ['resolve', 'dismissed', 'closed'],
  ] as const)('%s while %s → %s', (action, state, expected) => {
    const d = decideChatAction(action, { state, acknowledgedBy: 'kari', acknowledgedByName: 'Kari' });
    expect('act' in d ? 'act' : d.reason).toBe(expected);
  });

  it('maps chat users to contacts (Mattermost names without @, any case)', () => {
    const contacts = [
      {
        id: 'kari',
        name: 'Kari',
        email: 'k@x',
        methods: [],
        slackUserId: 'U024BE7LH',
        mattermostUsername: 'kari.n',
      },
    ] as Config['contacts'];
    expect(contactForChatUser(contacts, 'slack', 'U024BE7LH')?.id).toBe('kari');
    expect(contactForChatUser(contacts, 'slack', 'U999')).toBeUndefined();
    expect(contactForChatUser(contacts, 'mattermost', '@Kari.N')?.id).toBe('kari');
    expect(contactForChatUser(contacts, 'mattermost', 'kari.n2')).toBeUndefined();
  });
});

const signingSecret = 'test-slack-signing-secret-0123456789abcdef';
const mattermostToken = 'test-mattermost-action-token-0123456789';

describe('chat buttons on the real stack', () => {
  let h: Harness;
  let slack: HttpService;
  let serviceId: string;

  beforeAll(async () => {
    process.env.TEST_SLACK_SIGNING_SECRET = signingSecret;
    process.env.TEST_MATTERMOST_ACTION_TOKEN = mattermostToken;
    slack = await startHttpService({ status: 200, body: 'ok' });
    const t = testConfig({ levelTimeout: '10m' });
    serviceId = t.serviceId;
    const config: Config = {
      ...t.config,
      contacts: t.config.contacts.map((c) =>
        c.id === 'kari'
          ? { ...c, slackUserId: 'U024BE7LH', mattermostUsername: 'kari.nordmann' }
          : // A contact who may publish status messages but not act on incidents (domain/access.ts).
            c.id === 'ola'
            ? { ...c, slackUserId: 'U0OLA0001', roles: ['communicator' as const] }
            : c,
      ),
      channels: {
        slack: { urlEnv: 'TEST_SLACK_WEBHOOK_URL', signingSecretEnv: 'TEST_SLACK_SIGNING_SECRET' },
        mattermost: { urlEnv: 'TEST_MATTERMOST_WEBHOOK_URL', actionTokenEnv: 'TEST_MATTERMOST_ACTION_TOKEN' },
      },
    };
    h = await startHarness({ config });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await slack?.close();
  });

  async function open(service: string): Promise<string> {
    const r = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('per'),
      payload: { service, reason: 'export unreachable', skipVerify: true },
    });
    expect(r.statusCode).toBe(201);
    const id = r.json().incident.id as string;
    await eventually(async () => (await h.incidents.get(id)).state === 'triggered', 15_000, 'the first page');
    return id;
  }

  function slackClick(
    o: { incidentId: string; user: string; action?: string; ts?: number; messageTs?: string },
    secret = signingSecret,
  ) {
    const payload = {
      type: 'block_actions',
      user: { id: o.user, username: 'someone', team_id: 'T0001' },
      api_app_id: 'A0001',
      container: { type: 'message', message_ts: o.messageTs ?? '1733140000.000100', channel_id: 'C0001' },
      trigger_id: '12345.98765.abcd2358fdea',
      response_url: `${slack.url}/actions/T0001/1234/XYZ`,
      actions: [
        {
          type: 'button',
          action_id: o.action ?? 'acknowledge',
          block_id: `incident:${o.incidentId}`,
          value: o.incidentId,
          action_ts: '1733140001.000200',
        },
      ],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const ts = String(o.ts ?? Math.floor(Date.now() / 1000));
    const signature = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
    return h.app.inject({
      method: 'POST',
      url: '/api/chat/slack/interactions',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': ts,
        'x-slack-signature': signature,
      },
      payload: body,
    });
  }

  const acks = async (id: string) =>
    (await h.incidents.get(id)).timeline.filter((e) => e.kind === 'acknowledged');
  const posted = () => slack.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>);

  it('refuses a replay with an old timestamp and a forged signature (401), changing nothing', async () => {
    const id = await open(serviceId);
    const replay = await slackClick({
      incidentId: id,
      user: 'U024BE7LH',
      ts: Math.floor(Date.now() / 1000) - 301,
    });
    expect(replay.statusCode).toBe(401);
    expect(replay.json()).toMatchObject({ statusCode: 401, message: expect.stringMatching(/5 minutes/) });
    const forged = await slackClick({ incidentId: id, user: 'U024BE7LH' }, 'not-the-signing-secret');
    expect(forged.statusCode).toBe(401);
    const unsigned = await h.app.inject({
      method: 'POST',
      url: '/api/chat/slack/interactions',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'payload=%7B%7D',
    });
    expect(unsigned.statusCode).toBe(401);
    await new Promise((r) => setTimeout(r, 500));
    expect((await h.incidents.get(id)).state).toBe('triggered');
    expect(await acks(id)).toHaveLength(0);
    expect(slack.requests).toHaveLength(0);

    // Someone who is no contact: told so on response_url (ephemeral), nothing changes.
    const stranger = await slackClick({ incidentId: id, user: 'U0STRANGER' });
    expect(stranger.statusCode).toBe(200);
    await eventually(async () => slack.requests.length === 1, 10_000, 'the answer on response_url');
    expect(slack.requests[0]!.url).toBe('/actions/T0001/1234/XYZ');
    expect(posted()[0]).toEqual({
      response_type: 'ephemeral',
      replace_original: false,
      text: expect.stringMatching(/^You are not a responder here: no contact has slackUserId U0STRANGER/),
    });
    expect((await h.incidents.get(id)).state).toBe('triggered');

    // A contact without the responder role: told which role it takes, nothing changes.
    slack.requests.length = 0;
    expect((await slackClick({ incidentId: id, user: 'U0OLA0001' })).statusCode).toBe(200);
    await eventually(async () => slack.requests.length === 1, 10_000, 'the refusal on response_url');
    expect(posted()[0]).toMatchObject({
      response_type: 'ephemeral',
      text: 'Acknowledging or resolving needs the responder role; Ola Hansen has the role communicator.',
    });
    expect(await acks(id)).toHaveLength(0);

    // The signed click of the mapped contact, clicked twice at once: acknowledged once, as Kari.
    slack.requests.length = 0;
    const [a, b] = await Promise.all([
      slackClick({ incidentId: id, user: 'U024BE7LH' }),
      slackClick({ incidentId: id, user: 'U024BE7LH' }),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect(a.body).toBe('');
    await eventually(
      async () => (await h.incidents.get(id)).state === 'acknowledged',
      15_000,
      'acknowledged',
    );
    await eventually(async () => slack.requests.length === 2, 10_000, 'both answers on response_url');
    const view = await h.incidents.get(id);
    expect(view.acknowledgedBy).toBe('kari');
    expect(await acks(id)).toHaveLength(1);
    expect(posted().map((p) => p.text)).toContain(
      'FS → Canvas integration (P1): acknowledged by Kari Nordmann; escalation stopped.',
    );

    // A later click on the same button: already acknowledged, said only to the clicker.
    slack.requests.length = 0;
    expect(
      (await slackClick({ incidentId: id, user: 'U024BE7LH', messageTs: '1733140500.000100' })).statusCode,
    ).toBe(200);
    await eventually(async () => slack.requests.length === 1, 10_000, 'the answer');
    expect(posted()[0]).toMatchObject({
      response_type: 'ephemeral',
      text: 'Already acknowledged by Kari Nordmann; escalation is stopped.',
    });
    expect(await acks(id)).toHaveLength(1);

    // Resolve: recovery proof starts (or, with no probe, resolved on the responder's word).
    expect((await slackClick({ incidentId: id, user: 'U024BE7LH', action: 'resolve' })).statusCode).toBe(200);
    await eventually(
      async () => ['resolving', 'resolved'].includes((await h.incidents.get(id)).state),
      15_000,
      'resolving',
    );
  }, 90_000);

  it('Mattermost: the action token is checked, the username maps to the contact, a click acts once', async () => {
    const id = await open(`${serviceId}-host`);
    const click = (token: string, user = 'kari.nordmann', action = 'acknowledge') =>
      h.app.inject({
        method: 'POST',
        url: '/api/chat/mattermost/actions',
        payload: {
          user_id: 'rd49ehbqyjytddasoownkuqrxe',
          user_name: user,
          channel_id: 'x1',
          post_id: 'gqrnh3675jfxzftnjyjfe4udeh',
          trigger_id: 't1',
          type: '',
          context: { action, incidentId: id, token },
        },
      });
    const wrong = await click('not-the-token');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ statusCode: 401, error: 'unauthorized' });
    expect((await click('')).statusCode).toBe(401);
    expect((await h.incidents.get(id)).state).toBe('triggered');

    const stranger = await click(mattermostToken, 'someone.else');
    expect(stranger.statusCode).toBe(200);
    expect(stranger.json().ephemeral_text).toMatch(
      /^You are not a responder here: no contact has mattermostUsername someone.else/,
    );
    expect((await h.incidents.get(id)).state).toBe('triggered');

    const [a, b] = await Promise.all([click(mattermostToken), click(mattermostToken)]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    const texts = [a.json().ephemeral_text, b.json().ephemeral_text];
    expect(texts).toContain('data-sync host (P1): acknowledged by Kari Nordmann; escalation stopped.');
    const view = await h.incidents.get(id);
    expect(view.state).toBe('acknowledged');
    expect(view.acknowledgedBy).toBe('kari');
    expect(await acks(id)).toHaveLength(1);

    const resolve = await click(mattermostToken, 'kari.nordmann', 'resolve');
    expect(resolve.statusCode).toBe(200);
    expect(resolve.json().ephemeral_text).toBe(
      'data-sync host (P1): Kari Nordmann asked to resolve; recovery is being checked.',
    );
    await eventually(async () => (await h.incidents.get(id)).state === 'resolved', 15_000, 'resolved');
  }, 90_000);
});
