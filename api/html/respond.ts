/**
 * What the HTML route plugins share: HTML form bodies (only where registered, so the JSON API keeps
 * taking JSON only), and errors as pages instead of JSON.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { HttpError } from '../errors.js';
import { html, type Html } from './escape.js';
import { page } from './layout.js';

export function sendHtml(reply: FastifyReply, status: number, document: string): FastifyReply {
  return reply.status(status).type('text/html; charset=utf-8').send(document);
}

/** `application/x-www-form-urlencoded` → `{ name: first value }`, in this plugin's scope only. */
export function acceptForms(app: FastifyInstance): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_req, body, done) => {
      const entries: [string, string][] = [];
      for (const [k, v] of new URLSearchParams(body as string))
        if (!entries.some(([seen]) => seen === k)) entries.push([k, v]);
      // fromEntries defines own properties, so a field named __proto__ stays a plain field.
      done(null, Object.fromEntries(entries));
    },
  );
}

export function errorPage(status: number, heading: string, message: string, extra?: Html): string {
  return page({
    lang: 'en',
    title: heading,
    body: html`<main>
      <h1>${heading}</h1>
      <p class="banner ${status >= 500 ? 'bad' : 'warn'}">${message}</p>
      ${extra}
    </main>`,
  });
}

const headings: Record<number, string> = {
  400: 'Bad request',
  401: 'Not logged in',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Too large',
  415: 'Unsupported form',
  429: 'Too many requests',
  503: 'Temporarily unavailable',
};

/** Errors of this plugin's routes as HTML pages; 5xx never show internals. */
export function htmlErrors(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
    let status = 500;
    let message = 'Something went wrong on our side. Try again in a moment.';
    if (err instanceof HttpError) {
      status = err.statusCode;
      if (status < 500 || status === 503) message = err.message;
    } else if ((err as FastifyError).validation) {
      status = 400;
      const first = (err as FastifyError).validation?.[0];
      const field =
        (first?.instancePath ?? '').replace(/^\//, '') ||
        ((first?.params as { missingProperty?: string } | undefined)?.missingProperty ?? '');
      message = `${field ? `${field}: ` : ''}${first?.message ?? 'invalid input'}`;
    } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      message = err.message;
    }
    if (status >= 500 && status !== 503) req.log.error(err);
    return sendHtml(reply, status, errorPage(status, headings[status] ?? 'Error', message));
  });
}
