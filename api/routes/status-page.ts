/**
 * The public status page (server-rendered HTML, no JavaScript needed) and its Atom feed, in English
 * and Norwegian. Everything shown comes from the status board: published status messages only.
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Severity } from '../../domain/config-schema.js';
import type { PublicStatusMessage } from '../status-board.js';
import { HttpError } from '../errors.js';
import { statusMessage } from '../../domain/templates.js';
import { escapeXml, html, type Html } from '../html/escape.js';
import {
  languages,
  pickLanguage,
  statusPageStrings,
  type Lang,
  type ReportFormStrings,
  type StatusPageStrings,
} from '../html/i18n.js';
import { page } from '../html/layout.js';
import { acceptForms, htmlErrors, sendHtml } from '../html/respond.js';
import { shortDuration, showTime } from '../html/time.js';
import type { BoardIncident, StatusBoard, StatusBoardReader } from '../status-board.js';
import { reportMaxLength, type ReportField, type ReportIntake } from './reports.js';
import { subscribeForm } from './subscribe.js';

export interface StatusPageOptions {
  board: StatusBoardReader;
  /** Customer reports: the page's "report a problem" form posts to `/status/report`; unset → no form. */
  reports?: ReportIntake;
  /** Show the "Get notified" form (posts to `/status/subscribe`, api/routes/subscribe.ts). */
  subscribe?: boolean;
  /** PUBLIC_BASE_URL, for the feed's absolute links; unset → from the request. */
  publicBaseUrl?: string;
}

const LangQuery = Type.Object({ lang: Type.Optional(Type.String({ maxLength: 20 })) });
const PageQuery = Type.Object({
  lang: Type.Optional(Type.String({ maxLength: 20 })),
  /** Set by the redirect after a report: the page thanks the reporter. */
  reported: Type.Optional(Type.String({ maxLength: 5 })),
});
// Every field optional and unbounded here (the body limit bounds them): the handler checks them, so
// a bad field gets the form back with what was typed instead of a bare error page.
const ReportFormBody = Type.Object({
  component: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  contact: Type.Optional(Type.String()),
  website: Type.Optional(Type.String()),
});

/** What the form shows: empty on the status page, what was sent when it comes back with an error. */
interface ReportFormState {
  component?: string;
  description?: string;
  contact?: string;
  error?: { field?: ReportField; message: string };
}

/**
 * The workflow publishes its automatic messages in English from `statusMessage`; on the Norwegian
 * page such a message is shown in Norwegian. Anything a person wrote is shown as written.
 */
export function localizedMessage(incident: BoardIncident, m: PublicStatusMessage, lang: Lang): string {
  if (lang === 'en') return m.message;
  const ctx = { component: incident.component, severity: incident.severity as Severity, reason: '' };
  if (m.message !== statusMessage(m.state, { ...ctx, language: 'en' })) return m.message;
  return statusMessage(m.state, { ...ctx, language: lang });
}

function when(iso: string, t: StatusPageStrings): Html {
  const s = showTime(iso);
  if (!s) return html`${iso}`;
  return html`<time datetime="${s.iso}">${s.utc}</time>
    <span class="muted">(${s.local} ${t.localTime})</span>`;
}

function messages(incident: BoardIncident, lang: Lang, t: StatusPageStrings): Html {
  return html`<ol class="messages">
    ${[...incident.messages].reverse().map(
      (m) =>
        html`<li>
          <strong>${t.stateLabel[m.state]}</strong> — ${when(m.at, t)}
          <p class="message">${localizedMessage(incident, m, lang)}</p>
        </li>`,
    )}
  </ol>`;
}

/**
 * "Report a problem": a plain form (no JavaScript), posting to `/status/report` in the page's
 * language. The `website` field is a honeypot, off-screen and out of the tab order and the
 * accessibility tree, so only bots fill it in.
 */
