import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { IncidentService } from '../incident-service.js';
import type { Config } from '../../domain/config-schema.js';
import { configWarnings } from '../../config/load.js';

/**
 * Liveness (the process answers) and readiness (Temporal and the record store are reachable). The
 * readiness answer also lists the configuration's warnings (on-call gaps of the next four weeks):
 * they do not make the API unready, but whoever looks should see them.
 */
export const healthRoutes: FastifyPluginAsyncTypebox<{
  incidents: IncidentService;
  config?: Config;
}> = async (app, o) => {
  const Health = Type.Object({
    status: Type.String(),
    temporal: Type.Optional(Type.String()),
    store: Type.Optional(Type.String()),
    warnings: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  });
  // Gaps move with time: recomputed at most once a minute.
  let warned: { at: number; list: { path: string; message: string }[] } | undefined;
  const warnings = () => {
    const now = Date.now();
    if (o.config && (!warned || now - warned.at > 60_000))
      warned = { at: now, list: configWarnings(o.config, now) };
    return warned?.list ?? [];
  };
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
        ...(warnings().length > 0 ? { warnings: warnings() } : {}),
      });
    },
  );
};
