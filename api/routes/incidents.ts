import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../../domain/config-schema.js';
import { incidentStates, statusStates } from '../../domain/incident.js';
import type { IncidentService } from '../incident-service.js';
import { HttpError } from '../errors.js';
import { maxNoteLength } from '../../workflows/definitions.js';

const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
});
// The view's shape is the IncidentView type in domain/incident.ts; it is not restated here.
const View = Type.Object(
  { id: Type.String(), state: Type.String() },
  { additionalProperties: true, description: 'IncidentView' },
);
/** What every staff action answers: small, so it stays small however many there are. */
const Ack = Type.Object(
  {
    id: Type.String(),
    state: Type.String(),
    seq: Type.Integer({ description: 'sequence of the timeline event it recorded (0: none)' }),
  },
  { additionalProperties: false },
);
const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 120 }) });
const Severity = Type.Union([Type.Literal('P0'), Type.Literal('P1'), Type.Literal('P2'), Type.Literal('P3')]);
const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  503: ErrorBody,
};

export const incidentRoutes: FastifyPluginAsyncTypebox<{
  incidents: IncidentService;
  config: Config;
}> = async (app, o) => {
  const staff = { preHandler: app.staff, schema: { security: [{ bearer: [] }] } } as const;

  app.post(
    '/api/incidents',
    {
      preHandler: app.staff,
      config: { role: 'responder', action: 'Declaring an incident' },
      schema: {
        tags: ['incidents'],
        summary: 'Declare an incident (or join the open one for the service)',
        security: [{ bearer: [] }],
        body: Type.Object(
          {
            service: Type.String({ minLength: 1, maxLength: 100 }),
            reason: Type.String({ minLength: 1, maxLength: 2000 }),
            severity: Type.Optional(Severity),
            skipVerify: Type.Optional(Type.Boolean({ description: 'page without re-running the probes' })),
            eventId: Type.Optional(
              Type.String({ minLength: 1, maxLength: 200, description: 'idempotency key' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ opened: Type.Boolean(), incident: View }),
          201: Type.Object({ opened: Type.Boolean(), incident: View }),
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const r = await o.incidents.declare({ ...req.body, actor: req.actor! });
      return reply
        .status(r.opened ? 201 : 200)
        .header('location', `/api/incidents/${r.id}`)
        .send({ opened: r.opened, incident: r.view! });
    },
  );

  app.get(
    '/api/incidents',
    {
      preHandler: app.staff,
      schema: {
        tags: ['incidents'],
        summary: 'Incidents, newest first, from the record store (filters, text search, paging)',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            service: Type.Optional(Type.String({ maxLength: 100 })),
            severity: Type.Optional(Severity),
            state: Type.Optional(Type.Union(incidentStates.map((s) => Type.Literal(s)))),
            open: Type.Optional(Type.Boolean()),
            q: Type.Optional(
              Type.String({ minLength: 1, maxLength: 200, description: 'words in the reason or the notes' }),
            ),
            from: Type.Optional(Type.String({ format: 'date-time', description: 'opened at or after' })),
            to: Type.Optional(Type.String({ format: 'date-time', description: 'opened before' })),
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
            offset: Type.Integer({ minimum: 0, maximum: 100_000, default: 0 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ incidents: Type.Array(Type.Object({}, { additionalProperties: true })) }),
          ...errors,
        },
      },
    },
    async (req) => ({ incidents: await o.incidents.list(req.query) }),
  );

  app.get(
    '/api/incidents/:id',
    {
      ...staff,
      schema: { ...staff.schema, tags: ['incidents'], params: Params, response: { 200: View, ...errors } },
    },
    async (req) => o.incidents.get(req.params.id),
  );

  app.post(
    '/api/incidents/:id/confirm',
    {
      ...staff,
      config: { role: 'responder', action: 'Confirming' },
      schema: {
        ...staff.schema,
        tags: ['incidents'],
        summary:
          'Confirm an unverified incident (a customer report on a component with no probe): paging starts',
        params: Params,
        response: { 200: Ack, ...errors },
      },
    },
    async (req) => {
      const view = await o.incidents.get(req.params.id);
      if (view.closedAt)
        throw new HttpError(409, 'conflict', `incident ${view.id} is ${view.state}: it cannot be confirmed`);
      // A staff report joining the open incident is the confirmation (the workflow counts it so).
      const r = await o.incidents.declare({
        service: view.service.id,
        reason: 'confirmed by staff',
        actor: req.actor!,
        source: 'api',
        eventId: `confirm:${view.id}:${req.actor!}`,
        withoutView: true,
      });
      if (r.id !== view.id)
        throw new HttpError(409, 'conflict', `incident ${view.id} closed; a new one was opened: ${r.id}`);
      return { id: r.id, state: r.state, seq: r.seq ?? 0 };
    },
  );

  app.post(
    '/api/incidents/:id/acknowledge',
    {
      ...staff,
      config: { role: 'responder', action: 'Acknowledging' },
      schema: {
        ...staff.schema,
        tags: ['incidents'],
        summary: 'Acknowledge: stops escalation',
        params: Params,
        response: { 200: Ack, ...errors },
      },
    },
    async (req) => o.incidents.acknowledge(req.params.id, req.actor!),
  );

  app.post(
    '/api/incidents/:id/resolve',
    {
      ...staff,
      config: { role: 'responder', action: 'Resolving' },
      schema: {
        ...staff.schema,
        tags: ['incidents'],
        summary: 'Ask to resolve: the incident resolves once the probes pass',
        params: Params,
        body: Type.Object(
          { note: Type.Optional(Type.String({ maxLength: 2000 })) },
          { additionalProperties: false },
        ),
        response: { 200: Ack, ...errors },
      },
      // `curl -X POST …/resolve` with no body at all is a resolve without a note.
      preValidation: async (req: { body: unknown }) => {
        req.body ??= {};
      },
    },
    async (req) => o.incidents.resolve(req.params.id, req.actor!, req.body.note),
  );

  app.post(
    '/api/incidents/:id/force-resolve',
    {
      ...staff,
      config: { role: 'admin', action: 'Force-resolving' },
      schema: {
        ...staff.schema,
        tags: ['incidents'],
        summary:
          'Resolve now without probe proof (admin), with a required reason: recorded as "resolved without probe proof"; the postmortem starts',
        params: Params,
        body: Type.Object(
          { reason: Type.String({ minLength: 1, maxLength: 2000 }) },
          { additionalProperties: false },
        ),
        response: { 200: Ack, ...errors },
      },
    },
    async (req) => o.incidents.forceResolve(req.params.id, req.actor!, req.body.reason),
  );

  app.post(
    '/api/incidents/:id/severity',
    {
      ...staff,
      config: { role: 'responder', action: 'Changing the severity' },
      schema: {
        ...staff.schema,
        tags: ['incidents'],
        summary:
          'Raise or lower the severity (responder or higher), recorded with its actor; the new severity re-evaluates auto-publish and the communication deadline. The same severity again is 409',
        params: Params,
        body: Type.Object(
          { severity: Severity, reason: Type.Optional(Type.String({ maxLength: maxNoteLength })) },
          { additionalProperties: false },
        ),
        response: { 200: Ack, ...errors },
      },
    },
    async (req) => o.incidents.changeSeverity(req.params.id, req.actor!, req.body.severity, req.body.reason),
  );

  app.post(
    '/api/incidents/:id/reopen',
    {
      ...staff,
      config: { role: 'responder', action: 'Reopening an incident' },
      schema: {
        ...staff.schema,
        tags: ['incidents'],
        summary:
          'Reopen a resolved or dismissed incident (responder or higher): the latest of its service, within incidents.reopenWindow (default 24 h). A new incident opens at once at its severity and pages, saying which one it reopens; 409 for an open incident, a newer one, or past the window',
        params: Params,
        body: Type.Object(
          { reason: Type.Optional(Type.String({ maxLength: maxNoteLength })) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ reopened: Type.String(), opened: Type.Boolean(), incident: View }),
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const r = await o.incidents.reopen(req.params.id, req.actor!, req.body?.reason ?? '');
      return reply.status(201).header('location', `/api/incidents/${r.incident.id}`).send(r);
    },
  );

  app.post(
    '/api/incidents/:id/merge',
    {
      ...staff,
      config: { role: 'responder', action: 'Merging incidents' },
      schema: {
        ...staff.schema,
        tags: ['incidents'],
        summary:
          'Merge this open incident into another open incident of a different service (responder or higher). The target records "<actor> merged <id> (<service> …) into this incident", lists its services as affected, tells its people when it is resolved and takes its severity if higher; this one closes as merged, with no postmortem or resolved notice of its own. Unknown target 404, a closed one or a closed source 409',
        params: Params,
        body: Type.Object(
          {
            into: Type.String({
              minLength: 1,
              maxLength: 200,
              description: 'the id of the incident to merge into',
            }),
            reason: Type.Optional(Type.String({ maxLength: maxNoteLength })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { merged: Type.String(), into: Type.String(), state: Type.String() },
            { additionalProperties: false },
          ),
          ...errors,
        },
      },
    },
    async (req) => o.incidents.merge(req.params.id, req.actor!, req.body.into, req.body.reason),
  );

  app.post(
    '/api/incidents/:id/responders',
    {
      ...staff,
      config: { role: 'responder', action: 'Adding a responder' },
      schema: {
        ...staff.schema,
        tags: ['incidents'],
        summary:
          'Add a responder (responder or higher): a contact from config, paged at once like an escalation level (their notification rules, the one-click acknowledge link) and told when it is resolved; recorded as "<actor> added <Name> as a responder". An unknown contact is 400, one already paged for the incident 409',
        params: Params,
        body: Type.Object(
          {
            contact: Type.String({ minLength: 1, maxLength: 100, description: 'a contact id from config' }),
            note: Type.Optional(Type.String({ maxLength: maxNoteLength })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Ack, ...errors },
      },
    },
    async (req) => o.incidents.addResponder(req.params.id, req.actor!, req.body.contact, req.body.note),
  );

  app.post(
    '/api/incidents/:id/snooze',
    {
      ...staff,
      config: { role: 'responder', action: 'Snoozing' },
      schema: {
        ...staff.schema,
        tags: ['incidents'],
        summary:
          'Snooze an acknowledged incident (responder or higher) until a UTC time or for a duration (30m), at most 24 hours: recorded as "<actor> snoozed until <time>"; then it is triggered again and the acknowledger and the current level are paged, unless it was resolved or acknowledged again first. In the past or over 24 h is 400, an unacknowledged incident 409',
        params: Params,
        body: Type.Object(
          {
            until: Type.String({
              minLength: 1,
              maxLength: 40,
              description: 'a time with a zone (2026-12-03T14:00:00Z) or a duration (90s, 30m, 2h)',
            }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Ack, ...errors },
      },
    },
    async (req) => o.incidents.snooze(req.params.id, req.actor!, req.body.until),
  );

  app.post(
    '/api/incidents/:id/notes',
    {
      ...staff,
      config: { role: 'responder', action: 'Adding a note' },
      schema: {
        ...staff.schema,
        tags: ['incidents'],
        params: Params,
        body: Type.Object(
          { text: Type.String({ minLength: 1, maxLength: maxNoteLength }) },
          { additionalProperties: false },
        ),
        response: { 200: Ack, ...errors },
      },
    },
    async (req) => o.incidents.note(req.params.id, req.actor!, req.body.text),
  );

  app.post(
    '/api/incidents/:id/status',
    {
      ...staff,
      config: { role: 'communicator', action: 'Publishing a status message' },
      schema: {
        ...staff.schema,
        tags: ['incidents'],
        summary: 'Publish a public status message',
        params: Params,
        body: Type.Object(
          {
            state: Type.Union(statusStates.map((s) => Type.Literal(s))),
            message: Type.Optional(Type.String({ minLength: 1, maxLength: 5000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Ack, ...errors },
      },
    },
    async (req) => o.incidents.publishStatus(req.params.id, req.actor!, req.body.state, req.body.message),
  );
};
