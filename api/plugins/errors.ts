import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../errors.js';
import { redactPath } from '../log-redaction.js';

/** JSON errors with a message and a fitting status; 5xx never leak internals. */
export const errorHandlerPlugin = fp(async (app: FastifyInstance) => {
  app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
    // A method with a body and no route (QUERY without a Content-Type fails before the not-found
    // handler): still 405 on a known path.
    if (req.is404) return notFound(req, reply);
    if (err instanceof HttpError) {
      if (err.statusCode >= 500) req.log.warn({ code: err.code }, err.message);
      if (err.headers) void reply.headers(err.headers);
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
  // Every route's path as a pattern, so a known path asked with a method it does not take is 405 with
  // `Allow` (RFC 9110 §15.5.6), not 404.
  const routes: { re: RegExp; methods: Set<string> }[] = [];
  app.addHook('onRoute', (route) => {
    const source = route.url
      .split('/')
      .map((seg) =>
        seg.startsWith(':')
          ? '[^/]+'
          : seg === '*'
            ? '.*'
            : seg
                .replace(/:[A-Za-z0-9_]+/g, '[^/]+')
                .replace(/[.+?^${}()|[\]\\]/g, (c) => (c === '.' ? '\\.' : c)),
      )
      .join('/');
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map((m) => m.toUpperCase());
    const known = routes.find((r) => r.re.source === `^${source}$`);
    if (known) for (const m of methods) known.methods.add(m);
    else routes.push({ re: new RegExp(`^${source}$`), methods: new Set(methods) });
  });
  app.setNotFoundHandler((req, reply) => notFound(req, reply));
  function notFound(req: FastifyRequest, reply: FastifyReply) {
    const path = req.url.split(/[?#]/)[0]!;
    const allowed = new Set(routes.filter((r) => r.re.test(path)).flatMap((r) => [...r.methods]));
    if (allowed.size > 0 && !allowed.has(req.method))
      return reply
        .status(405)
        .header('allow', [...allowed].sort().join(', '))
        .send({
          statusCode: 405,
          error: 'method_not_allowed',
          message: `${req.method} is not allowed here; allowed: ${[...allowed].sort().join(', ')}`,
        });
    return reply
      .status(404)
      .send({ statusCode: 404, error: 'not_found', message: `no route ${req.method} ${redactPath(path)}` });
  }
});
