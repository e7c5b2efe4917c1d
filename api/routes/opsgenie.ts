/**
 * An Opsgenie Alert API v2 compatible endpoint, so senders that speak Opsgenie (Alertmanager's
 * `opsgenie_configs` with `api_url` pointed here, scripts, monitoring tools) move by changing a URL:
 *
 * - `POST /v2/alerts` opens or joins the incident of the integration's service (or of the service
 *   `details.service` or `entity` names, when the integration lists it); the alias is the dedup key,
 *   as PagerDuty's `dedup_key` (`event:<integration>:<alias>` in the incident's open keys).
 * - `POST /v2/alerts/:identifier/close` recovers that alias (or, with `identifierType=id`, every
 *   key the integration holds in that incident); `/acknowledge` acknowledges the incident.
 * - `Authorization: GenieKey <key>` of an integration of kind `opsgenie`; 401 for no or a wrong key
 *   (wrong keys are throttled with the other inbound routes: 429 with Retry-After), 403 for a
 *   service the integration does not list.
 * - Answers as Opsgenie does: 202 `{result, took, requestId}`; 400 for a body that is not JSON,
 *   422 `{message, errors: {field: why}, took, requestId}` for a field that is wrong; every answer
 *   carries `X-Request-ID`.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Config } from '../../domain/config-schema.js';
import { serviceById } from '../../domain/model.js';
import {
  opsgenieNamedService,
  opsgeniePriorities,
  opsgenieReason,
  opsgenieSeverity,
} from '../../domain/opsgenie.js';
import { parseIncidentId } from '../../workflows/definitions.js';
import type { IncidentService } from '../incident-service.js';
import { HttpError } from '../errors.js';
import {
  canonical,
  createEventIntake,
  servicesOf,
  type EventLimits,
  type Integration,
} from '../event-intake.js';
import { sha256 } from '../plugins/auth.js';
import { createWrongKeys } from '../plugins/wrong-keys.js';

// ---- schemas (Opsgenie's documented fields and limits) --------------------------------------------

const Responder = Type.Object(
  {
    id: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    username: Type.Optional(Type.String()),
    type: Type.String(),
  },
  { additionalProperties: true },
);

const CreateAlert = Type.Object(
  {
    message: Type.String({ minLength: 1, maxLength: 130 * 4 }),
    alias: Type.Optional(Type.String({ maxLength: 512 })),
    description: Type.Optional(Type.String({ maxLength: 15000 })),
    responders: Type.Optional(Type.Array(Responder, { maxItems: 50 })),
    visibleTo: Type.Optional(Type.Array(Responder, { maxItems: 50 })),
    actions: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 10 })),
    tags: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 20 })),
    details: Type.Optional(Type.Record(Type.String(), Type.String())),
    entity: Type.Optional(Type.String({ maxLength: 512 })),
    source: Type.Optional(Type.String({ maxLength: 100 })),
    priority: Type.Optional(Type.Enum([...opsgeniePriorities, ''])),
    user: Type.Optional(Type.String({ maxLength: 100 })),
    note: Type.Optional(Type.String({ maxLength: 25000 })),
  },
  { additionalProperties: true, description: 'Opsgenie Alert API v2: create alert' },
);
type CreateAlert = Static<typeof CreateAlert>;

const ActionBody = Type.Object(
  {
    user: Type.Optional(Type.String({ maxLength: 100 })),
    source: Type.Optional(Type.String({ maxLength: 100 })),
    note: Type.Optional(Type.String({ maxLength: 25000 })),
  },
  { additionalProperties: true },
);

const Accepted = Type.Object({ result: Type.String(), took: Type.Number(), requestId: Type.String() });
const Refused = Type.Object({
  message: Type.String(),
  errors: Type.Optional(Type.Record(Type.String(), Type.String())),
  took: Type.Number(),
  requestId: Type.String(),
});
const Identifier = Type.Object({ identifier: Type.String({ minLength: 1, maxLength: 512 }) });
const IdentifierQuery = Type.Object({
  identifierType: Type.Optional(Type.Enum(['id', 'alias', 'tiny'])),
});

// ---- answers --------------------------------------------------------------------------------------

const started = new WeakMap<FastifyRequest, number>();
const took = (req: FastifyRequest) => Math.round((performance.now() - (started.get(req) ?? 0)) / 10) / 100;
const requestId = (req: FastifyRequest, reply: FastifyReply) => {
  const id = (reply.getHeader('x-request-id') as string | undefined) ?? randomUUID();
  reply.header('x-request-id', id);
  void req;
  return id;
};

function refuse(
  req: FastifyRequest,
  reply: FastifyReply,
  status: number,
  message: string,
  errors?: Record<string, string>,
) {
  return reply
    .status(status)
    .send({ message, ...(errors ? { errors } : {}), took: took(req), requestId: requestId(req, reply) });
}

/** The first field an Ajv error is about, as `details.service`, and why. */
function validationErrors(err: FastifyError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of err.validation ?? []) {
    const path = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const missing = (v.params as { missingProperty?: string }).missingProperty;
    const field = [path, missing].filter(Boolean).join('.') || 'body';
    const allowed = (v.params as { allowedValues?: unknown[] }).allowedValues;
    if (!out[field])
      out[field] =
        v.keyword === 'required'
          ? 'is required'
          : `${v.message ?? 'is invalid'}${allowed ? ` (${allowed.join(', ')})` : ''}`;
  }
  return out;
}

