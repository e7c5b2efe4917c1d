/**
 * Acknowledge and Resolve buttons clicked in Slack and Mattermost pages.
 *
 * - Slack (`POST /api/chat/slack/interactions`): an interactivity request, `payload` form field,
 *   checked with signature v0 (`v0=` HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}`
 *   under the app's signing secret) and a 5-minute window. Slack wants a 200 within 3 seconds: the
 *   answer is an empty 200 at once, and what the click did goes to the payload's `response_url`
 *   (Slack's message shape: `{response_type: 'ephemeral', replace_original: false, text}`).
 * - Mattermost (`POST /api/chat/mattermost/actions`): the button's integration request, JSON with
 *   `user_name` and the `context` our page put there (action, incident, the action token). The
 *   answer is Mattermost's `{ephemeral_text}`.
 *
 * The chat user is mapped to a contact (`slackUserId`, `mattermostUsername`), who is the actor;
 * someone else is told they are not a responder. A forged, unsigned or stale request gets 401 and
 * changes nothing. A click acknowledges through the same path as the staff API, with an update id
 * per person, button and message, so a double click acknowledges once.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyBaseLogger } from 'fastify';
import type { Config } from '../../domain/config-schema.js';
import {
  actedText,
  chatUpdateKey,
  contactForChatUser,
  decideChatAction,
  notAResponder,
  type ChatAction,
  type ChatService,
} from '../../domain/chat-actions.js';
import { contactById } from '../../domain/model.js';
import { allowed, refusal, rolesOf } from '../../domain/access.js';
import { HttpError } from '../errors.js';
import type { IncidentService } from '../incident-service.js';

export interface ChatActionRouteOptions {
  incidents: Pick<IncidentService, 'get' | 'acknowledge' | 'resolve'>;
  config: Config;
  /** Where `channels.slack.signingSecretEnv` and `channels.mattermost.actionTokenEnv` are read (the API's environment). */
  env: Record<string, string | undefined>;
  /** Seconds since the epoch (tests move it). */
  nowSeconds?: () => number;
}

/** Slack's replay window: a request whose timestamp is further than this from now is refused. */
export const slackWindowSeconds = 5 * 60;

export type SlackVerdict = { ok: true } | { ok: false; reason: string };

