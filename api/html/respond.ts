/**
 * What the HTML route plugins share: HTML form bodies (only where registered, so the JSON API keeps
 * taking JSON only), and errors as pages instead of JSON.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { HttpError } from '../errors.js';
import type { FastifyRequest } from 'fastify';
import { html, type Html } from './escape.js';
import { errorHeadings, pickLanguage, type Lang } from './i18n.js';
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

export function errorPage(
  status: number,
  heading: string,
  message: string,
  extra?: Html,
  lang: Lang = 'en',
): string {
  return page({
    lang,
    title: heading,
    body: html`<main>
      <h1>${heading}</h1>
      <p class="banner ${status >= 500 ? 'bad' : 'warn'}">${message}</p>
      ${extra}
    </main>`,
  });
}

/**
 * Errors of this plugin's routes as HTML pages, headed in the request's language (`?lang=`, then
 * Accept-Language); 5xx never show internals. `say` may word a refusal in that language (else the
 * error's own message).
 */
export function htmlErrors(
  app: FastifyInstance,
  say?: (err: HttpError, req: FastifyRequest, lang: Lang) => string | undefined,
): void {
  app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
    const lang = pickLanguage(
      (req.query as { lang?: unknown } | undefined)?.lang,
      req.headers['accept-language'],
    );
    let status = 500;
    let message =
      lang === 'nb'
        ? 'Noe gikk galt hos oss. Prøv igjen om litt.'
        : 'Something went wrong on our side. Try again in a moment.';
    if (err instanceof HttpError) {
      status = err.statusCode;
      if (status < 500 || status === 503) message = say?.(err, req, lang) ?? err.message;
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
    const heading = errorHeadings[lang][status] ?? (lang === 'nb' ? 'Feil' : 'Error');
    return sendHtml(reply, status, errorPage(status, heading, message, undefined, lang));
  });
}
