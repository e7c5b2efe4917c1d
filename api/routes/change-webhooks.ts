/**
 * Change events from the tools that make changes, into the change log the postmortem reads:
 *
 * - `POST /api/changes/cdevents`: a CDEvent `dev.cdevents.service.deployed` (plain, or a CloudEvent
 *   in structured mode), with a staff bearer token (responder).
 * - `POST /api/changes/github`: GitHub's `deployment_status` webhook, signed with
 *   `X-Hub-Signature-256` (HMAC-SHA256 of the body as sent, key GITHUB_WEBHOOK_SECRET).
 * - `POST /api/changes/gitlab`: GitLab's deployment webhook, with `X-Gitlab-Token` equal to
 *   GITLAB_WEBHOOK_TOKEN.
 *
 * Secrets come from the environment only. No signature or token: 401; a wrong one: 401, counted and
 * throttled with every other wrong key (429 with Retry-After). A body that is wrong: 400 naming the
 * field. `?services=a,b&hosts=h` on the URL names what the deploy touches, besides the repository's
 * (or the CDEvent subject's) own name. This plugin is encapsulated: its JSON parser keeps the body as
 * sent (for the signature) for these routes only.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  readCdevent,
  readGithubDeploymentStatus,
  readGitlabDeployment,
  type ChangeReading,
  type ChangeTargets,
} from '../../domain/change-sources.js';
import { HttpError } from '../errors.js';
import type { PostmortemService } from '../postmortem-service.js';
import { createWrongKeys, sendWrongKeysThrottled } from '../plugins/wrong-keys.js';

/** Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of `raw` with `secret`, compared in constant time. */
export function verifyGithubSignature(
  secret: string,
  raw: string | Buffer,
  header: string | undefined,
): boolean {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '');
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(raw).digest();
  const given = Buffer.from(m[1]!, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Constant-time comparison of GitLab's secret token. */
export function verifyGitlabToken(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = createHmac('sha256', 'gitlab-token').update(expected).digest();
  const b = createHmac('sha256', 'gitlab-token').update(given).digest();
  return timingSafeEqual(a, b);
}

const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
});
const Change = Type.Object({
  id: Type.String(),
  who: Type.String(),
  what: Type.String(),
  hosts: Type.Array(Type.String()),
  services: Type.Array(Type.String()),
  at: Type.String(),
  recordedBy: Type.String(),
  recordedAt: Type.String(),
});
const Recorded = Type.Object({ recorded: Type.Literal(true), change: Change });
const Ignored = Type.Object({ recorded: Type.Literal(false), reason: Type.String() });
const Targets = Type.Object(
  {
    services: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 500,
        description: 'comma-separated service ids the deploy touches',
      }),
    ),
    hosts: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 500,
        description: 'comma-separated host names the deploy touches',
      }),
    ),
  },
  { additionalProperties: false },
);
const AnyJson = Type.Object({}, { additionalProperties: true });

const list = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x && x.length <= 253);

