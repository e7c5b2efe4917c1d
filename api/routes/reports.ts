import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../../domain/config-schema.js';
import type { IncidentService } from '../incident-service.js';
import { HttpError } from '../errors.js';

/**
 * Customer reports ("report a problem"), public: a report runs the component's probes at once through
 * the incident's verification, and opens an incident or joins the open one. The first customer
 * report's time is kept, so the postmortem shows whether monitoring or a customer noticed first.
 */
export const reportRoutes: FastifyPluginAsyncTypebox<{
  incidents: IncidentService;
  config: Config;
  /** Reports per client address per minute. */
  perMinute?: number;
}> = async (app, o) => {
  const limit = o.perMinute ?? 5;
  const hits = new Map<string, number[]>();
  const allow = (key: string) => {
    const now = Date.now();
    const recent = (hits.get(key) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= limit) return false;
    recent.push(now);
    hits.set(key, recent);
    if (hits.size > 10_000) hits.delete(hits.keys().next().value!);
    return true;
  };

  app.post(
    '/api/reports',
    {
      schema: {
        tags: ['status'],
        summary: 'Report a problem with a public component',
        body: Type.Object(
          {
            component: Type.String({
              minLength: 1,
              maxLength: 200,
              description: 'service id or public component name',
            }),
            description: Type.String({ minLength: 1, maxLength: 2000 }),
            contact: Type.Optional(Type.String({ maxLength: 200 })),
            /** Honeypot: people leave it empty; bots fill it in. */
            website: Type.Optional(Type.String({ maxLength: 500 })),
          },
          { additionalProperties: false },
        ),
        response: { 202: Type.Object({ received: Type.Boolean() }) },
      },
    },
    async (req, reply) => {
      if (!allow(req.ip))
        throw new HttpError(429, 'rate_limited', 'too many reports from this address; try again in a minute');
      // A filled honeypot gets the same answer and changes nothing.
      if (req.body.website) return reply.status(202).send({ received: true });
      const service = o.config.services.find(
        (s) => s.component && (s.id === req.body.component || s.component === req.body.component),
      );
      if (!service)
        throw new HttpError(400, 'invalid_request', `component: unknown component "${req.body.component}"`);
      const digest = createHash('sha256')
        .update(`${req.ip}\0${req.body.description}`)
        .digest('hex')
        .slice(0, 16);
      await o.incidents.declare({
        service: service.id,
        reason: `customer report: ${req.body.description}`,
        actor: 'customer',
        source: 'customer',
        // The same report submitted twice within a minute is one report.
        eventId: `customer:${digest}:${Math.floor(Date.now() / 60_000)}`,
      });
      return reply.status(202).send({ received: true });
    },
  );
};
