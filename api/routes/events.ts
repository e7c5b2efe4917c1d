/**
 * Inbound events from the alerting tools people already run: a PagerDuty Events API v2 compatible
 * endpoint and a Prometheus Alertmanager webhook receiver. Each event opens, joins, acknowledges or
 * recovers the incident of a configured service (`integrations[]` in the config).
 *
 * - The key of an integration (routing key, bearer token) is a secret: only SHA-256 hashes are kept
 *   and compared, and it is never logged nor part of an event id.
 * - A key acts only for the services its integration lists: its own `service` and `services[]`. An
 *   Alertmanager alert whose `labels.service` names another configured service refuses the whole
 *   webhook (403 naming the alert's field); one key cannot open a P0 on every service.
 * - Dedup: what keeps the incident open is `event:<integration>:<dedup_key|fingerprint>`, so one
 *   alert is one key of one incident; the event id (the Temporal update id) is a hash of the
 *   delivery, so the same delivery retried is recorded once.
 * - Alerts skip verification (`skipVerify`): the alerting tool has already evaluated its rule, often
 *   over a `for:` duration, and our probes may not even measure what the alert measures — the
 *   alert is the signal, as in PagerDuty. A failing check of the service still joins the incident.
 * - Wrong keys are throttled per address and globally (429 with Retry-After, see wrong-keys.ts); a
 *   sender that never sent a wrong key is never held back by them.
 * - Bounded under bursts: at most `maxPending` requests are processed at once (beyond that: 429 for
 *   PagerDuty, 503 for Alertmanager, both with Retry-After, and both senders retry), at most
 *   `concurrency` Temporal operations run at once, identical deliveries in flight share one
 *   operation, and events of one key are processed in arrival order.
 */
import { timingSafeEqual } from 'node:crypto';
import { sha256 } from '../plugins/auth.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { severities, type Config, type Severity } from '../../domain/config-schema.js';
import { serviceById } from '../../domain/model.js';
import type { IncidentService } from '../incident-service.js';
import { HttpError } from '../errors.js';
import {
  canonical,
  clip,
  createEventIntake,
  servicesOf,
  type EventLimits,
  type Integration,
} from '../event-intake.js';

export type { EventLimits } from '../event-intake.js';
import { createWrongKeys, sendWrongKeysThrottled } from '../plugins/wrong-keys.js';

const rank = (s: Severity) => severities.indexOf(s);
/** PagerDuty / Alertmanager severity → ours; the service's configured severity is the floor. */
const severityMap: Record<string, Severity> = {
  critical: 'P1',
  error: 'P2',
  warning: 'P3',
  info: 'P3',
};
export function eventSeverity(alert: string | undefined, service: Severity): Severity {
  const a = alert?.trim();
  const mapped = a
    ? /^p[0-3]$/i.test(a)
      ? (a.toUpperCase() as Severity)
      : severityMap[a.toLowerCase()]
    : undefined;
  return mapped && rank(mapped) < rank(service) ? mapped : service;
}

// ---- schemas --------------------------------------------------------------------------------------

