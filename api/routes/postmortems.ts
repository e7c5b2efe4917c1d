import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { postmortemListStates, type PostmortemService } from '../postmortem-service.js';

const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
});
const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody };
const Params = Type.Object({
  id: Type.String({
    minLength: 1,
    maxLength: 120,
    description: 'incident id, or a service id for its latest',
  }),
});
const Person = Type.Object(
  { id: Type.String(), name: Type.String(), email: Type.String() },
  { additionalProperties: true },
);
// The shapes are PostmortemView and FollowUp in workflows/postmortem-definitions.ts and
// domain/postmortem.ts; the fields a client relies on are named, the rest passes through.
const View = Type.Object(
  {
    incidentId: Type.String(),
    state: Type.String({ description: 'due or completed' }),
    owner: Person,
    dueDate: Type.String(),
    overdueAt: Type.String(),
    followUps: Type.Array(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true, description: 'PostmortemView' },
);
const FollowUp = Type.Object(
  { id: Type.String(), title: Type.String(), owner: Person, dueDate: Type.String() },
  { additionalProperties: true, description: 'FollowUp' },
);
const Summary = Type.Object(
  {
    incidentId: Type.String(),
    service: Type.String(),
    severity: Type.String(),
    owner: Person,
    dueDate: Type.String(),
    overdueAt: Type.String(),
    state: Type.String(),
    overdue: Type.Boolean(),
    running: Type.Boolean(),
    meetingStart: Type.String(),
    completedAt: Type.Optional(Type.String()),
    url: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

/** The postmortem of an incident: its draft, marking it done, follow-up tasks, and what is due. */
export const postmortemRoutes: FastifyPluginAsyncTypebox<{ postmortems: PostmortemService }> = async (
  app,
  o,
) => {
  const security = [{ bearer: [] }];

  app.get(
    '/api/incidents/:id/postmortem',
    {
      preHandler: app.staff,
      schema: {
        tags: ['postmortems'],
        summary: 'The postmortem draft as Markdown (`Accept: application/json` for its state)',
        security,
        params: Params,
        response: {
          200: {
            description: 'The draft (text/markdown) or the postmortem (application/json)',
            content: {
              'text/markdown': { schema: Type.String() },
              'application/json': { schema: View },
            },
          },
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const view = await o.postmortems.get(req.params.id);
      // Markdown unless the client asks for JSON and not for Markdown.
      const accept = req.headers.accept ?? '';
      const json = accept.includes('application/json') && !accept.includes('text/markdown');
      if (json) return reply.type('application/json').send(view);
      return reply.type('text/markdown; charset=utf-8').send(view.markdown);
    },
  );

  app.post(
    '/api/incidents/:id/postmortem/complete',
    {
      preHandler: app.staff,
      config: { role: 'responder', action: 'Completing a postmortem' },
      schema: {
        tags: ['postmortems'],
        summary: 'Mark the postmortem done, with a link to the final document; reminders stop',
        security,
        params: Params,
        body: Type.Object(
          { url: Type.String({ minLength: 8, maxLength: 2000, pattern: '^https?://\\S+$' }) },
          { additionalProperties: false },
        ),
        response: { 200: View, ...errors },
      },
    },
    async (req) => o.postmortems.complete(req.params.id, req.actor!, req.body.url),
  );

  app.post(
    '/api/incidents/:id/follow-ups',
    {
      preHandler: app.staff,
      config: { role: 'responder', action: 'Adding a follow-up' },
      schema: {
        tags: ['postmortems'],
        summary: 'Record a follow-up task; its owner is reminded on the due date',
        security,
        params: Params,
        body: Type.Object(
          {
            title: Type.String({ minLength: 1, maxLength: 500 }),
            owner: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$', description: 'contact id' }),
            dueDate: Type.String({
              format: 'date',
              description: 'YYYY-MM-DD, not in the past (in the service’s time zone)',
            }),
          },
          { additionalProperties: false },
        ),
        response: { 201: FollowUp, ...errors },
      },
    },
    async (req, reply) => {
      const task = await o.postmortems.addFollowUp(req.params.id, req.actor!, req.body);
      return reply.status(201).send(task);
    },
  );

  app.post(
    '/api/incidents/:id/follow-ups/:followUpId/done',
    {
      preHandler: app.staff,
      config: { role: 'responder', action: 'Marking a follow-up done' },
      schema: {
        tags: ['postmortems'],
        summary: 'Mark one follow-up task done: no reminder any more, the draft says who and when',
        description:
          'The postmortem stays open until every follow-up is done. 404: no such follow-up; 409: done already, or the postmortem is closed.',
        security,
        params: Type.Object({
          ...Params.properties,
          followUpId: Type.String({ pattern: '^f[0-9]{1,4}$', description: 'the follow-up id (f1, f2, …)' }),
        }),
        response: { 200: FollowUp, ...errors },
      },
    },
    async (req) => o.postmortems.completeFollowUp(req.params.id, req.actor!, req.params.followUpId),
  );

  const Meeting = Type.Object(
    {
      start: Type.String(),
      end: Type.String(),
      local: Type.Object({}, { additionalProperties: true }),
      attendees: Type.Array(Person),
      sequence: Type.Optional(Type.Integer()),
      cancelled: Type.Optional(Type.Object({}, { additionalProperties: true })),
    },
    { additionalProperties: true, description: 'MeetingInfo' },
  );
  app.post(
    '/api/incidents/:id/postmortem/meeting',
    {
      preHandler: app.staff,
      config: { role: 'responder', action: 'Moving the postmortem meeting' },
      schema: {
        tags: ['postmortems'],
        summary:
          'Move the postmortem meeting: everyone invited gets the updated invitation (same UID, SEQUENCE + 1)',
        security,
        params: Params,
        body: Type.Object(
          {
            start: Type.String({ format: 'date-time', description: 'the new start, in the future' }),
            durationMinutes: Type.Optional(Type.Integer({ minimum: 5, maximum: 480 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Meeting, ...errors },
      },
    },
    async (req) => o.postmortems.moveMeeting(req.params.id, req.actor!, req.body),
  );

  app.post(
    '/api/incidents/:id/postmortem/meeting/cancel',
    {
      preHandler: app.staff,
      config: { role: 'responder', action: 'Cancelling the postmortem meeting' },
      schema: {
        tags: ['postmortems'],
        summary: 'Call the postmortem meeting off: everyone invited gets METHOD:CANCEL',
        security,
        params: Params,
        body: Type.Object(
          { reason: Type.String({ minLength: 1, maxLength: 500 }) },
          { additionalProperties: false },
        ),
        response: { 200: Meeting, ...errors },
      },
    },
    async (req) => o.postmortems.cancelMeeting(req.params.id, req.actor!, req.body.reason),
  );

  app.get(
    '/api/postmortems',
    {
      preHandler: app.staff,
      schema: {
        tags: ['postmortems'],
        summary: 'Postmortems: due (not done yet, overdue ones too), overdue, or completed',
        security,
        querystring: Type.Object(
          {
            state: Type.Optional(Type.Union(postmortemListStates.map((s) => Type.Literal(s)))),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ postmortems: Type.Array(Summary) }), ...errors },
      },
    },
    async (req) => ({
      postmortems: await o.postmortems.list({ ...req.query, limit: req.query.limit ?? 100 }),
    }),
  );
};
