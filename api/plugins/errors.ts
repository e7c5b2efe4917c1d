import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance } from 'fastify';
import { HttpError } from '../errors.js';

/** JSON errors with a message and a fitting status; 5xx never leak internals. */
export const errorHandlerPlugin = fp(async (app: FastifyInstance) => {
  app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
    if (err instanceof HttpError) {
      if (err.statusCode >= 500) req.log.warn({ code: err.code }, err.message);
      return reply
        .status(err.statusCode)
        .send({ statusCode: err.statusCode, error: err.code, message: err.message, field: err.field });
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const first = fe.validation[0];
      const field =
        (first?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.') ||
        ((first?.params as { missingProperty?: string } | undefined)?.missingProperty ?? '');
      const where = fe.validationContext ?? 'body';
      return reply.status(400).send({
        statusCode: 400,
        error: 'invalid_request',
        message: `${where}${field ? `.${field}` : ''}: ${first?.message ?? 'invalid'}`,
        field: field || undefined,
      });
    }
    const status = fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500 ? fe.statusCode : 500;
    if (status >= 500) {
      req.log.error(err);
      return reply.status(500).send({ statusCode: 500, error: 'internal', message: 'internal error' });
    }
    return reply
      .status(status)
      .send({ statusCode: status, error: fe.code ?? 'bad_request', message: fe.message });
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .status(404)
      .send({ statusCode: 404, error: 'not_found', message: `no route ${req.method} ${req.url}` }),
  );
});
