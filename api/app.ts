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
import { healthRoutes } from './routes/health.js';
import { incidentRoutes } from './routes/incidents.js';
import { statusRoutes } from './routes/status.js';
import { monitorRoutes } from './routes/monitors.js';

export interface AppOptions {
  config: Config;
  incidents: IncidentService;
  /** token → contact id, from STAFF_TOKENS. */
  staffTokens: Map<string, string>;
  logger?: boolean | object;
}

export async function buildApp(o: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: o.logger ?? false,
    bodyLimit: 64 * 1024,
    ajv: { customOptions: { allErrors: false, removeAdditional: false, coerceTypes: 'array' } },
  }).withTypeProvider<TypeBoxTypeProvider>();

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

  await app.register(healthRoutes, { incidents: o.incidents });
  await app.register(incidentRoutes, { incidents: o.incidents, config: o.config });
  await app.register(statusRoutes, { incidents: o.incidents });
  await app.register(monitorRoutes, { incidents: o.incidents, config: o.config });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