function reportForm(
  components: ReportIntake['components'],
  lang: Lang,
  t: ReportFormStrings,
  s: ReportFormState = {},
): Html {
  // The field a message names is marked invalid, described by the message, and focused.
  const attrs = (f: ReportField, hint?: string) => {
    const bad = s.error?.field === f;
    const ids = [hint, bad ? 'report-error' : undefined].filter(Boolean).join(' ');
    return html`${ids ? html` aria-describedby="${ids}"` : ''}${bad ? html` aria-invalid="true" autofocus` : ''}`;
  };
  return html`<form class="card" id="report" method="post" action="/status/report?lang=${lang}">
    <p class="muted">${t.intro}</p>
    ${s.error ? html`<p class="banner bad" id="report-error" role="alert">${s.error.message}</p>` : ''}
    <label for="report-component">${t.fields.component}</label>
    <select id="report-component" name="component" required ${attrs('component')}>
      <option value="">${t.choose}</option>
      ${components.map(
        (c) =>
          html`<option
            value="${c.service}"
            ${s.component === c.service || s.component === c.component ? html` selected` : ''}
          >
            ${c.component}
          </option>`,
      )}
    </select>
    <label for="report-description">${t.fields.description}</label>
    <small id="report-description-hint">${t.descriptionHint}</small>
    <textarea
      id="report-description"
      name="description"
      required
      maxlength="${reportMaxLength.description}"
      rows="5"
      ${attrs('description', 'report-description-hint')}
    >
${s.description ?? ''}</textarea>
    <label for="report-contact">${t.fields.contact} <small>(${t.optional})</small></label>
    <small id="report-contact-hint">${t.contactHint}</small>
    <input
      type="text"
      id="report-contact"
      name="contact"
      maxlength="${reportMaxLength.contact}"
      autocomplete="email"
      value="${s.contact ?? ''}"
      ${attrs('contact', 'report-contact-hint')}
    />
    <div class="hp" aria-hidden="true">
      <label for="report-website">${t.website}</label>
      <input
        type="text"
        id="report-website"
        name="website"
        autocomplete="off"
        tabindex="-1"
        aria-hidden="true"
      />
    </div>
    <button class="primary" type="submit">${t.submit}</button>
  </form>`;
}