// ---- routes ---------------------------------------------------------------------------------------

export const opsgenieRoutes: FastifyPluginAsyncTypebox<{
  incidents: IncidentService;
  config: Config;
  limits?: Partial<EventLimits>;
}> = async (app, o) => {
  const intake = createEventIntake(app, o);
  const { config } = intake;
  const configured = new Set(config.services.map((s) => s.id));
  const wrongKeys = app.hasDecorator('wrongKeys') ? app.wrongKeys : createWrongKeys();
  const byRequest = new WeakMap<FastifyRequest, Integration>();

  const throttled = (req: FastifyRequest, reply: FastifyReply, wait: number) =>
    refuse(
      req,
      reply.header('retry-after', String(wait)),
      429,
      `Authorization: too many wrong API keys from this address; try again in ${wait} s`,
    );

  // Authenticate before the body is read or validated; time every answer (`took`).
  const authenticate = async (req: FastifyRequest, reply: FastifyReply) => {
    started.set(req, performance.now());
    const refused = wrongKeys.refused(req.ip);
    if (refused) return throttled(req, reply, refused);
    const m = /^GenieKey\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    // No key at all is a sender not set up yet, not a guess: 401, not counted.
    if (!m)
      return refuse(req, reply, 401, 'Authorization: a GenieKey is required (Authorization: GenieKey <key>)');
    const integration = intake.byKey('opsgenie', m[1]!);
    if (!integration) {
      const wait = wrongKeys.wrong(req.ip);
      if (wait) return throttled(req, reply, wait);
      return refuse(
        req,
        reply,
        401,
        'Authorization: the API key is invalid or its integration is not set up',
      );
    }
    byRequest.set(req, integration);
  };

  const errorHandler = (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (err.validation) {
      const errors = validationErrors(err);
      return refuse(
        req,
        reply,
        422,
        `Request body is not processable. Please check the errors: ${Object.entries(errors)
          .map(([k, v]) => `${k} ${v}`)
          .join('; ')}`,
        errors,
      );
    }
    if (err instanceof HttpError)
      return refuse(
        req,
        reply,
        err.statusCode,
        err.message,
        err.field ? { [err.field]: err.message } : undefined,
      );
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      const why =
        err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'body: larger than 256 KiB'
          : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'body: must be application/json'
            : `body: ${err.message}`;
      return refuse(req, reply, err.statusCode === 413 ? 413 : 400, why, { body: why });
    }
    throw err;
  };

  const busy = (req: FastifyRequest, reply: FastifyReply) =>
    refuse(req, reply.header('retry-after', '1'), 429, 'Too many alerts in flight; retry later');

  const accepted = (req: FastifyRequest, reply: FastifyReply) =>
    reply
      .status(202)
      .send({ result: 'Request will be processed', took: took(req), requestId: requestId(req, reply) });

  const forbidden = (integration: Integration, serviceId: string, field: string) =>
    new HttpError(
      403,
      'service_not_allowed',
      `${field}: integration "${integration.id}" may not act for service "${serviceId}" (it may for: ${servicesOf(integration).join(', ')}; list others in its services)`,
      field,
    );

  const common = {
    bodyLimit: 256 * 1024,
    onRequest: authenticate,
    errorHandler,
  };
  const responses = {
    202: Accepted,
    400: Refused,
    401: Refused,
    403: Refused,
    422: Refused,
    429: Refused,
    503: Refused,
  };

  app.post(
    '/v2/alerts',
    {
      ...common,
      schema: {
        tags: ['events'],
        summary: 'Create an alert (Opsgenie Alert API v2)',
        description:
          "Opens or joins the incident of the integration's service, or of the service `details.service` or `entity` names when the integration lists it. The alias is the dedup key; priority P1–P5 maps to a severity (never below the service's). Authorization: GenieKey <the integration key>.",
        body: CreateAlert,
        response: responses,
      },
    },
    async (req, reply) => {
      const integration = byRequest.get(req)!;
      const a: CreateAlert = req.body;
      const named = opsgenieNamedService(a, configured);
      const serviceId = named?.service ?? integration.service;
      if (!servicesOf(integration).includes(serviceId)) throw forbidden(integration, serviceId, named!.field);
      const eventId = sha256(`opsgenie:${integration.id}:${canonical(a)}`);
      // No alias: one derived from the alert, so a redelivery gets the same one (as PagerDuty's dedup_key).
      const alias = a.alias?.trim() || eventId.slice(0, 32);
      const key = `event:${integration.id}:${alias}`;
      if (!intake.admit()) return busy(req, reply);
      try {
        await intake.once(eventId, () =>
          intake.inOrder(key, async () => {
            const r = await intake.open(serviceId, {
              eventId,
              source: 'event',
              actor: `opsgenie:${integration.id}`,
              reason: opsgenieReason({ ...a, message: a.message.slice(0, 130) }),
              severity: opsgenieSeverity(a.priority, serviceById(config, serviceId)!.severity),
              skipVerify: true,
              key,
            });
            req.log.info(
              { integration: integration.id, alias, incident: r.id, opened: r.opened },
              'opsgenie create',
            );
          }),
        );
      } finally {
        intake.release();
      }
      return accepted(req, reply);
    },
  );

  /** Close or acknowledge by alias (the key, in any service the integration lists) or by incident id. */
  const action = (verb: 'close' | 'acknowledge') =>
    app.post(
      `/v2/alerts/:identifier/${verb}`,
      {
        ...common,
        schema: {
          tags: ['events'],
          summary: `${verb === 'close' ? 'Close' : 'Acknowledge'} an alert (Opsgenie Alert API v2)`,
          description:
            verb === 'close'
              ? 'identifierType=alias (what Alertmanager sends): recovers that alias; the incident resolves when every key that opened it has recovered. identifierType=id: the incident id; recovers every key this integration holds in it. An alert no open incident holds is answered 202 and changes nothing.'
              : 'Acknowledges the incident holding the alias (identifierType=alias) or the incident of that id (identifierType=id); escalation stops.',
          params: Identifier,
          querystring: IdentifierQuery,
          body: Type.Optional(ActionBody),
          response: responses,
        },
      },
      async (req, reply) => {
        const integration = byRequest.get(req)!;
        const { identifier } = req.params;
        const type = req.query.identifierType ?? 'id';
        if (type === 'tiny')
          return refuse(req, reply, 422, 'identifierType: tiny ids are not supported here; use alias or id', {
            identifierType: 'tiny is not supported (alias, id)',
          });
        const actor = `opsgenie:${integration.id}`;
        const eventId = sha256(
          `opsgenie:${integration.id}:${verb}:${type}:${identifier}:${canonical(req.body ?? {})}`,
        );
        const note = (req.body as { note?: string } | undefined)?.note;
        if (!intake.admit()) return busy(req, reply);
        try {
          if (type === 'alias') {
            const key = `event:${integration.id}:${identifier}`;
            const id = await intake.once(eventId, () =>
              intake.inOrder(key, async () => {
                for (const serviceId of servicesOf(integration)) {
                  const done =
                    verb === 'close'
                      ? await intake.recover(serviceId, {
                          eventId,
                          key,
                          actor,
                          detail: `closed by an Opsgenie request (alias ${identifier})${note ? `: ${note}` : ''}`,
                        })
                      : await intake.acknowledge(serviceId, key, eventId, actor);
                  if (done) return done;
                }
                return undefined;
              }),
            );
            req.log.info(
              { integration: integration.id, alias: identifier, incident: id ?? null },
              id ? `opsgenie ${verb}` : `opsgenie ${verb}: no open incident holds this alias; nothing to do`,
            );
          } else {
            const parsed = parseIncidentId(identifier);
            if (parsed) {
              const serviceId = parsed.workflowId.replace(/^incident-/, '');
              if (!servicesOf(integration).includes(serviceId))
                throw forbidden(integration, serviceId, 'identifier');
            }
            const view = parsed ? await o.incidents.get(identifier).catch(() => undefined) : undefined;
            let done = false;
            if (view && !view.closedAt) {
              await intake.once(eventId, async () => {
                if (verb === 'acknowledge') {
                  await o.incidents.acknowledge(view.id, actor).catch((e: unknown) => {
                    if (!(e instanceof HttpError && (e.statusCode === 404 || e.statusCode === 409))) throw e;
                  });
                } else {
                  const mine = view.openKeys.filter((k) => k.startsWith(`event:${integration.id}:`));
                  for (const key of mine)
                    await intake.recover(view.service.id, {
                      eventId: sha256(`${eventId}:${key}`),
                      key,
                      actor,
                      detail: `closed by an Opsgenie request (incident ${view.id})${note ? `: ${note}` : ''}`,
                    });
                }
              });
              done = true;
            }
            req.log.info(
              { integration: integration.id, incident: identifier },
              done ? `opsgenie ${verb}` : `opsgenie ${verb}: no open incident has this id; nothing to do`,
            );
          }
        } finally {
          intake.release();
        }
        return accepted(req, reply);
      },
    );
  action('close');
  action('acknowledge');
};
