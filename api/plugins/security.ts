/**
 * Security headers on every response (a strict Content-Security-Policy on HTML: same-origin styles
 * and scripts only, no framing, forms post only to this origin) and rate limits: every staff route
 * (any route guarded by `app.staff`, and the console, which opts in with `staffRateLimit`), the login
 * form and the one-click acknowledge links (customer reports keep their own count, shared by the JSON
 * endpoint and the status page's form: see `createReportIntake`). Wrong keys on the routes whose key
 * is their only credential (heartbeats, PagerDuty, Alertmanager) have one count, per address and
 * globally (`app.wrongKeys`, see wrong-keys.ts). Public pages are not limited per address (during an
 * outage a whole campus behind one address reloads the status page); the status board's cache
 * protects Temporal instead.
 */
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from '../errors.js';
import { createWrongKeys, defaultWrongKeyLimits, type WrongKeys } from './wrong-keys.js';

/** Requests per window and client address. */
export interface RateLimit {
  max: number;
  timeWindow: number;
}

export interface RateLimits {
  /** Staff API and console routes. */
  staff: RateLimit;
  /** POST /login (token guessing). */
  login: RateLimit;
  /** GET and POST /ack/:token. */
  ack: RateLimit;
  /** Customer reports, `POST /api/reports` and the status page's form together. */
  reports: RateLimit;
  /** Wrong heartbeat tokens, PagerDuty routing keys and Alertmanager tokens, per address (see wrong-keys.ts). */
  wrongKeys: RateLimit;
  /** The same, from all addresses together: beyond it, every address that sent a wrong key waits. */
  wrongKeysGlobal: RateLimit;
}

export const defaultRateLimits: RateLimits = {
  staff: { max: 600, timeWindow: 60_000 },
  login: { max: 20, timeWindow: 5 * 60_000 },
  ack: { max: 30, timeWindow: 60_000 },
  reports: { max: 5, timeWindow: 60_000 },
  wrongKeys: defaultWrongKeyLimits.perAddress,
  wrongKeysGlobal: defaultWrongKeyLimits.global,
};

export const htmlContentSecurityPolicy = [
  "default-src 'none'",
  "style-src 'self'",
  "script-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

// JSON, XML and the rest are never rendered as documents: nothing may load or frame them.
const otherContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'; sandbox";

declare module 'fastify' {
  interface FastifyInstance {
    /** The rate limits in force, for routes that set theirs explicitly (`config.rateLimit`). */
    rateLimits: RateLimits;
    /** One count of wrong keys for the heartbeat, PagerDuty and Alertmanager routes together. */
    wrongKeys: WrongKeys;
  }
  interface FastifyContextConfig {
    /** Apply the staff rate limit to a route not guarded by `app.staff` (the console's own guard). */
    staffRateLimit?: boolean;
    /** This route's own Content-Security-Policy for HTML (the Swagger UI page); others get ours. */
    contentSecurityPolicy?: string;
    /** Answers are never stored by a cache (set on every staff route; others may opt in). */
    noStore?: boolean;
  }
}

/** The JSON error every route answers with (api/plugins/errors.ts). */
const errorResponse = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
    field: { type: 'string' },
  },
  additionalProperties: true,
};

const toRouteLimit = (l: RateLimit) => ({
  max: l.max,
  timeWindow: l.timeWindow,
  errorResponseBuilder: (_req: FastifyRequest, ctx: { after: string }) =>
    new HttpError(429, 'rate_limited', `too many requests; try again in ${ctx.after}`),
});

export const securityPlugin = fp(
  async (app: FastifyInstance, o: { rateLimits?: Partial<RateLimits> }) => {
    const limits: RateLimits = { ...defaultRateLimits, ...o.rateLimits };
    app.decorate('rateLimits', limits);
    app.decorate(
      'wrongKeys',
      createWrongKeys({ perAddress: limits.wrongKeys, global: limits.wrongKeysGlobal }),
    );

    app.addHook('onSend', async (req, reply, payload) => {
      const type = String(reply.getHeader('content-type') ?? '');
      const isHtml = type.startsWith('text/html');
      // A route may name its own policy (the Swagger UI page, routes/docs.ts); every other gets ours.
      const own = req.routeOptions.config?.contentSecurityPolicy;
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('x-frame-options', 'DENY');
      reply.header(
        'content-security-policy',
        own && isHtml ? own : isHtml ? htmlContentSecurityPolicy : otherContentSecurityPolicy,
      );
      if (isHtml) reply.header('cross-origin-opener-policy', 'same-origin');
      // What staff see (incidents, who is on call, postmortems) stays out of browser and proxy caches.
      if (req.routeOptions.config?.noStore) reply.header('cache-control', 'no-store');
      return payload;
    });

    // Before the rate-limit plugin's own onRoute hook, which reads `config.rateLimit`: every route
    // guarded by the staff bearer token gets the staff limit, without each route restating it.
    app.addHook('onRoute', (route) => {
      const pre = route.preHandler;
      const guarded = Array.isArray(pre) ? pre.includes(app.staff) : pre === app.staff;
      const config = {
        ...(route.config ?? {}),
        ...(guarded || route.config?.staffRateLimit ? { noStore: true } : {}),
      };
      route.config = config;
      // The OpenAPI document lists every status a route answers: what its guard and validation add.
      const schema = route.schema as
        | {
            hide?: boolean;
            response?: Record<string, unknown>;
            body?: unknown;
            querystring?: unknown;
            params?: unknown;
          }
        | undefined;
      if (schema?.response && !schema.hide) {
        const add = (code: number) => (schema.response![code] ??= errorResponse);
        if (guarded) [401, 403, 429].forEach(add);
        if (schema.params) add(404);
        if (schema.body || schema.querystring || schema.params) add(400);
      }
      if ((guarded || config.staffRateLimit) && config.rateLimit === undefined)
        route.config = { ...config, rateLimit: toRouteLimit(limits.staff) };
      else if (config.rateLimit && !config.rateLimit.errorResponseBuilder)
        route.config = { ...config, rateLimit: { ...toRouteLimit(limits.staff), ...config.rateLimit } };
    });
    await app.register(rateLimit, { global: false });

    // Staff routes authenticate before anything else reads the request: a request without a valid
    // bearer token gets 401, whatever its body (not 400 for a body it may not send at all). After
    // the rate limit's own onRequest hook (added above), so wrong tokens still count against it.
    app.addHook('onRoute', (route) => {
      const pre = route.preHandler;
      const guarded = Array.isArray(pre) ? pre.includes(app.staff) : pre === app.staff;
      if (!guarded) return;
      route.preHandler = Array.isArray(pre) ? pre.filter((h) => h !== app.staff) : undefined;
      const on = route.onRequest;
      route.onRequest = [...(Array.isArray(on) ? on : on ? [on] : []), app.staff];
    });
  },
  { name: 'security' },
);
