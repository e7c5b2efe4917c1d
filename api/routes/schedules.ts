/**
 * On-call routes: `GET /api/oncall` (now and next per schedule and per policy level),
 * `GET /api/schedules/:id?from=&to=` (computed shifts with overrides), overrides made and deleted by
 * staff, and a person's shifts as an iCalendar feed at a signed link. The logic is oncall-service.ts.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { OnCallService } from '../oncall-service.js';
import { HttpError, notFound } from '../errors.js';

const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
});
const Override = Type.Object({
  id: Type.String(),
  scheduleId: Type.String(),
  from: Type.String(),
  until: Type.String(),
  by: Type.String(),
  replaces: Type.Optional(Type.String()),
  createdBy: Type.String(),
  createdAt: Type.String(),
});
const Shift = Type.Object({
  contactId: Type.String(),
  name: Type.String(),
  start: Type.String(),
  end: Type.String(),
  source: Type.String(),
  layer: Type.Union([Type.String(), Type.Null()]),
});
const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const Person = Type.Object({ contactId: Type.String(), name: Type.String(), via: Type.String() });

export const scheduleRoutes: FastifyPluginAsyncTypebox<{
  oncall: OnCallService;
  publicBaseUrl?: string;
}> = async (app, o) => {
  const base = (req: FastifyRequest) =>
    (o.publicBaseUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '');

  app.get(
    '/api/oncall',
    {
      preHandler: app.staff,
      schema: {
        tags: ['schedules'],
        summary: 'Who is on call now and next, per schedule and per policy level',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({
            at: Type.String(),
            schedules: Type.Array(
              Type.Object({
                id: Type.String(),
                name: Type.String(),
                timeZone: Type.String(),
                now: Type.Optional(
                  Type.Object({
                    contactId: Type.String(),
                    name: Type.String(),
                    source: Type.String(),
                    until: Type.String(),
                  }),
                ),
                next: Type.Optional(
                  Type.Object({ contactId: Type.String(), name: Type.String(), from: Type.String() }),
                ),
                gapUntil: Type.Optional(Type.String()),
              }),
            ),
            policies: Type.Array(
              Type.Object({
                id: Type.String(),
                levels: Type.Array(
                  Type.Object({
                    level: Type.Integer(),
                    targets: Type.Array(Type.String()),
                    now: Type.Array(Person),
                    next: Type.Optional(Type.Object({ at: Type.String(), people: Type.Array(Person) })),
                  }),
                ),
              }),
            ),
          }),
          503: ErrorBody,
        },
      },
    },
    async () => o.oncall.overview(Date.now()),
  );

  app.get(
    '/api/schedules',
    {
      preHandler: app.staff,
      schema: {
        tags: ['schedules'],
        security: [{ bearer: [] }],
        // 401, 403 and 429 are added by the staff guard (api/plugins/security.ts).
        response: {
          200: Type.Object({
            schedules: Type.Array(
              Type.Object({ id: Type.String(), name: Type.String(), timeZone: Type.String() }),
            ),
          }),
        },
      },
    },
    async () => ({ schedules: o.oncall.list() }),
  );

  app.get(
    '/api/schedules/:id',
    {
      preHandler: app.staff,
      schema: {
        tags: ['schedules'],
        summary: "A schedule's computed shifts (overrides included) and its overrides",
        security: [{ bearer: [] }],
        params: Params,
        querystring: Type.Object(
          { from: Type.Optional(Type.String()), to: Type.Optional(Type.String()) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            id: Type.String(),
            name: Type.String(),
            timeZone: Type.String(),
            from: Type.String(),
            to: Type.String(),
            shifts: Type.Array(Shift),
            overrides: Type.Array(Override),
          }),
          400: ErrorBody,
          404: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (req) => o.oncall.view(req.params.id, req.query),
  );

  app.post(
    '/api/schedules/:id/overrides',
    {
      preHandler: app.staff,
      config: { role: 'admin', action: 'Making an on-call override' },
      schema: {
        tags: ['schedules'],
        summary: 'Someone else is on call from/until (optionally only in place of `replaces`)',
        security: [{ bearer: [] }],
        params: Params,
        body: Type.Object(
          {
            from: Type.String({ description: 'ISO 8601 with an offset, e.g. 2026-12-07T08:00:00Z' }),
            until: Type.String({ description: 'exclusive; after from and in the future' }),
            by: Type.String({ description: 'contact id of who takes over' }),
            replaces: Type.Optional(Type.String({ description: 'only while this contact would be on call' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Override, 400: ErrorBody, 404: ErrorBody, 503: ErrorBody },
      },
    },
    async (req, reply) => {
      const created = await o.oncall.createOverride(req.params.id, req.body, req.actor!);
      req.log.info({ schedule: req.params.id, override: created.id, actor: req.actor }, 'override created');
      return reply.status(201).send(created);
    },
  );

  app.delete(
    '/api/schedules/:id/overrides/:overrideId',
    {
      preHandler: app.staff,
      config: { role: 'admin', action: 'Deleting an on-call override' },
      schema: {
        tags: ['schedules'],
        summary: 'Delete an override: the rotation applies again',
        security: [{ bearer: [] }],
        params: Type.Object({
          id: Type.String({ minLength: 1, maxLength: 100 }),
          overrideId: Type.String({ minLength: 1, maxLength: 100 }),
        }),
        response: { 204: Type.Null(), 404: ErrorBody, 503: ErrorBody },
      },
    },
    async (req, reply) => {
      await o.oncall.deleteOverride(req.params.id, req.params.overrideId);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/oncall/calendar-link',
    {
      preHandler: app.staff,
      schema: {
        tags: ['schedules'],
        summary: "The signed link to the caller's on-call calendar feed (for calendar apps)",
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ url: Type.String() }), 404: ErrorBody },
      },
    },
    async (req) => {
      const links = o.oncall.calendarLinks;
      if (!links) throw new HttpError(404, 'not_configured', 'calendar feeds need ACK_LINK_SECRET to be set');
      return { url: links.url(base(req), req.actor!) };
    },
  );

  app.get(
    '/api/oncall/calendar/:token',
    {
      schema: {
        tags: ['schedules'],
        summary: "A person's shifts of the next four weeks as iCalendar; the signed link is the credential",
        params: Type.Object({ token: Type.String({ minLength: 1, maxLength: 500 }) }),
        response: {
          200: {
            description: 'The iCalendar feed',
            content: { 'text/calendar': { schema: { type: 'string' } } },
          },
          400: ErrorBody,
          404: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      const contactId = o.oncall.calendarLinks?.verify(req.params.token);
      if (!contactId || !o.oncall.knows(contactId)) throw notFound('calendar feed');
      const text = await o.oncall.feed(contactId);
      return reply
        .header('content-type', 'text/calendar; charset=utf-8')
        .header('cache-control', 'private, max-age=300')
        .send(text);
    },
  );
};