const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });
const PagerDutyEvent = Type.Object(
  {
    routing_key: Type.String({ minLength: 1, maxLength: 200 }),
    event_action: Type.Enum(['trigger', 'acknowledge', 'resolve']),
    dedup_key: Type.Optional(Text(255)),
    payload: Type.Optional(
      Type.Object(
        {
          summary: Type.Optional(Text(1024)),
          source: Type.Optional(Text(255)),
          severity: Type.Optional(Type.Enum(['critical', 'error', 'warning', 'info'])),
          timestamp: Type.Optional(Type.String({ maxLength: 64 })),
          component: Type.Optional(Type.String({ maxLength: 255 })),
          group: Type.Optional(Type.String({ maxLength: 255 })),
          class: Type.Optional(Type.String({ maxLength: 255 })),
          custom_details: Type.Optional(Type.Unknown()),
        },
        { additionalProperties: true },
      ),
    ),
    client: Type.Optional(Type.String({ maxLength: 255 })),
    client_url: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  { additionalProperties: true, description: 'PagerDuty Events API v2 event' },
);
type PagerDutyEvent = Static<typeof PagerDutyEvent>;

const PagerDutyAccepted = Type.Object({
  status: Type.Literal('success'),
  message: Type.String(),
  dedup_key: Type.String(),
});
const PagerDutyInvalid = Type.Object({
  status: Type.String(),
  message: Type.String(),
  errors: Type.Optional(Type.Array(Type.String())),
});

const Labels = Type.Record(Type.String(), Type.String());
const AlertmanagerAlert = Type.Object(
  {
    status: Type.Enum(['firing', 'resolved']),
    labels: Labels,
    annotations: Type.Optional(Labels),
    startsAt: Type.String({ minLength: 1, maxLength: 64 }),
    endsAt: Type.Optional(Type.String({ maxLength: 64 })),
    generatorURL: Type.Optional(Type.String({ maxLength: 4096 })),
    fingerprint: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { additionalProperties: true },
);
const AlertmanagerWebhook = Type.Object(
  {
    version: Type.Literal('4'),
    status: Type.Enum(['firing', 'resolved']),
    receiver: Type.String({ maxLength: 255 }),
    groupKey: Type.String({ maxLength: 4096 }),
    truncatedAlerts: Type.Optional(Type.Integer({ minimum: 0 })),
    groupLabels: Type.Optional(Labels),
    commonLabels: Type.Optional(Labels),
    commonAnnotations: Type.Optional(Labels),
    externalURL: Type.Optional(Type.String({ maxLength: 4096 })),
    alerts: Type.Array(AlertmanagerAlert, { maxItems: 1000 }),
  },
  { additionalProperties: true, description: 'Alertmanager webhook payload, version 4' },
);
type AlertmanagerAlert = Static<typeof AlertmanagerAlert>;

const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
});

// ---- helpers --------------------------------------------------------------------------------------

