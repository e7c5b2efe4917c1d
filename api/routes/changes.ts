import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HttpError } from '../errors.js';
import type { PostmortemService } from '../postmortem-service.js';

const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
});
const errors = { 400: ErrorBody, 401: ErrorBody, 503: ErrorBody };
const Name = Type.String({ minLength: 1, maxLength: 253 });
const Change = Type.Object({
  id: Type.String(),
  who: Type.String(),
  what: Type.String(),
  hosts: Type.Array(Type.String()),
  services: Type.Array(Type.String()),
  at: Type.String(),
  recordedBy: Type.String(),
  recordedAt: Type.String(),
});

/**
 * Change events from change-management tools (a firewall rule, a deploy, a config change). The
 * postmortem lists those that touched the affected hosts and services before the fault began.
 */
export const changeRoutes: FastifyPluginAsyncTypebox<{ postmortems: PostmortemService }> = async (app, o) => {
  const security = [{ bearer: [] }];

  app.post(
    '/api/changes',
    {
      preHandler: app.staff,
      config: { role: 'responder', action: 'Recording a change' },
      schema: {
        tags: ['changes'],
        summary: 'Record a change (idempotent by id)',
        security,
        body: Type.Object(
          {
            id: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 200,
                description: 'the tool’s change id; idempotency key',
              }),
            ),
            who: Type.Optional(
              Type.String({ minLength: 1, maxLength: 200, description: 'default: the token’s contact' }),
            ),
            what: Type.String({ minLength: 1, maxLength: 2000 }),
            hosts: Type.Optional(Type.Array(Name, { maxItems: 100 })),
            services: Type.Optional(Type.Array(Name, { maxItems: 100 })),
            at: Type.String({ format: 'date-time', description: 'when the change was made' }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Change, ...errors },
      },
    },
    async (req, reply) => {
      if ((req.body.hosts?.length ?? 0) + (req.body.services?.length ?? 0) === 0)
        throw new HttpError(400, 'invalid_request', 'hosts: name at least one host or service');
      const change = await o.postmortems.recordChange(req.actor!, req.body);
      return reply.status(201).send(change);
    },
  );

  app.get(
    '/api/changes',
    {
      preHandler: app.staff,
      schema: {
        tags: ['changes'],
        summary: 'Recorded changes, oldest first',
        security,
        querystring: Type.Object(
          {
            from: Type.Optional(Type.String({ format: 'date-time' })),
            to: Type.Optional(Type.String({ format: 'date-time' })),
            target: Type.Optional(
              Type.String({ minLength: 1, maxLength: 253, description: 'a host or service' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ changes: Type.Array(Change) }), ...errors },
      },
    },
    async (req) => ({
      changes: await o.postmortems.listChanges({
        from: req.query.from,
        to: req.query.to,
        ...(req.query.target ? { targets: [req.query.target] } : {}),
      }),
    }),
  );
};