const header = (req: FastifyRequest, name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

export const changeWebhookRoutes: FastifyPluginAsyncTypebox<{
  postmortems: PostmortemService;
  env: Record<string, string | undefined>;
}> = async (app, o) => {
  const wrongKeys = app.hasDecorator('wrongKeys') ? app.wrongKeys : createWrongKeys();
  const raws = new WeakMap<FastifyRequest, string>();
  const json = app.getDefaultJsonParser('error', 'error');
  // The body as sent is what GitHub signs: keep it (these routes only; the plugin is encapsulated).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    ['application/json', 'application/cloudevents+json'],
    { parseAs: 'string', bodyLimit: 1024 * 1024 },
    (req, body, done) => {
      raws.set(req, body as string);
      void json(req, body as string, done);
    },
  );
  // GitHub's other content type: `payload=<the JSON>`, signed as sent.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 1024 * 1024 },
    (req, body, done) => {
      raws.set(req, body as string);
      const payload = new URLSearchParams(body as string).get('payload');
      if (payload === null)
        return done(new HttpError(400, 'invalid_request', 'payload: is required', 'payload'));
      try {
        done(null, JSON.parse(payload));
      } catch {
        done(new HttpError(400, 'invalid_request', 'payload: is not JSON', 'payload'));
      }
    },
  );

  const record = async (reading: ChangeReading, actor: string, reply: FastifyReply, req: FastifyRequest) => {
    if ('field' in reading)
      throw new HttpError(400, 'invalid_request', `${reading.field}: ${reading.message}`, reading.field);
    if ('ignored' in reading) {
      req.log.info({ actor, reason: reading.ignored }, 'change event ignored');
      return reply.status(202).send({ recorded: false as const, reason: reading.ignored });
    }
    const change = await o.postmortems.recordChange(actor, reading.change);
    req.log.info({ actor, change: change.id }, 'change event recorded');
    return reply.status(201).send({ recorded: true as const, change });
  };
  const targets = (q: { services?: string; hosts?: string }): ChangeTargets => ({
    services: list(q.services),
    hosts: list(q.hosts),
  });

  /** Throttled, unsigned, not set up, wrong: answered here, before the body is looked at. */
  const guard =
    (o2: {
      field: string;
      what: string;
      env: string;
      ok: (secret: string, req: FastifyRequest) => boolean | undefined;
    }) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      const refused = wrongKeys.refused(req.ip);
      if (refused) return sendWrongKeysThrottled(reply, refused, o2.field, o2.what);
      const secret = o.env[o2.env];
      if (!secret)
        throw new HttpError(
          401,
          'unauthorized',
          `${o2.field}: webhooks are not set up here (${o2.env} is not set), so none can be verified`,
          o2.field,
        );
      const verdict = o2.ok(secret, req);
      // No signature at all is a sender not set up yet, not a guess: 401, not counted.
      if (verdict === undefined)
        throw new HttpError(401, 'unauthorized', `${o2.field}: is required`, o2.field);
      if (!verdict) {
        const wait = wrongKeys.wrong(req.ip);
        if (wait) return sendWrongKeysThrottled(reply, wait, o2.field, o2.what);
        throw new HttpError(401, 'unauthorized', `${o2.field}: does not match`, o2.field);
      }
    };

  const webhookResponses = {
    200: Ignored,
    201: Recorded,
    202: Ignored,
    400: ErrorBody,
    401: ErrorBody,
    413: ErrorBody,
    415: ErrorBody,
    429: ErrorBody,
    503: ErrorBody,
  };

  app.post(
    '/api/changes/cdevents',
    {
      preHandler: app.staff,
      config: { role: 'responder', action: 'Recording a change' },
      schema: {
        tags: ['changes'],
        summary: 'Record a CDEvent dev.cdevents.service.deployed',
        description:
          'The CDEvent as JSON (`{context, subject}`), or a CloudEvent in structured mode (application/cloudevents+json) carrying it in `data`. Other CDEvents are answered 202 and not recorded. Idempotent by context.source and context.id.',
        security: [{ bearer: [] }],
        querystring: Targets,
        body: AnyJson,
        response: { ...webhookResponses, 403: ErrorBody },
      },
    },
    async (req, reply) => record(readCdevent(req.body, targets(req.query)), req.actor!, reply, req),
  );

  app.post(
    '/api/changes/github',
    {
      preValidation: guard({
        field: 'X-Hub-Signature-256',
        what: 'webhook signatures',
        env: 'GITHUB_WEBHOOK_SECRET',
        ok: (secret, req) => {
          const sig = header(req, 'x-hub-signature-256');
          if (!sig) return undefined;
          return verifyGithubSignature(secret, raws.get(req) ?? '', sig);
        },
      }),
      schema: {
        tags: ['changes'],
        summary: 'GitHub deployment_status webhook',
        description:
          'Set up in GitHub with the secret in GITHUB_WEBHOOK_SECRET; X-Hub-Signature-256 is checked over the body as sent. A deployment status success, failure or error is recorded; other states, `ping` and other events are answered 200/202 and not recorded. Idempotent by the deployment status id.',
        querystring: Targets,
        body: AnyJson,
        response: webhookResponses,
      },
    },
    async (req, reply) => {
      const event = header(req, 'x-github-event');
      if (event === 'ping') return reply.status(200).send({ recorded: false as const, reason: 'pong' });
      if (event !== 'deployment_status')
        return reply.status(202).send({
          recorded: false as const,
          reason: `X-GitHub-Event ${event ?? '(none)'} is not deployment_status; nothing recorded`,
        });
      return record(readGithubDeploymentStatus(req.body, targets(req.query)), 'github-webhook', reply, req);
    },
  );

  app.post(
    '/api/changes/gitlab',
    {
      preValidation: guard({
        field: 'X-Gitlab-Token',
        what: 'webhook tokens',
        env: 'GITLAB_WEBHOOK_TOKEN',
        ok: (secret, req) => {
          const token = header(req, 'x-gitlab-token');
          if (token === undefined) return undefined;
          return verifyGitlabToken(secret, token);
        },
      }),
      schema: {
        tags: ['changes'],
        summary: 'GitLab deployment webhook',
        description:
          'Set up in GitLab with the secret token in GITLAB_WEBHOOK_TOKEN (sent as X-Gitlab-Token). A deployment that succeeded or failed is recorded; running and canceled ones and other events are answered 202 and not recorded. Idempotent by the deployment id and status.',
        querystring: Targets,
        body: AnyJson,
        response: webhookResponses,
      },
    },
    async (req, reply) =>
      record(readGitlabDeployment(req.body, targets(req.query)), 'gitlab-webhook', reply, req),
  );
};
