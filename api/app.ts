/**
 * The Fastify application: external plugins, then app plugins (errors, auth), then routes — the
 * order of fastify/demo. `server.ts` listens; tests build the app and call it.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../domain/config-schema.js';
import type { IncidentService } from './incident-service.js';
import { errorHandlerPlugin } from './plugins/errors.js';
import { authPlugin } from './plugins/auth.js';
import { createValidatorCompiler } from './plugins/validation.js';
import { healthRoutes } from './routes/health.js';
import { incidentRoutes } from './routes/incidents.js';
import { statusRoutes } from './routes/status.js';
import { statuspageRoutes } from './routes/statuspage.js';
import { docsRoutes } from './routes/docs.js';
import type { AckLinks } from '../activities/ack-links.js';
import { securityPlugin, type RateLimits } from './plugins/security.js';
import { createSessions } from './plugins/session.js';
import { createOidcLogin, type OidcSettings } from './oidc.js';
import { randomBytes } from 'node:crypto';
import { createStatusBoard } from './status-board.js';
import { statusPageRoutes } from './routes/status-page.js';
import { consoleRoutes } from './routes/console.js';
import { ackRoutes } from './routes/ack.js';
import { receiptRoutes } from './routes/receipts.js';
import { assetRoutes } from './routes/assets.js';
import { createMonitorReader, monitorRoutes } from './routes/monitors.js';
import { eventRoutes } from './routes/events.js';
import { opsgenieRoutes } from './routes/opsgenie.js';
import { createReportIntake, reportRoutes } from './routes/reports.js';
import type { PostmortemService } from './postmortem-service.js';
import { postmortemRoutes } from './routes/postmortems.js';
import { changeRoutes } from './routes/changes.js';
import { changeWebhookRoutes } from './routes/change-webhooks.js';
import { chatActionRoutes } from './routes/chat-actions.js';
import { createSubscribeIntake, subscribeRoutes } from './routes/subscribe.js';
import { createSubscriberRecords } from '../store/subscribers.js';
import { createSubscriberLinks } from '../activities/subscriber-links.js';

import type { Records } from '../store/records.js';
import { reportSummaryRoutes } from './routes/summary.js';
import { createApiMetrics, type ApiMetrics } from './metrics.js';
import { metricsPlugin } from './routes/metrics.js';
import { scheduleRoutes } from './routes/schedules.js';
import { createOnCallService } from './oncall-service.js';
import { createCalendarLinks } from './calendar-links.js';
import { createScheduleRecords } from '../store/schedules.js';
import type { Tracing } from '../config/tracing.js';

export interface AppOptions {
  config: Config;
  incidents: IncidentService;
  /** token → contact id, from STAFF_TOKENS. */
  staffTokens: Map<string, string>;
  logger?: boolean | object;
  /** Verifies one-click acknowledge links (ACK_LINK_SECRET); unset → /ack pages say it is not set up. */
  ackLinks?: Pick<AckLinks, 'verify' | 'verifyReceipt'>;
  /** Signs the console's session cookie (SESSION_SECRET); unset → a random key per process. */
  sessionSecret?: string;
  /** Absolute links in the Atom feed (PUBLIC_BASE_URL); unset → from the request. */
  publicBaseUrl?: string;
  rateLimits?: Partial<RateLimits>;
  /** Postmortems and change events; unset → their routes are not served. */
  postmortems?: PostmortemService;
  /** The record store every read comes from (the same one `incidents` uses). */
  records: Records;
  /** Prometheus metrics (`GET /metrics`); unset → the record's figures and request durations, without process metrics. */
  metrics?: ApiMetrics;
  /**
   * ACK_LINK_SECRET: signs personal on-call calendar feed links and verifies subscribers' confirm and
   * unsubscribe links (each with its own purpose); unset → no feeds, and those links do not work.
   */
  calendarSecret?: string;
  /** OpenID Connect sign-in for the console (api/oidc.ts, from OIDC_* variables); unset → staff tokens only. */
  oidc?: OidcSettings;
  /** Where the config's `*Env` names for chat buttons are read (Slack signing secret, Mattermost token); default `process.env`. */
  env?: Record<string, string | undefined>;
  /** OpenTelemetry (config/tracing.ts, off unless OTEL_* asks): a span per request, joined to an incoming `traceparent`. */
  tracing?: Pick<Tracing, 'fastifyPlugin'>;
}

