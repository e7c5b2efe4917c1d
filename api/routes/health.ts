import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { IncidentService } from '../incident-service.js';

/** Liveness (the process answers) and readiness (Temporal and the record store are reachable). */
export const healthRoutes: FastifyPluginAsyncTypebox<{ incidents: IncidentService }> = async (app, o) => {
  const Health = Type.Object({
    status: Type.String(),
    temporal: Type.Optional(Type.String()),
    store: Type.Optional(Type.String()),
  });
  app.get('/healthz', { schema: { tags: ['health'], response: { 200: Health } } }, async () => ({
    status: 'ok',
  }));
  app.get(
    '/readyz',
    { schema: { tags: ['health'], response: { 200: Health, 503: Health } } },
    async (_req, reply) => {
      const [temporal, store] = await Promise.all([o.incidents.ready(), o.incidents.storeReady()]);
      const ok = temporal && store;
      return reply.status(ok ? 200 : 503).send({
        status: ok ? 'ready' : 'unavailable',
        temporal: temporal ? 'reachable' : 'unreachable',
        store: store ? 'reachable' : 'unreachable',
      });
    },
  );
};