/** The first field an Ajv error is about, as `payload.summary`. */
function fieldOf(err: FastifyError): string {
  const first = err.validation?.[0];
  const path = (first?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
  return [path, missing].filter(Boolean).join('.') || 'body';
}

function describeValidation(err: FastifyError): string {
  const first = err.validation?.[0];
  const allowed = (first?.params as { allowedValues?: unknown[] } | undefined)?.allowedValues;
  const why = first?.keyword === 'required' ? 'is required' : (first?.message ?? 'is invalid');
  return `${fieldOf(err)}: ${why}${allowed ? ` (${allowed.join(', ')})` : ''}`;
}

const invalidEvent = (reply: FastifyReply, errors: string[]) =>
  reply.status(400).send({ status: 'invalid event', message: 'Event object is invalid', errors });

// ---- routes ---------------------------------------------------------------------------------------

export const eventRoutes: FastifyPluginAsyncTypebox<{
  incidents: IncidentService;
  config: Config;
  limits?: Partial<EventLimits>;
}> = async (app, o) => {
  const intake = createEventIntake(app, o);
  const { config, keyHashes, admit, release, once, inOrder, open, recover, acknowledge } = intake;
  const pagerdutyByKey = new Map<string, Integration>();
  for (const g of config.integrations)
    if (g.kind === 'pagerduty') for (const h of keyHashes.get(g.id) ?? []) pagerdutyByKey.set(h, g);

  // Wrong keys (routing keys, Alertmanager tokens; heartbeat tokens share the count) are throttled
  // per address and globally: 429 with Retry-After, before the key is looked at.
  const wrongKeys = app.hasDecorator('wrongKeys') ? app.wrongKeys : createWrongKeys();
  const pagerdutyThrottled = (reply: FastifyReply, wait: number) =>
    reply
      .status(429)
      .header('retry-after', String(wait))
      .send({
        status: 'throttle event',
        message: `routing_key: too many wrong routing keys from this address; retry in ${wait} s`,
      });

  // ---- PagerDuty Events API v2 ------------------------------------------------------------------

  /** PagerDuty's error shape for everything the sender got wrong; the rest as every route does. */
  const pagerdutyErrors = (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
    if (err.validation) return invalidEvent(reply, [describeValidation(err)]);
    if (err instanceof HttpError && err.statusCode === 400) return invalidEvent(reply, [err.message]);
    if (!(err instanceof HttpError) && err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      const why =
        err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'body: larger than 512 KiB'
          : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'body: must be application/json'
            : `body: ${err.message}`;
      return invalidEvent(reply, [why]);
    }
    throw err;
  };

  const pagerduty = async (ev: PagerDutyEvent, req: FastifyRequest, reply: FastifyReply) => {
    const integration = pagerdutyByKey.get(sha256(ev.routing_key));
    if (!integration) {
      const wait = wrongKeys.wrong(req.ip);
      if (wait) return pagerdutyThrottled(reply, wait);
      return invalidEvent(reply, ['routing_key: unknown']);
    }
    const errors: string[] = [];
    if (ev.event_action === 'trigger') {
      if (!ev.payload) errors.push('payload: is required for trigger');
      else
        for (const f of ['summary', 'source', 'severity'] as const)
          if (!ev.payload[f]) errors.push(`payload.${f}: is required for trigger`);
    } else if (!ev.dedup_key) errors.push(`dedup_key: is required for ${ev.event_action}`);
    if (errors.length) return invalidEvent(reply, errors);

    const { routing_key: _secret, ...rest } = ev;
    const eventId = sha256(`pagerduty:${integration.id}:${canonical(rest)}`);
    // No dedup_key on a trigger: one derived from the event, so a redelivery gets the same one.
    const dedupKey = ev.dedup_key ?? eventId.slice(0, 32);
    const key = `event:${integration.id}:${dedupKey}`;
    const actor = `pagerduty:${integration.id}`;
    if (!admit())
      return reply
        .status(429)
        .header('retry-after', '1')
        .send({ status: 'throttle event', message: 'Too many events in flight; retry later' });
    try {
      const log = { integration: integration.id, action: ev.event_action, dedup_key: dedupKey };
      await once(eventId, () =>
        inOrder(key, async () => {
          const serviceId = integration.service;
          if (ev.event_action === 'trigger') {
            const p = ev.payload!;
            const service = serviceById(config, serviceId)!;
            const r = await open(serviceId, {
              eventId,
              source: 'event',
              actor,
              reason: clip(`${p.summary!} (${p.source!})`, 2000),
              severity: eventSeverity(p.severity, service.severity),
              skipVerify: true,
              key,
            });
            req.log.info({ ...log, incident: r.id, opened: r.opened }, 'pagerduty trigger');
          } else if (ev.event_action === 'acknowledge') {
            const id = await acknowledge(serviceId, key, eventId, actor);
            req.log.info(
              { ...log, incident: id ?? null },
              id
                ? 'pagerduty acknowledge'
                : 'pagerduty acknowledge: no open incident holds this dedup_key; nothing to do',
            );
          } else {
            const id = await recover(serviceId, {
              eventId,
              key,
              actor,
              detail: `resolved by a PagerDuty event (dedup_key ${dedupKey})`,
            });
            req.log.info(
              { ...log, incident: id ?? null },
              id
                ? 'pagerduty resolve'
                : 'pagerduty resolve: no open incident holds this dedup_key; nothing to do',
            );
          }
        }),
      );
    } finally {
      release();
    }
    return reply.status(202).send({ status: 'success', message: 'Event processed', dedup_key: dedupKey });
  };

  const pagerdutyRoute = (url: string, summary: string) =>
    app.post(
      url,
      {
        bodyLimit: 512 * 1024,
        // An address that sent too many wrong routing keys waits, before its body is read.
        onRequest: async (req, reply) => {
          const wait = wrongKeys.refused(req.ip);
          if (wait) return pagerdutyThrottled(reply, wait);
        },
        errorHandler: pagerdutyErrors,
        schema: {
          tags: ['events'],
          summary,
          description:
            'Compatible with the PagerDuty Events API v2: the routing key selects an integration (and with it the service); trigger opens or joins its incident, acknowledge stops escalation, resolve recovers the dedup key.',
          body: PagerDutyEvent,
          response: { 202: PagerDutyAccepted, 400: PagerDutyInvalid, 429: PagerDutyInvalid, 503: ErrorBody },
        },
      },
      async (req, reply) => pagerduty(req.body, req, reply),
    );
  pagerdutyRoute('/api/events/pagerduty', 'Send an event (PagerDuty Events API v2)');
  pagerdutyRoute('/v2/enqueue', 'Send an event (PagerDuty Events API v2 path, for drop-in compatibility)');

  // ---- Alertmanager webhook ---------------------------------------------------------------------

  const alertmanagerThrottled = (reply: FastifyReply, wait: number) =>
    sendWrongKeysThrottled(reply, wait, 'authorization', 'integration tokens');

  const unauthorized = () =>
    new HttpError(
      401,
      'unauthorized',
      'a valid integration bearer token is required (Authorization: Bearer <key>)',
    );

  app.post(
    '/api/events/alertmanager/:integrationId',
    {
      bodyLimit: 1024 * 1024,
      // Authenticate before the body is read or validated.
      onRequest: async (req: FastifyRequest, reply: FastifyReply) => {
        const refused = wrongKeys.refused(req.ip);
        if (refused) return alertmanagerThrottled(reply, refused);
        const { integrationId } = req.params as { integrationId?: string };
        const integration = config.integrations.find(
          (g) => g.id === integrationId && g.kind === 'alertmanager',
        );
        const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
        // No token at all is a sender not set up yet, not a guess: 401, not counted.
        if (!m) throw unauthorized();
        const given = Buffer.from(sha256(m[1]!), 'hex');
        const ok =
          !!integration &&
          (keyHashes.get(integration.id) ?? []).some((h) => timingSafeEqual(Buffer.from(h, 'hex'), given));
        if (!ok) {
          const wait = wrongKeys.wrong(req.ip);
          if (wait) return alertmanagerThrottled(reply, wait);
          throw unauthorized();
        }
      },
      schema: {
        tags: ['events'],
        summary: 'Receive a Prometheus Alertmanager webhook (version 4)',
        description:
          "Each firing alert opens or joins the incident of `labels.service` (when that is a configured service) or of the integration's service; each resolved alert recovers it. An integration acts only for its own service and those it lists (`integrations[].services`): an alert naming another configured service refuses the whole webhook with 403. Authorization: Bearer <the integration key>.",
        security: [{ bearer: [] }],
        params: Type.Object({ integrationId: Type.String({ minLength: 1, maxLength: 100 }) }),
        body: AlertmanagerWebhook,
        response: {
          200: Type.Object({ processed: Type.Integer() }),
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
          429: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      const integration = config.integrations.find((g) => g.id === req.params.integrationId)!;
      const actor = `alertmanager:${integration.id}`;
      if (!admit())
        return reply
          .status(503)
          .header('retry-after', '1')
          .send({ statusCode: 503, error: 'busy', message: 'too many events in flight; retry later' });
      try {
        // One service's alerts in payload order (the first opens, the rest join); services side by side.
        // An integration acts only for the services it lists: checked for every alert before any runs.
        const allowed = servicesOf(integration);
        const byService = new Map<string, AlertmanagerAlert[]>();
        req.body.alerts.forEach((a, i) => {
          const wanted = a.labels.service;
          const serviceId = wanted && serviceById(config, wanted) ? wanted : integration.service;
          if (!allowed.includes(serviceId))
            throw new HttpError(
              403,
              'service_not_allowed',
              `alerts[${i}].labels.service: integration "${integration.id}" may not open incidents for service "${serviceId}" (it may for: ${allowed.join(', ')}; list others in its services)`,
              `alerts[${i}].labels.service`,
            );
          byService.set(serviceId, [...(byService.get(serviceId) ?? []), a]);
        });
        const handle = async (serviceId: string, a: AlertmanagerAlert) => {
          const key = `event:${integration.id}:${a.fingerprint}`;
          const eventId = sha256(`alertmanager:${integration.id}:${a.fingerprint}:${a.status}:${a.startsAt}`);
          const name = a.labels.alertname ?? a.fingerprint;
          const log = {
            integration: integration.id,
            alert: name,
            fingerprint: a.fingerprint,
            service: serviceId,
          };
          await once(eventId, () =>
            inOrder(key, async () => {
              if (a.status === 'firing') {
                const r = await open(serviceId, {
                  eventId,
                  source: 'event',
                  actor,
                  reason: clip(a.annotations?.summary || name, 2000),
                  severity: eventSeverity(a.labels.severity, serviceById(config, serviceId)!.severity),
                  skipVerify: true,
                  key,
                });
                req.log.info({ ...log, incident: r.id, opened: r.opened }, 'alertmanager firing');
              } else {
                const id = await recover(serviceId, {
                  eventId,
                  key,
                  actor,
                  detail: `alert ${name} resolved${a.endsAt ? ` at ${a.endsAt}` : ''}`,
                });
                req.log.info(
                  { ...log, incident: id ?? null },
                  id
                    ? 'alertmanager resolved'
                    : 'alertmanager resolved: no open incident holds this alert; nothing to do',
                );
              }
            }),
          );
        };
        await Promise.all(
          [...byService].map(async ([serviceId, alerts]) => {
            for (const a of alerts) await handle(serviceId, a);
          }),
        );
        return { processed: req.body.alerts.length };
      } finally {
        release();
      }
    },
  );
};
