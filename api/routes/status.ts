import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { IncidentService } from '../incident-service.js';

/** The public status as JSON: no token needed, only what was published. */
export const statusRoutes: FastifyPluginAsyncTypebox<{ incidents: IncidentService }> = async (app, o) => {
  app.get(
    '/api/status',
    {
      schema: {
        tags: ['status'],
        summary: 'Public components and the status messages of open incidents',
        response: {
          200: Type.Object({
            generatedAt: Type.String(),
            components: Type.Array(
              Type.Object({
                service: Type.String(),
                component: Type.String(),
                status: Type.String(),
                incidents: Type.Array(Type.String()),
              }),
            ),
            incidents: Type.Array(
              Type.Object({
                id: Type.String(),
                component: Type.String(),
                severity: Type.String(),
                state: Type.String(),
                messages: Type.Array(
                  Type.Object({
                    at: Type.String(),
                    state: Type.String(),
                    message: Type.String(),
                    author: Type.String(),
                  }),
                ),
              }),
            ),
          }),
        },
      },
    },
    async () => o.incidents.status(),
  );
};
