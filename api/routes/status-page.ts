/**
 * The public status page (server-rendered HTML, no JavaScript needed) and its Atom feed, in English
 * and Norwegian. Everything shown comes from the status board: published status messages only.
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Severity } from '../../domain/config-schema.js';
import type { StatusMessage } from '../../domain/incident.js';
import { statusMessage } from '../../domain/templates.js';
import { escapeXml, html, type Html } from '../html/escape.js';
import {
  languages,
  pickLanguage,
  statusPageStrings,
  type Lang,
  type StatusPageStrings,
} from '../html/i18n.js';
import { page } from '../html/layout.js';
import { htmlErrors, sendHtml } from '../html/respond.js';
import { shortDuration, showTime } from '../html/time.js';
import type { BoardIncident, StatusBoard, StatusBoardReader } from '../status-board.js';

export interface StatusPageOptions {
  board: StatusBoardReader;
  /** PUBLIC_BASE_URL, for the feed's absolute links; unset → from the request. */
  publicBaseUrl?: string;
}

const LangQuery = Type.Object({ lang: Type.Optional(Type.String({ maxLength: 20 })) });

/**
 * The workflow publishes its automatic messages in English from `statusMessage`; on the Norwegian
 * page such a message is shown in Norwegian. Anything a person wrote is shown as written.
 */
export function localizedMessage(incident: BoardIncident, m: StatusMessage, lang: Lang): string {
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

function renderPage(board: StatusBoard, lang: Lang): string {
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

  app.get('/status', { schema: { hide: true, querystring: LangQuery } }, async (req, reply) => {
    const board = await o.board.get();
    reply.header('cache-control', 'public, max-age=5').header('vary', 'Accept-Language');
    return sendHtml(reply, 200, renderPage(board, langOf(req)));
  });

  app.get('/status/feed.atom', { schema: { hide: true, querystring: LangQuery } }, async (req, reply) => {
    const board = await o.board.get();
    return reply
      .header('cache-control', 'public, max-age=30')
      .header('vary', 'Accept-Language')
      .type('application/atom+xml; charset=utf-8')
      .send(renderFeed(board, langOf(req), baseOf(req)));
  });
};
