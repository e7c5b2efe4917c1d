import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { IncidentService } from '../incident-service.js';

/** Liveness (the process answers) and readiness (Temporal is reachable). */
export const healthRoutes: FastifyPluginAsyncTypebox<{ incidents: IncidentService }> = async (app, o) => {
  const Health = Type.Object({ status: Type.String(), temporal: Type.Optional(Type.String()) });
  app.get('/healthz', { schema: { tags: ['health'], response: { 200: Health } } }, async () => ({
    status: 'ok',
  }));
  app.get(
    '/readyz',
    { schema: { tags: ['health'], response: { 200: Health, 503: Health } } },
    async (_req, reply) => {
      const ok = await o.incidents.ready();
      return reply
        .status(ok ? 200 : 503)
        .send({ status: ok ? 'ready' : 'unavailable', temporal: ok ? 'reachable' : 'unreachable' });
    },
  );
};
