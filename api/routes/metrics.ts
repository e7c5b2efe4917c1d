/**
 * `GET /metrics` in the Prometheus text format, and the request-duration hook every route shares
 * (registered before the routes, not encapsulated, so it sees all of them). The route label is the
 * route's pattern (`/api/incidents/:id`), never the URL, so ids and tokens neither leak into the
 * metrics nor make one series per incident; requests no route matched are `route="unmatched"`.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { ApiMetrics } from '../metrics.js';

export const metricsPlugin = fp(
  async (app: FastifyInstance, o: { metrics: ApiMetrics }) => {
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? 'unmatched';
      o.metrics.observeRequest(route, req.method, reply.statusCode, reply.elapsedTime / 1000);
    });
    app.get(
      '/metrics',
      {
        schema: {
          tags: ['operations'],
          summary: 'Prometheus metrics (text exposition format 0.0.4)',
          description:
            'Open incidents, page deliveries, time to acknowledge and escalation lateness from the record store (the whole deployment), and this API process’s request durations and process metrics.',
          produces: ['text/plain'],
        },
      },
      async (_req, reply) => {
        const text = await o.metrics.registry.metrics();
        return reply.type(o.metrics.registry.contentType).send(text);
      },
    );
  },
  { name: 'metrics' },
);