export async function buildApp(o: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: o.logger ?? false,
    bodyLimit: 64 * 1024,
    // One-click acknowledge tokens (/ack/:token) are ~150 characters; the default allows 100.
    // Opsgenie aliases are up to 512 (longer ones get the route's 400 naming the field, not a 414).
    routerOptions: { maxParamLength: 1024 },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // JSON bodies as sent (no coercion), strict dates, finite numbers, bounded nesting.
  app.setValidatorCompiler(createValidatorCompiler());
  // First, so that every route and hook registered after it is inside the request's span.
  if (o.tracing) await app.register(o.tracing.fastifyPlugin());

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Incident orchestrator API',
        version: '0.1.0',
        description: 'Declare, follow and act on incidents.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(errorHandlerPlugin);
  await app.register(authPlugin, { config: o.config, staffTokens: o.staffTokens });
  await app.register(securityPlugin, { rateLimits: o.rateLimits });
  // Before the routes: its request-duration hook sees every one of them.
  await app.register(metricsPlugin, {
    metrics: o.metrics ?? createApiMetrics({ records: o.records, processMetrics: false }),
  });

  const oncall = createOnCallService({
    config: o.config,
    schedules: createScheduleRecords(o.records.db),
    calendarLinks: o.calendarSecret ? createCalendarLinks(o.calendarSecret) : undefined,
  });
  await app.register(healthRoutes, { incidents: o.incidents, config: o.config });
  await app.register(incidentRoutes, { incidents: o.incidents, config: o.config });
  const board = createStatusBoard({ records: o.records, config: o.config });
  await app.register(statusRoutes, { board });
  await app.register(statuspageRoutes, { board, publicBaseUrl: o.publicBaseUrl });
  // One intake, and one count of reports per client address, for the JSON endpoint and the form.
  const reports = createReportIntake({
    incidents: o.incidents,
    config: o.config,
    limit: app.rateLimits.reports,
    reporterKey: o.sessionSecret,
  });
  // Status page subscriptions: the same count per address as reports; links signed with ACK_LINK_SECRET.
  const subscribers = createSubscriberRecords(o.records.db);
  const subscriberLinks = o.calendarSecret
    ? createSubscriberLinks({ secret: o.calendarSecret, baseUrl: o.publicBaseUrl ?? 'http://localhost' })
    : undefined;
  const subscribeIntake = createSubscribeIntake({
    config: o.config,
    subscribers,
    links: o.publicBaseUrl ? subscriberLinks : undefined,
    limit: app.rateLimits.reports,
  });
  await app.register(statusPageRoutes, { board, reports, publicBaseUrl: o.publicBaseUrl, subscribe: true });
  await app.register(subscribeRoutes, { intake: subscribeIntake, subscribers, links: subscriberLinks });
  const monitors = createMonitorReader({
    incidents: o.incidents,
    config: o.config,
    records: o.records,
    log: app.log,
  });
  // The OIDC flow cookie is signed with the session key: the same random one per process when unset.
  const sessionSecret = o.sessionSecret ?? randomBytes(32).toString('base64url');
  const oidc = o.oidc
    ? createOidcLogin({ settings: o.oidc, config: o.config, secret: sessionSecret })
    : undefined;
  await app.register(consoleRoutes, {
    monitors,
    incidents: o.incidents,
    config: o.config,
    sessions: createSessions({
      secret: sessionSecret,
      // A session lasts while what opened it still holds: the person's token, or this OIDC client.
      tokenHashesOf: (actor) => [...app.staffTokenHashes(actor), ...(oidc ? [oidc.sessionBinding] : [])],
      ended: { end: (id, at) => o.records.endSession(id, at), isEnded: (id) => o.records.isSessionEnded(id) },
    }),
    ...(oidc ? { oidc } : {}),
    postmortems: o.postmortems,
    records: o.records,
    oncall,
  });
  await app.register(ackRoutes, { incidents: o.incidents, config: o.config, ackLinks: o.ackLinks });
  await app.register(receiptRoutes, { incidents: o.incidents, ackLinks: o.ackLinks });
  await app.register(chatActionRoutes, {
    incidents: o.incidents,
    config: o.config,
    env: o.env ?? process.env,
  });
  await app.register(assetRoutes);
  await app.register(monitorRoutes, { incidents: o.incidents, config: o.config, reader: monitors });
  await app.register(eventRoutes, { incidents: o.incidents, config: o.config });
  await app.register(opsgenieRoutes, { incidents: o.incidents, config: o.config });
  await app.register(reportRoutes, { reports });
  await app.register(reportSummaryRoutes, { records: o.records });
  await app.register(scheduleRoutes, { oncall, publicBaseUrl: o.publicBaseUrl });
  if (o.postmortems) await app.register(postmortemRoutes, { postmortems: o.postmortems });
  if (o.postmortems) await app.register(changeRoutes, { postmortems: o.postmortems });
  // CDEvents, GitHub and GitLab deployments (their secrets from the environment).
  if (o.postmortems)
    await app.register(changeWebhookRoutes, { postmortems: o.postmortems, env: o.env ?? process.env });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(docsRoutes);
  return app;
}
