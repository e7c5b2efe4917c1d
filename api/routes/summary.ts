/**
 * `GET /api/reports/summary`: how the team did over a period — MTTA, MTTR, time to the first public
 * message, pages per person, incidents per service — computed by the record store.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Records } from '../../store/records.js';
import { HttpError } from '../errors.js';

const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
});
const Seconds = Type.Optional(Type.Integer({ description: 'seconds; absent when nothing to average' }));
export const SummaryBody = Type.Object({
  from: Type.String(),
  to: Type.String(),
  service: Type.Optional(Type.String()),
  incidents: Type.Integer(),
  mttaSeconds: Seconds,
  medianTtaSeconds: Seconds,
  mttrSeconds: Seconds,
  medianTtrSeconds: Seconds,
  meanTimeToFirstMessageSeconds: Seconds,
  pagesPerPerson: Type.Array(
    Type.Object({ recipient: Type.String(), name: Type.String(), pages: Type.Integer() }),
  ),
  incidentsPerService: Type.Array(Type.Object({ service: Type.String(), incidents: Type.Integer() })),
  bySeverity: Type.Array(Type.Object({ severity: Type.String(), incidents: Type.Integer() })),
});

const dayMs = 24 * 60 * 60 * 1000;

/** The period of a query: `to` defaults to now, `from` to 30 days before `to`; at most 3 years. */
export function summaryPeriod(
  q: { from?: string; to?: string },
  now = Date.now(),
): { from: string; to: string } {
  const to = q.to ? Date.parse(q.to) : now;
  const from = q.from ? Date.parse(q.from) : to - 30 * dayMs;
  if (!Number.isFinite(from)) throw new HttpError(400, 'invalid_request', 'from: not a date-time');
  if (!Number.isFinite(to)) throw new HttpError(400, 'invalid_request', 'to: not a date-time');
  if (from >= to) throw new HttpError(400, 'invalid_request', 'from: must be before to');
  if (to - from > 3 * 366 * dayMs)
    throw new HttpError(400, 'invalid_request', 'from: the period is at most 3 years');
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

export const reportSummaryRoutes: FastifyPluginAsyncTypebox<{ records: Pick<Records, 'summary'> }> = async (
  app,
  o,
) => {
  app.get(
    '/api/reports/summary',
    {
      preHandler: app.staff,
      schema: {
        tags: ['reports'],
        summary: 'MTTA, MTTR, time to first public message, pages per person, incidents per service',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            from: Type.Optional(Type.String({ format: 'date-time' })),
            to: Type.Optional(Type.String({ format: 'date-time' })),
            service: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: SummaryBody, 400: ErrorBody, 401: ErrorBody, 503: ErrorBody },
      },
    },
    async (req, reply) => {
      const period = summaryPeriod(req.query);
      reply.header('cache-control', 'no-store');
      try {
        return await o.records.summary({
          ...period,
          ...(req.query.service ? { service: req.query.service } : {}),
        });
      } catch (e) {
        throw new HttpError(
          503,
          'store_unavailable',
          `the record store did not answer: ${(e as Error).message}`,
        );
      }
    },
  );
};