function renderPage(
  board: StatusBoard,
  lang: Lang,
  o: { components?: ReportIntake['components']; reported?: boolean; subscribe?: boolean } = {},
): string {
  const t = statusPageStrings[lang];
  const problems = board.components.some((c) => c.status !== 'operational') || board.incidents.length > 0;
  const langNav = html`<nav class="lang" aria-label="${t.language}">
    ${languages.map(
      (l, i) =>
        html`${i > 0 ? ' · ' : ''}<a
            href="?lang=${l}"
            hreflang="${l}"
            ${l === lang ? html` aria-current="true"` : ''}
            >${l === 'nb' ? 'Norsk' : 'English'}</a
          >`,
    )}
  </nav>`;
  const body = html`<header class="top">
      <h1>${t.heading}</h1>
      ${langNav}
    </header>
    <main>
      <p class="banner ${problems ? 'bad' : 'ok'}" id="summary">
        ${problems ? t.someProblems : t.allOperational}
      </p>
      ${o.reported ? html`<p class="banner info" id="report-received" role="status">${t.report.thanks}</p>` : ''}
      ${board.stale ? html`<p class="banner warn">${t.staleNotice} ${when(board.generatedAt, t)}.</p>` : ''}
      <section aria-labelledby="components">
        <h2 id="components">${t.components}</h2>
        <ul class="components">
          ${board.components.map(
            (c) =>
              html`<li data-service="${c.service}">
                <span>${c.component}</span>
                <span class="badge st-${c.status}">${t.componentStatus[c.status]}</span>
              </li>`,
          )}
        </ul>
      </section>
      ${
        board.maintenance.length
          ? html`<section aria-labelledby="maintenance">
              <h2 id="maintenance">${t.maintenance}</h2>
              ${board.maintenance.map(
                (m) =>
                  html`<article class="incident maintenance" data-maintenance="${m.id}">
                    <h3>
                      ${m.components.map((c) => c.component).join(', ')} —
                      <span class="badge ${m.inProgress ? 'st-degraded' : ''}"
                        >${m.inProgress ? t.maintenanceInProgress : t.maintenanceScheduled}</span
                      >
                    </h3>
                    <p>${m.reason}</p>
                    <p class="muted">${when(m.start, t)} ${t.maintenanceUntil} ${when(m.end, t)}</p>
                  </article>`,
              )}
            </section>`
          : ''
      }
      <section aria-labelledby="open">
        <h2 id="open">${t.openIncidents}</h2>
        ${
          board.incidents.length === 0
            ? html`<p class="muted">${t.noOpenIncidents}</p>`
            : board.incidents.map(
                (i) =>
                  html`<article class="incident" id="incident-${i.id}">
                    <h3>${i.component} — <span class="badge">${t.stateLabel[i.state]}</span></h3>
                    <p class="muted">${t.opened}: ${when(i.openedAt, t)}</p>
                    ${messages(i, lang, t)}
                  </article>`,
              )
        }
      </section>
      ${
        o.components?.length
          ? html`<section aria-labelledby="report-heading">
              <h2 id="report-heading">${t.report.heading}</h2>
              ${reportForm(o.components, lang, t.report)}
            </section>`
          : ''
      }
      ${o.subscribe && o.components?.length ? subscribeForm(o.components, lang) : ''}
      <section aria-labelledby="history">
        <h2 id="history">${t.history}</h2>
        <p class="muted">${t.historyDays(board.historyDays)}</p>
        ${
          board.history.length === 0
            ? html`<p class="muted">${t.noHistory}</p>`
            : board.history.map((i) => {
                const ms = i.closedAt ? Date.parse(i.closedAt) - Date.parse(i.openedAt) : undefined;
                return html`<article class="incident" id="incident-${i.id}">
                  <h3>${i.component} — <span class="badge st-resolved">${t.stateLabel[i.state]}</span></h3>
                  <p class="muted">
                    ${t.opened}:
                    ${when(i.openedAt, t)}${
                      i.closedAt ? html` · ${t.resolved}: ${when(i.closedAt, t)}` : ''
                    }${ms !== undefined && !Number.isNaN(ms) ? html` · ${t.duration}: ${shortDuration(ms)}` : ''}
                  </p>
                  <details>
                    <summary>${t.showMessages(i.messages.length)}</summary>
                    ${messages(i, lang, t)}
                  </details>
                </article>`;
              })
        }
      </section>
    </main>
    <footer>
      <a href="/status/feed.atom?lang=${lang}">${t.feed}</a> · <a href="/api/status">${t.json}</a> ·
      ${t.generated}: ${when(board.generatedAt, t)}
    </footer>`;
  return page({
    lang,
    title: t.title,
    body,
    head: html`<link
      rel="alternate"
      type="application/atom+xml"
      title="${t.feedTitle}"
      href="/status/feed.atom?lang=${lang}"
    />`,
  });
}

/** The form again, with what was sent and why it was not taken (400, 429, 503). */
function renderReportPage(
  components: ReportIntake['components'],
  lang: Lang,
  heading: string,
  state: ReportFormState,
): string {
  const t = statusPageStrings[lang];
  return page({
    lang,
    title: `${heading} — ${t.title}`,
    body: html`<header class="top">
        <h1>${heading}</h1>
      </header>
      <main>
        ${reportForm(components, lang, t.report, state)}
        <p><a href="/status?lang=${lang}">${t.report.back}</a></p>
      </main>`,
  });
}

/** A stable `urn:uuid:` for an entry (RFC 4122 layout over a SHA-256 of what it names). */
function entryId(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function renderFeed(board: StatusBoard, lang: Lang, base: string): string {
  const t = statusPageStrings[lang];
  const entries = [...board.incidents, ...board.history]
    .flatMap((i) => i.messages.map((m, n) => ({ i, m, n })))
    .sort((a, b) => Date.parse(b.m.at) - Date.parse(a.m.at));
  const updated = entries[0]?.m.at ?? board.generatedAt;
  const x = escapeXml;
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${lang}">`,
    `  <id>${x(entryId(`${base}/status`))}</id>`,
    `  <title>${x(t.feedTitle)}</title>`,
    `  <subtitle>${x(t.feedSubtitle)}</subtitle>`,
    `  <updated>${x(updated)}</updated>`,
    `  <link rel="self" type="application/atom+xml" href="${x(`${base}/status/feed.atom?lang=${lang}`)}"/>`,
    `  <link rel="alternate" type="text/html" href="${x(`${base}/status?lang=${lang}`)}"/>`,
    `  <author><name>${x(t.feedTitle)}</name></author>`,
    '  <generator>incident-orchestrator</generator>',
    ...entries.flatMap(({ i, m, n }) => [
      '  <entry>',
      `    <id>${x(entryId(`${i.id}/status/${n}`))}</id>`,
      `    <title>${x(`${i.component}: ${t.stateLabel[m.state]}`)}</title>`,
      `    <published>${x(m.at)}</published>`,
      `    <updated>${x(m.at)}</updated>`,
      `    <link rel="alternate" type="text/html" href="${x(`${base}/status?lang=${lang}#incident-${i.id}`)}"/>`,
      `    <category term="${x(m.state)}" label="${x(t.stateLabel[m.state])}"/>`,
      `    <content type="text">${x(localizedMessage(i, m, lang))}</content>`,
      '  </entry>',
    ]),
    '</feed>',
  ];
  return `${lines.join('\n')}\n`;
}