/** Slack's signature v0 check (https://api.slack.com/authentication/verifying-requests-from-slack). */
export function verifySlackSignature(
  secret: string,
  headers: { timestamp?: string; signature?: string },
  rawBody: string,
  nowSeconds: number,
): SlackVerdict {
  const { timestamp, signature } = headers;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp))
    return { ok: false, reason: 'missing or malformed X-Slack-Request-Timestamp' };
  if (Math.abs(nowSeconds - Number(timestamp)) > slackWindowSeconds)
    return { ok: false, reason: 'X-Slack-Request-Timestamp is more than 5 minutes away (a replay?)' };
  if (!signature || !/^v0=[0-9a-f]{64}$/.test(signature))
    return { ok: false, reason: 'missing or malformed X-Slack-Signature' };
  const expected = createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`, 'utf8').digest();
  const given = Buffer.from(signature.slice(3), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected)
    ? { ok: true }
    : { ok: false, reason: 'X-Slack-Signature does not match' };
}

function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

interface Click {
  service: ChatService;
  user: string;
  action: ChatAction;
  incidentId: string;
  messageId: string;
}

interface Outcome {
  /** What the person is told. */
  text: string;
  /** Whether the click changed the incident (then the channel is told too). */
  changed: boolean;
}

const isAction = (a: unknown): a is ChatAction => a === 'acknowledge' || a === 'resolve';
const unauthorized = (message: string) => new HttpError(401, 'unauthorized', message);

export const chatActionRoutes: FastifyPluginAsync<ChatActionRouteOptions> = async (app, o) => {
  const now = o.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  const route = { config: { staffRateLimit: true }, schema: { hide: true } } as const;

  // Slack signs the body as sent: keep it as a string (this parser is scoped to these routes).
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_req, body, done) => done(null, body),
  );

  async function act(c: Click, log: FastifyBaseLogger): Promise<Outcome> {
    const contact = contactForChatUser(o.config.contacts, c.service, c.user);
    if (!contact) {
      log.info({ service: c.service }, 'chat button clicked by someone who is no contact');
      return { text: notAResponder(c.service, c.user), changed: false };
    }
    // The same rights as the API and the console (domain/access.ts): acknowledging and resolving
    // are a responder's.
    const roles = rolesOf(o.config, contact.id);
    if (!allowed(roles, 'responder')) {
      log.info({ service: c.service, contact: contact.id }, 'chat button clicked without the responder role');
      return {
        text: refusal(contact.name, roles, 'responder', 'Acknowledging or resolving'),
        changed: false,
      };
    }
    let view;
    try {
      view = await o.incidents.get(c.incidentId);
    } catch (e) {
      if (e instanceof HttpError && e.statusCode === 404)
        return { text: `There is no incident ${c.incidentId}.`, changed: false };
      throw e;
    }
    const decision = decideChatAction(c.action, {
      state: view.state,
      acknowledgedBy: view.acknowledgedBy,
      acknowledgedByName: view.acknowledgedBy
        ? (contactById(o.config, view.acknowledgedBy)?.name ?? view.acknowledgedBy)
        : undefined,
    });
    if ('say' in decision) return { text: decision.say, changed: false };
    const title = `${view.service.name} (${view.severity})`;
    try {
      if (decision.act === 'acknowledge') {
        const key = chatUpdateKey(c.service, c.incidentId, 'acknowledge', contact.id, c.messageId);
        await o.incidents.acknowledge(c.incidentId, contact.id, {
          updateId: `chat-ack-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`,
        });
      } else {
        await o.incidents.resolve(c.incidentId, contact.id, `resolved from ${c.service}`);
      }
    } catch (e) {
      if (e instanceof HttpError && (e.statusCode === 409 || e.statusCode === 400))
        return { text: e.message, changed: false };
      throw e;
    }
    log.info({ incident: c.incidentId, actor: contact.id, action: c.action }, `${c.service} button acted`);
    return { text: actedText(decision.act, contact.name, title), changed: true };
  }

  // ---- Slack ----------------------------------------------------------------------------------
  app.post('/api/chat/slack/interactions', route, async (req, reply) => {
    const settings = o.config.channels?.slack;
    const secret = settings?.signingSecretEnv ? o.env[settings.signingSecretEnv] : undefined;
    if (!secret)
      throw new HttpError(
        503,
        'not_configured',
        'Slack buttons are not set up: channels.slack.signingSecretEnv names no set variable',
      );
    const raw = typeof req.body === 'string' ? req.body : '';
    const header = (n: string) => {
      const v = req.headers[n];
      return Array.isArray(v) ? v[0] : v;
    };
    const verdict = verifySlackSignature(
      secret,
      { timestamp: header('x-slack-request-timestamp'), signature: header('x-slack-signature') },
      raw,
      now(),
    );
    if (!verdict.ok) {
      req.log.warn({ reason: verdict.reason }, 'Slack request refused');
      throw unauthorized(verdict.reason);
    }
    let payload: SlackPayload;
    try {
      payload = JSON.parse(new URLSearchParams(raw).get('payload') ?? '') as SlackPayload;
    } catch {
      throw new HttpError(400, 'invalid_request', 'payload: not a Slack interaction payload (JSON)');
    }
    const a = payload.actions?.[0];
    const incidentId = typeof a?.value === 'string' ? a.value : undefined;
    const userId = payload.user?.id;
    if (payload.type !== 'block_actions' || !a || !isAction(a.action_id) || !incidentId || !userId)
      throw new HttpError(
        400,
        'invalid_request',
        'payload: expected block_actions with an acknowledge or resolve button and a user',
      );
    const click: Click = {
      service: 'slack',
      user: userId,
      action: a.action_id,
      incidentId,
      messageId: payload.container?.message_ts ?? payload.message?.ts ?? a.block_id ?? '',
    };
    const responseUrl = safeResponseUrl(payload.response_url);
    // Slack wants the 200 within 3 seconds; what the click did follows on response_url.
    void reply.code(200).send();
    void (async () => {
      let outcome: Outcome;
      try {
        outcome = await act(click, req.log);
      } catch (e) {
        req.log.error({ err: e, incident: incidentId }, 'Slack button could not act');
        outcome = { text: `That did not go through: ${(e as Error).message}. Try again.`, changed: false };
      }
      if (!responseUrl) return;
      await fetch(responseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          response_type: outcome.changed ? 'in_channel' : 'ephemeral',
          replace_original: false,
          text: outcome.text,
        }),
        signal: AbortSignal.timeout(10_000),
      })
        .then((r) => r.body?.cancel())
        .catch((e: unknown) =>
          req.log.warn({ error: (e as Error).message }, 'Slack response_url did not answer'),
        );
    })();
    return reply;
  });

  // ---- Mattermost -----------------------------------------------------------------------------
  app.post('/api/chat/mattermost/actions', route, async (req) => {
    const settings = o.config.channels?.mattermost;
    const token = settings?.actionTokenEnv ? o.env[settings.actionTokenEnv] : undefined;
    if (!token)
      throw new HttpError(
        503,
        'not_configured',
        'Mattermost buttons are not set up: channels.mattermost.actionTokenEnv names no set variable',
      );
    const body = (req.body ?? {}) as MattermostRequest;
    const ctx = body.context && typeof body.context === 'object' ? body.context : {};
    if (typeof ctx.token !== 'string' || !sameSecret(ctx.token, token)) {
      req.log.warn('Mattermost action refused: wrong or missing action token');
      throw unauthorized('context.token: not this deployment’s Mattermost action token');
    }
    const user = typeof body.user_name === 'string' ? body.user_name : undefined;
    if (!isAction(ctx.action) || typeof ctx.incidentId !== 'string' || !user)
      throw new HttpError(
        400,
        'invalid_request',
        'context: expected action (acknowledge or resolve), incidentId and the user_name',
      );
    const outcome = await act(
      {
        service: 'mattermost',
        user,
        action: ctx.action,
        incidentId: ctx.incidentId,
        messageId: typeof body.post_id === 'string' ? body.post_id : '',
      },
      req.log,
    );
    return { ephemeral_text: outcome.text };
  });
};

interface SlackPayload {
  type?: string;
  user?: { id?: string; username?: string };
  actions?: { action_id?: string; block_id?: string; value?: unknown }[];
  container?: { message_ts?: string };
  message?: { ts?: string };
  response_url?: string;
}

interface MattermostRequest {
  user_id?: unknown;
  user_name?: unknown;
  post_id?: unknown;
  context?: { action?: unknown; incidentId?: unknown; token?: unknown };
}

/** Only an http(s) URL (the request is signed, so it is Slack's own `hooks.slack.com` link). */
function safeResponseUrl(u: unknown): string | undefined {
  if (typeof u !== 'string') return undefined;
  try {
    const url = new URL(u);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}