export const statusPageRoutes: FastifyPluginAsyncTypebox<StatusPageOptions> = async (app, o) => {
  htmlErrors(app);
  const langOf = (req: FastifyRequest) =>
    pickLanguage((req.query as { lang?: string }).lang, req.headers['accept-language']);
  const baseOf = (req: FastifyRequest) =>
    (o.publicBaseUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '');

  app.get('/status', { schema: { hide: true, querystring: PageQuery } }, async (req, reply) => {
    const board = await o.board.get();
    reply.header('cache-control', 'public, max-age=5').header('vary', 'Accept-Language');
    return sendHtml(
      reply,
      200,
      renderPage(board, langOf(req), {
        components: o.reports?.components,
        reported: req.query.reported === '1',
        subscribe: o.subscribe,
      }),
    );
  });

  const reports = o.reports;
  if (reports) {
    acceptForms(app);
    const t = (lang: Lang) => statusPageStrings[lang].report;
    /** The form back with what was sent (never the honeypot) and a message naming the problem. */
    const again = (
      reply: FastifyReply,
      status: number,
      lang: Lang,
      heading: string,
      sent: { component?: string; description?: string; contact?: string },
      error: ReportFormState['error'],
    ) => {
      // It holds what the reporter typed: no cache keeps it.
      reply.header('cache-control', 'no-store');
      const { component, description, contact } = sent;
      return sendHtml(
        reply,
        status,
        renderReportPage(reports.components, lang, heading, { component, description, contact, error }),
      );
    };

    app.post(
      '/status/report',
      { schema: { hide: true, querystring: LangQuery, body: ReportFormBody } },
      async (req, reply) => {
        const lang = langOf(req);
        const s = t(lang);
        let outcome;
        try {
          outcome = await reports.submit(req.body, req.ip);
        } catch (e) {
          if (!(e instanceof HttpError) || e.statusCode !== 503) throw e;
          return again(reply, 503, lang, s.unavailableHeading, req.body, { message: s.unavailable });
        }
        switch (outcome.kind) {
          case 'accepted':
          case 'ignored':
            // Post/redirect/get: a reload does not send the report again. Bots get the same answer.
            return reply.redirect(`/status?lang=${lang}&reported=1`, 303);
          case 'rate_limited':
            reply.header('retry-after', String(outcome.retryAfterSeconds));
            return again(reply, 429, lang, s.rateLimitedHeading, req.body, {
              message: s.rateLimited(outcome.retryAfterSeconds),
            });
          case 'invalid': {
            const field = s.fields[outcome.field];
            const message =
              outcome.problem === 'missing'
                ? s.missing(field)
                : outcome.problem === 'too_long'
                  ? s.tooLong(field, reportMaxLength[outcome.field])
                  : s.unknownComponent(field);
            return again(reply, 400, lang, s.invalidHeading, req.body, { field: outcome.field, message });
          }
        }
      },
    );
  }

  app.get('/status/feed.atom', { schema: { hide: true, querystring: LangQuery } }, async (req, reply) => {
    const board = await o.board.get();
    return reply
      .header('cache-control', 'public, max-age=30')
      .header('vary', 'Accept-Language')
      .type('application/atom+xml; charset=utf-8')
      .send(renderFeed(board, langOf(req), baseOf(req)));
  });
};
