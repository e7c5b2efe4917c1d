/**
 * The staff console: server-rendered pages over the same service functions as the JSON API. Reached
 * with the staff bearer token, or after a login form that turns a token into a signed session cookie.
 * Every action is a POST form carrying the session's CSRF token (a bearer request needs none: a
 * browser never adds that header by itself); the result redirects back (303), so a reload never
 * repeats an action.
 */
import { recoveryFacts, recoverySentences } from '../../domain/recovery-facts.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../domain/config-schema.js';
import { closedStates, statusStates, type IncidentView, type StatusState } from '../../domain/incident.js';
import { contactById } from '../../domain/model.js';
import { HttpError } from '../errors.js';
import type { IncidentService } from '../incident-service.js';
import { html, type Html } from '../html/escape.js';
import { assets, page } from '../html/layout.js';
import { acceptForms, htmlErrors, sendHtml } from '../html/respond.js';
import { shortDuration, showTime } from '../html/time.js';
import type { Sessions, StaffSession } from '../plugins/session.js';
import { sha256 } from '../plugins/auth.js';
import type { PostmortemService } from '../postmortem-service.js';
import type { Records } from '../../store/records.js';
import { summaryPeriod } from './summary.js';
import { formatDuration } from '../../domain/duration.js';
import type { OnCallService } from '../oncall-service.js';
import { formatLocal, localInstant } from '../../domain/schedule.js';
import { zone } from '../../domain/calendar.js';
import { configWarnings } from '../../config/load.js';
import type { MonitorReader } from './monitors.js';
import { allowed } from '../../domain/access.js';
import { severities, type Severity, type StaffRole } from '../../domain/config-schema.js';
import { registerConsolePages } from './console-pages.js';
import {
  consoleIncidentDone,
  consoleIncidentStrings,
  consoleLoginStrings,
  consoleRefusalsNb,
  incidentStateWord,
  consolePostmortemStrings,
  pickLanguage,
  statusPageStrings,
  type ConsoleIncidentDone,
  type Lang,
} from '../html/i18n.js';
import { OidcRefusal, oidcCookie, type OidcLogin } from '../oidc.js';

export interface ConsoleOptions {
  incidents: IncidentService;
  config: Config;
  sessions: Sessions;
  /** The postmortem pages (from the record store); unset → no such pages. */
  postmortems?: Pick<PostmortemService, 'get' | 'list' | 'completeFollowUp'>;
  /** The monitors page (live state, pause and resume); unset → no such page. */
  monitors?: MonitorReader;
  /** The reports page (figures from the record store); unset → no such page. */
  records?: Pick<Records, 'summary'>;
  /** The on-call page (schedules, overrides); unset → no such page. */
  oncall?: OnCallService;
  /** OpenID Connect sign-in (OIDC_ISSUER …); unset → staff tokens only. */
  oidc?: OidcLogin;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The console session behind a cookie login (undefined for bearer requests). */
    staffSession?: StaffSession;
  }
}

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 120 }) });
const Csrf = { _csrf: Type.Optional(Type.String({ maxLength: 200 })) };
const LangQuery = Type.Object({ lang: Type.Optional(Type.String({ maxLength: 20 })) });

/**
 * The request's language (`?lang=`, then Accept-Language), and `carry`: `?lang=<it>` when it was
 * chosen explicitly, so the action forms and their redirects keep it (empty otherwise).
 */
function consoleLang(req: FastifyRequest): { l: Lang; carry: string } {
  const asked = (req.query as { lang?: unknown } | undefined)?.lang;
  const l = pickLanguage(asked, req.headers['accept-language']);
  return { l, carry: typeof asked === 'string' && asked !== '' ? `?lang=${l}` : '' };
}

function when(iso: string | undefined): Html {
  const s = showTime(iso);
  if (!s) return html`<span class="muted">—</span>`;
  return html`<time datetime="${s.iso}">${s.utc}</time> <span class="muted">(${s.local} Oslo)</span>`;
}

/** `/console…` paths only: a login never redirects to another site. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/console(\/(?!\.\.?(\/|$))[A-Za-z0-9._-]+)*$/.test(next)
    ? next
    : '/console';
}

export const consoleRoutes: FastifyPluginAsyncTypebox<ConsoleOptions> = async (app, o) => {
  acceptForms(app);
  // Refusals in nb: what is missing, for whom (the role names stay as configured).
  htmlErrors(app, (err, req, lang) => {
    if (lang !== 'nb') return undefined;
    if (err.code === 'csrf') return consoleRefusalsNb.staleForm;
    if (err.code === 'unauthorized' && !req.headers.authorization) return consoleRefusalsNb.sessionEnded;
    if (err.code !== 'forbidden') return undefined;
    const route = req.routeOptions.config as { role?: StaffRole; action?: string };
    if (!route.role || !req.actor) return undefined;
    return consoleRefusalsNb.missingRole(who(req.actor), app.staffRoles(req.actor), route.role, route.action);
  });
  app.decorateRequest('staffSession', undefined);
  const services = new Map(o.config.services.map((s) => [s.id, s]));
  const who = (id: string | undefined) => (id ? (contactById(o.config, id)?.name ?? id) : '');

  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  /** The request's session, if it is still live (not logged out, its token still valid). */
  async function liveSession(req: FastifyRequest): Promise<StaffSession | undefined> {
    try {
      return await o.sessions.current(req.headers.cookie);
    } catch (e) {
      throw new HttpError(
        503,
        'store_unavailable',
        `the record store did not answer: ${(e as Error).message}`,
      );
    }
  }

  /** Bearer token, or a session cookie (then POSTs must carry its CSRF token). */
  async function authenticate(req: FastifyRequest, reply: FastifyReply) {
    if (req.headers.authorization) return app.staff(req);
    const session = await liveSession(req);
    if (!session) {
      if (req.method === 'GET') {
        const { l, carry } = consoleLang(req);
        const lang = carry ? `&lang=${l}` : '';
        await reply.redirect(`/login?next=${encodeURIComponent(req.url.split('?')[0]!)}${lang}`, 303);
        return reply;
      }
      throw new HttpError(401, 'unauthorized', 'Your session has ended. Log in again.');
    }
    if (req.method !== 'GET' && !o.sessions.checkCsrf(session, (req.body as { _csrf?: unknown })?._csrf))
      throw new HttpError(
        403,
        'csrf',
        'This form is out of date or did not come from the console. Reload the page and try again.',
      );
    req.actor = session.actor;
    req.staffSession = session;
    // The route's role (config.role): a 403 page naming what is missing.
    app.authorize(req);
  }

  const csrfField = (req: FastifyRequest) =>
    req.staffSession ? html`<input type="hidden" name="_csrf" value="${req.staffSession.csrf}" />` : '';

  const nav = {
    en: {
      console: 'Incident console',
      open: 'Open',
      history: 'History',
      monitors: 'Monitors',
      postmortems: 'Postmortems',
      oncall: 'On call',
      reports: 'Reports',
      status: 'Public status page',
      logout: 'Log out',
      readOnly: 'read only',
    },
    nb: {
      console: 'Hendelseskonsoll',
      open: 'Åpne',
      history: 'Historikk',
      monitors: 'Overvåking',
      postmortems: 'Etterarbeid',
      oncall: 'Vakt',
      reports: 'Rapporter',
      status: 'Offentlig statusside',
      logout: 'Logg ut',
      readOnly: 'kun lesing',
    },
  } as const;

  function shell(
    req: FastifyRequest,
    title: string,
    body: Html,
    scripts?: string[],
    lang: Lang = 'en',
  ): string {
    const t = nav[lang];
    const q = lang === 'en' ? '' : `?lang=${lang}`;
    const logout = req.staffSession
      ? html`<form class="inline" method="post" action="/logout">
          ${csrfField(req)}<button type="submit">${t.logout}</button>
        </form>`
      : '';
    const roles = req.actor ? app.staffRoles(req.actor) : [];
    return page({
      lang,
      title: `${title} — ${t.console}`,
      scripts,
      body: html`<header class="top">
          <h1><a href="/console${q}">${t.console}</a></h1>
          <div class="who">
            ${who(req.actor)}
            <small id="roles">(${roles.length ? roles.join(', ') : t.readOnly})</small> ${logout}
          </div>
          <nav class="console">
            <a href="/console${q}">${t.open}</a>
            <a href="/console/history${q}">${t.history}</a>
            ${o.monitors ? html`<a href="/console/monitors${q}">${t.monitors}</a>` : ''}
            ${o.postmortems ? html`<a href="/console/postmortems${q}">${t.postmortems}</a>` : ''}
            ${o.oncall ? html`<a href="/console/oncall${q}">${t.oncall}</a>` : ''}
            ${o.records ? html`<a href="/console/reports${q}">${t.reports}</a>` : ''}
            <a href="/status">${t.status}</a>
          </nav>
        </header>
        <main>${body}</main>`,
    });
  }

  registerConsolePages(app, {
    config: o.config,
    incidents: o.incidents,
    monitors: o.monitors,
    postmortems: o.postmortems,
    authenticate,
    shell,
    csrfField,
    when,
  });

  // ---- login ------------------------------------------------------------------------------------
  const loginPage = (req: FastifyRequest, csrf: string, error?: string, next?: string) => {
    const { l, carry } = consoleLang(req);
    const t = consoleLoginStrings[l];
    return page({
      lang: l,
      title: t.title,
      body: html`<main>
        <h1>${t.heading}</h1>
        ${error ? html`<p class="banner bad" role="alert">${error}</p>` : ''}
        <form class="card" method="post" action="/login${carry}">
          <label for="token">${t.token}</label>
          <input
            type="password"
            id="token"
            name="token"
            autocomplete="current-password"
            required
            maxlength="500"
          />
          <input type="hidden" name="next" value="${safeNext(next)}" />
          <input type="hidden" name="_csrf" value="${csrf}" />
          <button class="primary" type="submit">${t.button}</button>
        </form>
        <p class="muted">${t.sameAsApi} (<code>Authorization: Bearer …</code>).</p>
        ${
          o.oidc
            ? html`<p class="card">
                <a
                  class="button primary"
                  id="oidc-login"
                  href="/login/oidc?next=${encodeURIComponent(safeNext(next))}"
                  >${t.oidc(o.oidc.label)}</a
                >
              </p>`
            : ''
        }
      </main>`,
    });
  };

  /** The login form with a new CSRF token, and the cookie that holds it (login CSRF). */
  const freshLoginPage = (
    req: FastifyRequest,
    reply: FastifyReply,
    status: number,
    error?: (t: (typeof consoleLoginStrings)[Lang]) => string,
    next?: string,
  ) => {
    const { token, setCookie } = o.sessions.loginCsrf();
    reply.header('set-cookie', setCookie);
    const t = consoleLoginStrings[consoleLang(req).l];
    return sendHtml(reply, status, loginPage(req, token, error?.(t), next));
  };

  /** A form posted from another site (Origin or Fetch Metadata say so). */
  const crossSite = (req: FastifyRequest) => {
    const site = req.headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') return true;
    const origin = req.headers.origin;
    // `null`: what browsers send under this site's Referrer-Policy: no-referrer (the token decides).
    if (!origin || origin === 'null') return false;
    try {
      return new URL(origin).host !== req.headers.host;
    } catch {
      return true;
    }
  };

  app.get(
    '/login',
    {
      schema: {
        hide: true,
        querystring: Type.Object({
          next: Type.Optional(Type.String({ maxLength: 300 })),
          lang: Type.Optional(Type.String({ maxLength: 20 })),
        }),
      },
    },
    async (req, reply) => {
      noStore(reply);
      if (await liveSession(req)) return reply.redirect(safeNext(req.query.next), 303);
      return freshLoginPage(req, reply, 200, undefined, req.query.next);
    },
  );

  app.post(
    '/login',
    {
      config: { rateLimit: app.rateLimits.login },
      schema: {
        hide: true,
        querystring: LangQuery,
        body: Type.Object({
          token: Type.String({ maxLength: 500 }),
          next: Type.Optional(Type.String({ maxLength: 300 })),
          _csrf: Type.Optional(Type.String({ maxLength: 200 })),
        }),
      },
    },
    async (req, reply) => {
      noStore(reply);
      // Login CSRF: another site must not log this browser in (as the other site's person).
      if (crossSite(req) || !o.sessions.checkLoginCsrf(req.headers.cookie, req.body._csrf)) {
        req.log.info('console login refused: no valid login form token');
        return freshLoginPage(req, reply, 403, (t) => t.staleForm, req.body.next);
      }
      const token = req.body.token.trim();
      const actor = app.staffContact(token);
      if (!actor) {
        req.log.info('console login refused: unknown token');
        return freshLoginPage(req, reply, 401, (t) => t.unknownToken, req.body.next);
      }
      const { setCookie } = o.sessions.issue(actor, sha256(token));
      req.log.info({ actor }, 'console login');
      return reply
        .header('set-cookie', [setCookie, o.sessions.clearLogin()])
        .redirect(safeNext(req.body.next), 303);
    },
  );

  // ---- OpenID Connect sign-in (api/oidc.ts) ---------------------------------------------------------
  if (o.oidc) {
    const oidc = o.oidc;
    const refused = (req: FastifyRequest, reply: FastifyReply, e: unknown, next?: string) => {
      if (!(e instanceof OidcRefusal)) throw e;
      reply.header('set-cookie', `${oidcCookie}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax`);
      return freshLoginPage(req, reply, e.status, () => e.message, next);
    };
    app.get(
      '/login/oidc',
      {
        config: { rateLimit: app.rateLimits.login },
        schema: {
          hide: true,
          querystring: Type.Object({ next: Type.Optional(Type.String({ maxLength: 300 })) }),
        },
      },
      async (req, reply) => {
        noStore(reply);
        try {
          const { url, setCookie } = await oidc.start(safeNext(req.query.next));
          return reply.header('set-cookie', setCookie).redirect(url, 302);
        } catch (e) {
          return refused(req, reply, e, req.query.next);
        }
      },
    );
    app.get(
      '/login/oidc/callback',
      { config: { rateLimit: app.rateLimits.login }, schema: { hide: true } },
      async (req, reply) => {
        noStore(reply);
        let signedIn: { actor: string; next: string };
        try {
          const q = req.url.indexOf('?');
          signedIn = await oidc.finish(q >= 0 ? req.url.slice(q + 1) : '', req.headers.cookie);
        } catch (e) {
          req.log.info({ reason: (e as Error).message }, 'console OIDC sign-in refused');
          return refused(req, reply, e);
        }
        const { setCookie } = o.sessions.issue(signedIn.actor, oidc.sessionBinding);
        req.log.info({ actor: signedIn.actor }, 'console login (OIDC)');
        // The provider's redirect is a cross-site navigation, which carries no SameSite=Strict cookie:
        // this page moves on itself (a same-site navigation), so the new session goes along.
        const next = safeNext(signedIn.next);
        const l = consoleLang(req).l;
        const t = consoleLoginStrings[l];
        return reply
          .header('set-cookie', [
            setCookie,
            `${oidcCookie}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax`,
          ])
          .type('text/html; charset=utf-8')
          .send(
            page({
              lang: l,
              title: t.signedInTitle,
              head: html`<meta http-equiv="refresh" content="0;url=${next}" />`,
              body: html`<main>
                <h1>${t.signedIn}</h1>
                <p><a href="${next}" id="continue">${t.continue}</a></p>
              </main>`,
            }),
          );
      },
    );
  }

  app.post(
    '/logout',
    // No body schema: a bearer request may post nothing at all (the CSRF field is checked by hand).
    { config: { staffRateLimit: true }, preHandler: authenticate, schema: { hide: true } },
    async (req, reply) => {
      // Ends the session for every API instance, not only in this browser.
      if (req.staffSession) await o.sessions.end(req.staffSession);
      return reply.header('set-cookie', o.sessions.clear()).redirect('/login', 303);
    },
  );

  // ---- pages ------------------------------------------------------------------------------------
  const openWords = {
    en: {
      title: 'Open incidents',
      none: 'No open incidents.',
      service: 'Service',
      severity: 'Severity',
      state: 'State',
      opened: 'Opened',
      other: 'Norsk',
    },
    nb: {
      title: 'Åpne hendelser',
      none: 'Ingen åpne hendelser.',
      service: 'Tjeneste',
      severity: 'Alvorlighet',
      state: 'Tilstand',
      opened: 'Åpnet',
      other: 'English',
    },
  } as const;
  app.get(
    '/console',
    {
      config: { staffRateLimit: true },
      preHandler: authenticate,
      schema: {
        hide: true,
        querystring: Type.Object({ lang: Type.Optional(Type.String({ maxLength: 20 })) }),
      },
    },
    async (req, reply) => {
      noStore(reply);
      const l = pickLanguage(req.query.lang, req.headers['accept-language']);
      const t = openWords[l];
      const open = (await o.incidents.list({ open: true, limit: 200 })).filter((i) =>
        services.has(i.service),
      );
      const rows = open.map(
        (i) =>
          html`<tr>
            <td data-label="${t.service}">
              <a href="/console/incidents/${i.id}">${services.get(i.service)?.name ?? i.service}</a
              ><br /><small>${i.id}</small>
            </td>
            <td data-label="${t.severity}">${i.severity}</td>
            <td data-label="${t.state}">
              <span class="badge st-${i.state}">${incidentStateWord(l, i.state)}</span>
            </td>
            <td data-label="${t.opened}">${when(i.openedAt)}</td>
          </tr>`,
      );
      return sendHtml(
        reply,
        200,
        shell(
          req,
          t.title,
          html`<h2>${t.title}</h2>
            <nav class="lang"><a href="/console?lang=${l === 'en' ? 'nb' : 'en'}">${t.other}</a></nav>
            ${
              open.length === 0
                ? html`<p class="banner ok">${t.none}</p>`
                : html`<table class="stack" id="open-incidents">
                    <thead>
                      <tr>
                        <th>${t.service}</th>
                        <th>${t.severity}</th>
                        <th>${t.state}</th>
                        <th>${t.opened}</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${rows}
                    </tbody>
                  </table>`
            }`,
          [],
          l,
        ),
      );
    },
  );

  /**
   * The incident page in the request's language. `carry` keeps an explicit `?lang=` on the action
   * forms and their redirects; without one each request picks its own from Accept-Language.
   */
  /** The incident page, with the other open incidents it could be merged into. */
  async function renderIncident(
    req: FastifyRequest,
    v: IncidentView,
    flash?: { ok: boolean; text: string },
  ): Promise<string> {
    const others = closedStates.includes(v.state)
      ? []
      : (await o.incidents.list({ open: true, limit: 200 })).filter(
          (i) => i.id !== v.id && i.service !== v.service.id && services.has(i.service),
        );
    return incidentPage(req, v, flash, others);
  }

  function incidentPage(
    req: FastifyRequest,
    v: IncidentView,
    flash: { ok: boolean; text: string } | undefined,
    others: { id: string; service: string; severity: string; state: string }[],
  ): string {
    const { l, carry } = consoleLang(req);
    const t = consoleIncidentStrings[l];
    /** A status message's state: as the public page words it in nb, the API's word in en. */
    const shownState = (s: StatusState) => (l === 'en' ? s : statusPageStrings[l].stateLabel[s]);
    const statusOption = (s: StatusState) =>
      html`<option value="${s}" ${s === nextStatus ? 'selected' : ''}>${shownState(s)}</option>`;
    const closed = closedStates.includes(v.state);
    const csrf = csrfField(req);
    const base = `/console/incidents/${v.id}`;
    const next = v.nextEscalationAt ? Date.parse(v.nextEscalationAt) - Date.now() : undefined;
    const nextStatus: StatusState =
      statusStates.find((s) => !v.status.some((m) => m.state === s)) ?? 'monitoring';
    // Forms the person's role does not cover stay visible (the server refuses them with a 403 page)
    // and say so, so nobody types a status message only to learn they may not publish it.
    const roles = req.actor ? app.staffRoles(req.actor) : [];
    const needs = (role: StaffRole) =>
      allowed(roles, role)
        ? ''
        : html`<p class="muted role-hint">
            ${t.needsRole(role, roles.length ? roles.join(', ') : t.noRoles)}
          </p>`;
    /** One action: a card form posting to `<incident>/<path>`, with the CSRF field and its role hint. */
    const actionForm = (path: string, role: StaffRole, fields: Html, className = 'card') =>
      html`<form class="${className}" method="post" action="${base}/${path}${carry}">
        ${csrf}${needs(role)} ${fields}
      </form>`;
    // Whom "Add responder" offers: contacts not paged for it yet.
    const candidates = o.config.contacts.filter((c) => !v.paged.some((p) => p.recipient.id === c.id));
    const actions = closed
      ? html`<p class="banner info">${t.closedBanner(incidentStateWord(l, v.state))}</p>
          ${
            v.mergedInto
              ? html`<p id="merged-into">
                  ${t.merge.mergedInto}
                  <a href="/console/incidents/${v.mergedInto}${carry}">${v.mergedInto}</a>
                </p>`
              : ''
          }
          ${v.state === 'resolved' && o.postmortems ? html`<p><a href="${base}/postmortem${carry}">${t.postmortem}</a></p>` : ''}
          <section class="actions" aria-label="${t.actions}">
            ${actionForm(
              'reopen',
              'responder',
              html`<label for="reopen-reason">${t.reopen.label}</label>
                <input
                  type="text"
                  id="reopen-reason"
                  name="reason"
                  maxlength="2000"
                  placeholder="${t.reopen.placeholder}"
                />
                <button type="submit">${t.reopen.button}</button>`,
            )}
          </section>`
      : html`<section class="actions" aria-label="${t.actions}">
          ${
            v.state === 'resolving'
              ? ''
              : actionForm(
                  'acknowledge',
                  'responder',
                  html`<p>${v.state === 'acknowledged' ? t.acknowledge.again : t.acknowledge.intro}</p>
                    <button class="primary" type="submit" name="action" value="acknowledge">
                      ${t.acknowledge.button}
                    </button>`,
                )
          }
          ${actionForm(
            'notes',
            'responder',
            html`<label for="note-text">${t.note.label}</label>
              <textarea id="note-text" name="text" required maxlength="5000"></textarea>
              <button type="submit">${t.note.button}</button>`,
          )}
          ${actionForm(
            'status',
            'communicator',
            html`<label for="status-state">${t.status.label}</label>
              <select id="status-state" name="state">
                ${statusStates.map(statusOption)}
              </select>
              <label for="status-message">${t.status.text}</label>
              <textarea id="status-message" name="message" maxlength="5000"></textarea>
              <button type="submit">${t.status.button}</button>`,
          )}
          ${
            v.state === 'resolving'
              ? ''
              : actionForm(
                  'resolve',
                  'responder',
                  html`<label for="resolve-note">${t.resolve.label}</label>
                    <input
                      type="text"
                      id="resolve-note"
                      name="note"
                      maxlength="2000"
                      placeholder="${t.resolve.placeholder}"
                    />
                    <button class="danger" type="submit">${t.resolve.button}</button>`,
                )
          }
          ${actionForm(
            'severity',
            'responder',
            html`<label for="new-severity">${t.severity.label(v.severity)}</label>
              <select id="new-severity" name="severity">
                ${severities.map(
                  (sv) => html`<option value="${sv}" ${sv === v.severity ? 'selected' : ''}>${sv}</option>`,
                )}
              </select>
              <label for="severity-reason">${t.severity.why}</label>
              <input type="text" id="severity-reason" name="reason" maxlength="2000" />
              <button type="submit">${t.severity.button}</button>`,
          )}
          ${
            candidates.length === 0
              ? html`<p class="card muted">${t.responder.everyonePaged}</p>`
              : actionForm(
                  'responders',
                  'responder',
                  html`<label for="responder-contact">${t.responder.label}</label>
                    <select id="responder-contact" name="contact" required>
                      ${candidates.map((c) => html`<option value="${c.id}">${c.name}</option>`)}
                    </select>
                    <label for="responder-note">${t.responder.why}</label>
                    <input type="text" id="responder-note" name="note" maxlength="2000" />
                    <button type="submit">${t.responder.button}</button>`,
                )
          }
          ${
            v.state === 'acknowledged'
              ? actionForm(
                  'snooze',
                  'responder',
                  html`<label for="snooze-until">${t.snooze.label}</label>
                    <input
                      type="text"
                      id="snooze-until"
                      name="until"
                      required
                      maxlength="40"
                      placeholder="30m"
                    />
                    <button type="submit">${t.snooze.button}</button>`,
                )
              : ''
          }
          ${
            others.length === 0
              ? html`<p class="card muted" id="merge-none">${t.merge.none}</p>`
              : actionForm(
                  'merge',
                  'responder',
                  html`<label for="merge-into">${t.merge.label}</label>
                    <select id="merge-into" name="into" required>
                      ${others.map((i) => {
                        const name = services.get(i.service)?.name ?? i.service;
                        const label = `${name} (${i.severity}, ${incidentStateWord(l, i.state)})`;
                        return html`<option value="${i.id}">${label}</option>`;
                      })}
                    </select>
                    <label for="merge-reason">${t.merge.why}</label>
                    <input type="text" id="merge-reason" name="reason" maxlength="2000" />
                    <button type="submit">${t.merge.button}</button>`,
                )
          }
          ${actionForm(
            'force-resolve',
            'admin',
            html`<label for="force-reason">${t.forceResolve.label}</label>
              <input
                type="text"
                id="force-reason"
                name="reason"
                required
                maxlength="2000"
                placeholder="${t.forceResolve.placeholder}"
              />
              <button class="danger" type="submit">${t.forceResolve.button}</button>`,
          )}
        </section>`;

    const q = l === 'en' ? '' : `?lang=${l}`;
    const body = html`<p><a href="/console${q}">${t.back}</a></p>
      <nav class="lang">
        <a href="${base}?lang=${l === 'en' ? 'nb' : 'en'}">${t.otherLanguage}</a>
      </nav>
      <h2>
        ${v.service.name} <span class="badge">${v.severity}</span>
        <span class="badge st-${v.state}" id="state">${incidentStateWord(l, v.state)}</span>
      </h2>
      ${flash ? html`<p class="banner ${flash.ok ? 'ok' : 'bad'}" role="status">${flash.text}</p>` : ''}
      <p class="message">${v.reason}</p>
      <dl class="facts">
        <dt>${t.facts.incident}</dt>
        <dd>${v.id}</dd>
        <dt>${t.facts.opened}</dt>
        <dd>${when(v.openedAt)}</dd>
        <dt>${t.facts.verified}</dt>
        <dd>${when(v.verifiedAt)}</dd>
        <dt>${t.facts.acknowledged}</dt>
        <dd>
          ${v.acknowledgedAt ? html`${t.ackedBy(who(v.acknowledgedBy))} ${when(v.acknowledgedAt)}` : html`<span class="muted">${t.facts.notYet}</span>`}
        </dd>
        ${
          v.snoozedUntil
            ? html`<dt>${t.facts.snoozed}</dt>
                <dd id="snoozed">${t.until} ${when(v.snoozedUntil)} ${t.by} ${who(v.snoozedBy)}</dd>`
            : ''
        }
        <dt>${t.facts.nextEscalation}</dt>
        <dd id="next-escalation">
          ${
            v.nextEscalationAt && next !== undefined
              ? html`${when(v.nextEscalationAt)} —
                  <span data-countdown="${v.nextEscalationAt}">${t.inTime(shortDuration(next))}</span
                  >${v.nextEscalationTo?.length ? html`: ${v.nextEscalationTo.join(', ')}` : ''}`
              : v.nobodyFurther && !closed
                ? html`<span class="muted">${t.nobodyFurther}</span>`
                : html`<span class="muted">${t.noneScheduled}</span>`
          }
        </dd>
        ${
          v.closedAt
            ? html`<dt>${t.facts.closed}</dt>
                <dd>${when(v.closedAt)}</dd>`
            : ''
        }
        ${
          v.state === 'resolved'
            ? html`<dt>${t.facts.recovery}</dt>
                <dd id="recovery">${recoverySentences(recoveryFacts(v)).join(' ')}</dd>`
            : ''
        }
      </dl>
      ${actions}
      <h3>${t.paged}</h3>
      ${
        v.paged.length === 0
          ? html`<p class="muted">${t.nobodyPaged}</p>`
          : html`<table class="stack" id="paged">
              <thead>
                <tr>
                  <th>${t.cols.when}</th>
                  <th>${t.cols.who}</th>
                  <th>${t.cols.level}</th>
                  <th>${t.cols.why}</th>
                </tr>
              </thead>
              <tbody>
                ${v.paged.map(
                  (p) =>
                    html`<tr>
                      <td data-label="${t.cols.when}">${when(p.at)}</td>
                      <td data-label="${t.cols.who}">${p.recipient.name} &lt;${p.recipient.email}&gt;</td>
                      <td data-label="${t.cols.level}">
                        ${p.reason === 'added' ? t.addedAsResponder : p.level === 0 ? t.finalFallback : t.level(p.level)}${p.cycle > 0 ? t.repeat(p.cycle) : ''}
                      </td>
                      <td data-label="${t.cols.why}">${p.reason}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      <h3>${t.statusMessages}</h3>
      ${
        v.status.length === 0
          ? html`<p class="muted">${t.nonePublished}</p>`
          : html`<ol class="messages">
              ${v.status.map(
                (m) =>
                  html`<li>
                    <strong>${shownState(m.state)}</strong> — ${when(m.at)} ${t.by}
                    ${who(m.author) || m.author}
                    <p class="message">${m.message}</p>
                  </li>`,
              )}
            </ol>`
      }
      <h3>${t.timeline}</h3>
      <table class="stack" id="timeline">
        <thead>
          <tr>
            <th>${t.cols.whenUtc}</th>
            <th>${t.cols.who}</th>
            <th>${t.cols.what}</th>
            <th>${t.cols.detail}</th>
          </tr>
        </thead>
        <tbody>
          ${v.timeline.map(
            (e) =>
              html`<tr>
                <td data-label="${t.cols.whenUtc}">${when(e.at)}</td>
                <td data-label="${t.cols.who}">${e.actor}</td>
                <td data-label="${t.cols.what}">${e.kind}</td>
                <td data-label="${t.cols.detail}" class="detail">${e.detail}</td>
              </tr>`,
          )}
        </tbody>
      </table>`;
    return shell(req, v.service.name, body, [assets.consoleJs.path], l);
  }

  app.get(
    '/console/incidents/:id',
    {
      config: { staffRateLimit: true },
      preHandler: authenticate,
      schema: {
        hide: true,
        params: Params,
        querystring: Type.Object({
          done: Type.Optional(Type.String({ maxLength: 40 })),
          lang: Type.Optional(Type.String({ maxLength: 20 })),
        }),
      },
    },
    async (req, reply) => {
      noStore(reply);
      const view = await o.incidents.get(req.params.id);
      const t = consoleIncidentStrings[consoleLang(req).l];
      const done = req.query.done as ConsoleIncidentDone | undefined;
      const flash =
        done && (consoleIncidentDone as readonly string[]).includes(done)
          ? { ok: true, text: t.done[done] }
          : undefined;
      return sendHtml(reply, 200, await renderIncident(req, view, flash));
    },
  );

  const postmortemPage = (
    req: FastifyRequest,
    pm: Awaited<ReturnType<PostmortemService['get']>>,
    flash?: { ok: boolean; text: string },
  ) => {
    const { l, carry } = consoleLang(req);
    const t = consolePostmortemStrings[l];
    const csrf = csrfField(req);
    const canMark = allowed(req.actor ? app.staffRoles(req.actor) : [], 'responder');
    const base = `/console/incidents/${encodeURIComponent(pm.incidentId)}`;
    const followUps = pm.followUps.length
      ? html`<table class="stack" id="follow-ups">
          <thead>
            <tr>
              <th>${t.cols.task}</th>
              <th>${t.cols.owner}</th>
              <th>${t.cols.due}</th>
              <th>${t.cols.state}</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            ${pm.followUps.map(
              (f) =>
                html`<tr data-follow-up="${f.id}">
                  <td data-label="${t.cols.task}">${f.title}</td>
                  <td data-label="${t.cols.owner}">${f.owner.name}</td>
                  <td data-label="${t.cols.due}">${f.dueDate}</td>
                  <td data-label="${t.cols.state}">
                    ${
                      f.doneAt
                        ? html`<span class="badge pm-completed">${t.done}</span> ${when(f.doneAt)}
                            ${consoleIncidentStrings[l].by} ${f.doneBy ?? ''}`
                        : html`<span class="badge pm-due">${t.open}</span>
                            <small>${f.remindedAt ? t.reminded : t.reminderOnDueDate}</small>`
                    }
                  </td>
                  <td>
                    ${
                      !f.doneAt
                        ? canMark
                          ? html`<form method="post" action="${base}/follow-ups/${f.id}/done${carry}">
                              ${csrf}<button type="submit">${t.markDone}</button>
                            </form>`
                          : html`<small class="muted role-hint">${t.needsResponder}</small>`
                        : ''
                    }
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>`
      : html`<p class="muted">${t.noFollowUps}</p>`;
    const body = html`<p><a href="${base}${carry}">${t.back}</a></p>
      <nav class="lang">
        <a href="${base}/postmortem?lang=${l === 'en' ? 'nb' : 'en'}">${t.otherLanguage}</a>
      </nav>
      <h1>${t.heading(pm.service.name)}</h1>
      ${flash ? html`<p class="banner ${flash.ok ? 'ok' : 'bad'}" role="status">${flash.text}</p>` : ''}
      <dl class="facts">
        <dt>${t.facts.state}</dt>
        <dd id="pm-state">${pm.state}</dd>
        <dt>${t.facts.owner}</dt>
        <dd>${pm.owner.name}</dd>
        <dt>${t.facts.due}</dt>
        <dd>${pm.dueDate}</dd>
        <dt>${t.facts.meeting}</dt>
        <dd>${when(pm.meeting.start)}</dd>
        ${
          pm.url
            ? html`<dt>${t.facts.document}</dt>
                <dd><a href="${pm.url}">${pm.url}</a></dd>`
            : ''
        }
      </dl>
      <h2>${t.followUps}</h2>
      ${followUps}
      <h2>${t.draft}</h2>
      <pre class="postmortem" id="pm-markdown">${pm.markdown}</pre>`;
    return shell(req, t.heading(pm.service.name), body, [], l);
  };

  app.get(
    '/console/incidents/:id/postmortem',
    {
      config: { staffRateLimit: true },
      preHandler: authenticate,
      schema: {
        hide: true,
        params: Params,
        querystring: Type.Object({
          done: Type.Optional(Type.String({ maxLength: 20 })),
          lang: Type.Optional(Type.String({ maxLength: 20 })),
        }),
      },
    },
    async (req, reply) => {
      noStore(reply);
      if (!o.postmortems) throw new HttpError(404, 'not_found', 'postmortems are not served here');
      const pm = await o.postmortems.get(req.params.id);
      const marked = /^f[0-9]{1,4}$/.test(req.query.done ?? '') ? req.query.done : undefined;
      const t = consolePostmortemStrings[consoleLang(req).l];
      const flash = marked ? { ok: true, text: t.markedDone(marked) } : undefined;
      return sendHtml(reply, 200, postmortemPage(req, pm, flash));
    },
  );

  app.post(
    '/console/incidents/:id/follow-ups/:followUpId/done',
    {
      config: { staffRateLimit: true, role: 'responder', action: 'Marking a follow-up done' },
      preHandler: authenticate,
      schema: {
        hide: true,
        params: Type.Object({ ...Params.properties, followUpId: Type.String({ pattern: '^f[0-9]{1,4}$' }) }),
        querystring: LangQuery,
        body: Type.Object(Csrf),
      },
    },
    async (req, reply) => {
      noStore(reply);
      if (!o.postmortems) throw new HttpError(404, 'not_found', 'postmortems are not served here');
      const { id, followUpId } = req.params;
      try {
        await o.postmortems.completeFollowUp(id, req.actor!, followUpId);
      } catch (e) {
        if (!(e instanceof HttpError) || e.statusCode !== 409) throw e;
        const pm = await o.postmortems.get(id);
        return sendHtml(reply, 409, postmortemPage(req, pm, { ok: false, text: e.message }));
      }
      const { l, carry } = consoleLang(req);
      return reply.redirect(
        `/console/incidents/${encodeURIComponent(id)}/postmortem?done=${followUpId}${carry ? `&lang=${l}` : ''}`,
        303,
      );
    },
  );

  const reportWords = {
    en: {
      title: 'Reports',
      service: 'service',
      incidents: 'Incidents',
      mtta: 'Mean time to acknowledge',
      mttr: 'Mean time to resolve',
      ttfm: 'Mean time to the first public message',
      median: 'median',
      pagesPerPerson: 'Pages per person',
      person: 'Person',
      pages: 'Pages',
      perService: 'Incidents per service',
      serviceCol: 'Service',
      other: 'Norsk',
    },
    nb: {
      title: 'Rapporter',
      service: 'tjeneste',
      incidents: 'Hendelser',
      mtta: 'Gjennomsnittlig tid til kvittering',
      mttr: 'Gjennomsnittlig tid til løst',
      ttfm: 'Gjennomsnittlig tid til første offentlige melding',
      median: 'median',
      pagesPerPerson: 'Varsler per person',
      person: 'Person',
      pages: 'Varsler',
      perService: 'Hendelser per tjeneste',
      serviceCol: 'Tjeneste',
      other: 'English',
    },
  } as const;

  app.get(
    '/console/reports',
    {
      config: { staffRateLimit: true },
      preHandler: authenticate,
      schema: {
        hide: true,
        querystring: Type.Object({
          from: Type.Optional(Type.String({ format: 'date-time' })),
          to: Type.Optional(Type.String({ format: 'date-time' })),
          service: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
          lang: Type.Optional(Type.String({ maxLength: 20 })),
        }),
      },
    },
    async (req, reply) => {
      noStore(reply);
      if (!o.records) throw new HttpError(404, 'not_found', 'reports are not served here');
      const l = pickLanguage(req.query.lang, req.headers['accept-language']);
      const t = reportWords[l];
      const period = summaryPeriod(req.query);
      const r = await o.records.summary({
        ...period,
        ...(req.query.service ? { service: req.query.service } : {}),
      });
      const dur = (s: number | undefined) => (s === undefined ? '—' : formatDuration(s * 1000));
      const other = new URLSearchParams({
        ...(req.query.from ? { from: req.query.from } : {}),
        ...(req.query.to ? { to: req.query.to } : {}),
        ...(req.query.service ? { service: req.query.service } : {}),
        lang: l === 'en' ? 'nb' : 'en',
      });
      const body = html`<h1>${t.title}</h1>
        <nav class="lang"><a href="/console/reports?${other.toString()}">${t.other}</a></nav>
        <p class="muted">
          ${when(r.from)} –
          ${when(r.to)}${r.service ? html` · ${t.service} ${services.get(r.service)?.name ?? r.service}` : ''}
        </p>
        <dl class="facts" id="figures">
          <dt>${t.incidents}</dt>
          <dd id="incidents">${String(r.incidents)}</dd>
          <dt>${t.mtta}</dt>
          <dd id="mtta">${dur(r.mttaSeconds)} (${t.median} ${dur(r.medianTtaSeconds)})</dd>
          <dt>${t.mttr}</dt>
          <dd id="mttr">${dur(r.mttrSeconds)} (${t.median} ${dur(r.medianTtrSeconds)})</dd>
          <dt>${t.ttfm}</dt>
          <dd id="ttfm">${dur(r.meanTimeToFirstMessageSeconds)}</dd>
        </dl>
        <h2>${t.pagesPerPerson}</h2>
        <table class="stack">
          <thead>
            <tr>
              <th>${t.person}</th>
              <th>${t.pages}</th>
            </tr>
          </thead>
          <tbody>
            ${r.pagesPerPerson.map(
              (p) =>
                html`<tr>
                  <td data-label="${t.person}">${p.name}</td>
                  <td data-label="${t.pages}">${String(p.pages)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        <h2>${t.perService}</h2>
        <table class="stack">
          <thead>
            <tr>
              <th>${t.serviceCol}</th>
              <th>${t.incidents}</th>
            </tr>
          </thead>
          <tbody>
            ${r.incidentsPerService.map(
              (x) =>
                html`<tr>
                  <td data-label="${t.serviceCol}">
                    <a href="/console/reports?service=${x.service}&lang=${l}"
                      >${services.get(x.service)?.name ?? x.service}</a
                    >
                  </td>
                  <td data-label="${t.incidents}">${String(x.incidents)}</td>
                </tr>`,
            )}
          </tbody>
        </table>`;
      return sendHtml(reply, 200, shell(req, t.title, body, [], l));
    },
  );

  // ---- on call --------------------------------------------------------------------------------
  /** `2026-12-08T09:00` (a datetime-local field) in the schedule's zone → ISO instant; or the text as is. */
  const fromLocalField = (value: string, timeZone: string): string => {
    const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})$/.exec(value.trim());
    if (!m) return value.trim();
    return new Date(localInstant(zone(timeZone), m[1]!, Number(m[2]) * 60 + Number(m[3]))).toISOString();
  };
  const local = (iso: string, timeZone: string) => formatLocal(Date.parse(iso), timeZone);

  const oncallWords = {
    en: {
      title: 'On call',
      other: 'Norsk',
      now: 'On call now',
      override: 'override',
      until: 'until',
      nobody: 'nobody',
      next: 'Next',
      from: 'from',
      twoWeeks: 'The next two weeks',
      who: 'Who',
      fromCol: 'From',
      untilCol: 'Until',
      layer: 'Layer',
      overrides: 'Overrides',
      none: 'None.',
      insteadOf: 'instead of',
      by: 'by',
      delete: 'Delete',
      overrideLegend: (tz: string) => `Override (times in ${tz})`,
      whoTakesOver: 'Who takes over',
      insteadOfLabel: 'Instead of',
      whoever: 'whoever is on call',
      add: 'Add override',
      feedIntro: 'Your shifts in a calendar app:',
      feed: 'personal calendar feed',
      feedNote: '(the link is the password: keep it to yourself)',
      gaps: 'Gaps: nobody would be paged',
      noSchedules: 'No schedules are configured.',
    },
    nb: {
      title: 'Vakt',
      other: 'English',
      now: 'På vakt nå',
      override: 'bytte',
      until: 'til',
      nobody: 'ingen',
      next: 'Neste',
      from: 'fra',
      twoWeeks: 'De neste to ukene',
      who: 'Hvem',
      fromCol: 'Fra',
      untilCol: 'Til',
      layer: 'Lag',
      overrides: 'Vaktbytter',
      none: 'Ingen.',
      insteadOf: 'i stedet for',
      by: 'av',
      delete: 'Slett',
      overrideLegend: (tz: string) => `Vaktbytte (tider i ${tz})`,
      whoTakesOver: 'Hvem tar over',
      insteadOfLabel: 'I stedet for',
      whoever: 'den som har vakt',
      add: 'Legg til vaktbytte',
      feedIntro: 'Vaktene dine i en kalenderapp:',
      feed: 'personlig kalenderfeed',
      feedNote: '(lenken er passordet: hold den for deg selv)',
      gaps: 'Hull: ingen ville blitt varslet',
      noSchedules: 'Ingen vaktplaner er satt opp.',
    },
  } as const;

  async function onCallPage(
    req: FastifyRequest,
    flash?: { ok: boolean; text: string },
    l: Lang = pickLanguage(undefined, req.headers['accept-language']),
  ): Promise<string> {
    const t = oncallWords[l];
    const oc = o.oncall!;
    const now = Date.now();
    const overview = await oc.overview(now);
    const views = await Promise.all(oc.list().map((s) => oc.view(s.id, {}, now)));
    const people = o.config.contacts;
    const options = (selected?: string) =>
      people.map(
        (c) => html`<option value="${c.id}" ${c.id === selected ? 'selected' : ''}>${c.name}</option>`,
      );
    const sections = views.map((v) => {
      const s = overview.schedules.find((x) => x.id === v.id)!;
      return html`<section class="schedule" id="schedule-${v.id}">
        <h2>${v.name} <small class="muted">${v.timeZone}</small></h2>
        <dl class="facts">
          <dt>${t.now}</dt>
          <dd class="oncall-now">
            ${
              s.now
                ? html`${s.now.name}${s.now.source === 'override' ? ` (${t.override})` : ''} ${t.until}
                  ${local(s.now.until, v.timeZone)}`
                : html`<span class="banner warn"
                    >${t.nobody}${s.gapUntil ? html` ${t.until} ${local(s.gapUntil, v.timeZone)}` : ''}</span
                  >`
            }
          </dd>
          <dt>${t.next}</dt>
          <dd class="oncall-next">
            ${s.next ? html`${s.next.name} ${t.from} ${local(s.next.from, v.timeZone)}` : '—'}
          </dd>
        </dl>
        <h3>${t.twoWeeks}</h3>
        <table class="shifts stack">
          <thead>
            <tr>
              <th>${t.who}</th>
              <th>${t.fromCol}</th>
              <th>${t.untilCol}</th>
              <th>${t.layer}</th>
            </tr>
          </thead>
          <tbody>
            ${v.shifts.map(
              (sh) =>
                html`<tr class="${sh.source}">
                  <td data-label="${t.who}">
                    ${sh.name}${sh.source === 'override' ? ` (${t.override})` : ''}
                  </td>
                  <td data-label="${t.fromCol}">${local(sh.start, v.timeZone)}</td>
                  <td data-label="${t.untilCol}">${local(sh.end, v.timeZone)}</td>
                  <td data-label="${t.layer}">${sh.layer ?? '—'}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        <h3>${t.overrides}</h3>
        ${
          v.overrides.length === 0
            ? html`<p class="muted">${t.none}</p>`
            : html`<ul class="overrides">
                ${v.overrides.map(
                  (x) =>
                    html`<li>
                      ${who(x.by)}${x.replaces ? html` ${t.insteadOf} ${who(x.replaces)}` : ''}:
                      ${local(x.from, v.timeZone)} – ${local(x.until, v.timeZone)}
                      <small class="muted">(${t.by} ${who(x.createdBy)})</small>
                      <form
                        class="inline"
                        method="post"
                        action="/console/oncall/${v.id}/overrides/${x.id}/delete"
                      >
                        ${csrfField(req)}<button type="submit">${t.delete}</button>
                      </form>
                    </li>`,
                )}
              </ul>`
        }
        <form class="override" method="post" action="/console/oncall/${v.id}/overrides">
          ${csrfField(req)}
          <fieldset>
            <legend>${t.overrideLegend(v.timeZone)}</legend>
            <label
              >${t.whoTakesOver}
              <select name="by" required>
                ${options()}
              </select></label
            >
            <label
              >${t.insteadOfLabel}
              <select name="replaces">
                <option value="">${t.whoever}</option>
                ${options()}
              </select></label
            >
            <label>${t.fromCol} <input type="datetime-local" name="from" required /></label>
            <label>${t.untilCol} <input type="datetime-local" name="until" required /></label>
            <button type="submit">${t.add}</button>
          </fieldset>
        </form>
      </section>`;
    });
    const feed = oc.calendarLinks
      ? html`<p>
          ${t.feedIntro}
          <a id="calendar-link" href="${oc.calendarLinks.url(`${req.protocol}://${req.host}`, req.actor!)}"
            >${t.feed}</a
          >
          <small class="muted">${t.feedNote}</small>
        </p>`
      : '';
    const gaps = configWarnings(o.config, now);
    const body = html`<h1>${t.title}</h1>
      <nav class="lang"><a href="/console/oncall?lang=${l === 'en' ? 'nb' : 'en'}">${t.other}</a></nav>
      ${flash ? html`<p class="banner ${flash.ok ? 'ok' : 'bad'}" role="status">${flash.text}</p>` : ''}
      ${
        gaps.length > 0
          ? html`<div class="banner warn" id="gaps">
              <strong>${t.gaps}</strong>
              <ul>
                ${gaps.map((g) => html`<li>${g.message}</li>`)}
              </ul>
            </div>`
          : ''
      }
      ${feed} ${views.length === 0 ? html`<p class="muted">${t.noSchedules}</p>` : sections}`;
    return shell(req, t.title, body, [], l);
  }

  app.get(
    '/console/oncall',
    {
      config: { staffRateLimit: true },
      preHandler: authenticate,
      schema: {
        hide: true,
        querystring: Type.Object({
          done: Type.Optional(Type.String({ maxLength: 20 })),
          lang: Type.Optional(Type.String({ maxLength: 20 })),
        }),
      },
    },
    async (req, reply) => {
      noStore(reply);
      if (!o.oncall) throw new HttpError(404, 'not_found', 'on-call schedules are not served here');
      const l = pickLanguage(req.query.lang, req.headers['accept-language']);
      const flash =
        req.query.done === 'added'
          ? { ok: true, text: l === 'nb' ? 'Vaktbyttet er lagt til.' : 'Override added.' }
          : req.query.done === 'deleted'
            ? {
                ok: true,
                text:
                  l === 'nb'
                    ? 'Vaktbyttet er slettet: rotasjonen gjelder igjen.'
                    : 'Override deleted: the rotation applies again.',
              }
            : undefined;
      return sendHtml(reply, 200, await onCallPage(req, flash, l));
    },
  );

  const ScheduleParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
  app.post(
    '/console/oncall/:id/overrides',
    {
      config: { staffRateLimit: true, role: 'admin', action: 'Making an on-call override' },
      preHandler: authenticate,
      schema: {
        hide: true,
        params: ScheduleParams,
        body: Type.Object({
          ...Csrf,
          by: Type.String({ maxLength: 100 }),
          replaces: Type.Optional(Type.String({ maxLength: 100 })),
          from: Type.String({ maxLength: 40 }),
          until: Type.String({ maxLength: 40 }),
        }),
      },
    },
    async (req, reply) => {
      noStore(reply);
      const oc = o.oncall;
      const s = oc?.list().find((x) => x.id === req.params.id);
      if (!oc || !s) throw new HttpError(404, 'not_found', `schedule "${req.params.id}" not found`);
      const b = req.body;
      try {
        await oc.createOverride(
          s.id,
          {
            by: b.by,
            ...(b.replaces ? { replaces: b.replaces } : {}),
            from: fromLocalField(b.from, s.timeZone),
            until: fromLocalField(b.until, s.timeZone),
          },
          req.actor!,
        );
      } catch (e) {
        if (!(e instanceof HttpError) || e.statusCode !== 400) throw e;
        return sendHtml(reply, 400, await onCallPage(req, { ok: false, text: e.message }));
      }
      return reply.redirect('/console/oncall?done=added', 303);
    },
  );
  app.post(
    '/console/oncall/:id/overrides/:overrideId/delete',
    {
      config: { staffRateLimit: true, role: 'admin', action: 'Deleting an on-call override' },
      preHandler: authenticate,
      schema: {
        hide: true,
        params: Type.Object({
          id: Type.String({ minLength: 1, maxLength: 100 }),
          overrideId: Type.String({ minLength: 1, maxLength: 100 }),
        }),
      },
    },
    async (req, reply) => {
      noStore(reply);
      if (!o.oncall) throw new HttpError(404, 'not_found', 'on-call schedules are not served here');
      await o.oncall.deleteOverride(req.params.id, req.params.overrideId);
      return reply.redirect('/console/oncall?done=deleted', 303);
    },
  );

  // ---- actions ----------------------------------------------------------------------------------
  /** Runs the action; success → 303 back to the page, a refusal (400/409) → the page with why. */
  async function act(
    req: FastifyRequest,
    id: string,
    reply: FastifyReply,
    done: ConsoleIncidentDone,
    run: (actor: string) => Promise<unknown>,
  ) {
    noStore(reply);
    try {
      await run(req.actor!);
    } catch (e) {
      if (!(e instanceof HttpError) || (e.statusCode !== 400 && e.statusCode !== 409)) throw e;
      const view = await o.incidents.get(id);
      return sendHtml(reply, e.statusCode, await renderIncident(req, view, { ok: false, text: e.message }));
    }
    const { l, carry } = consoleLang(req);
    return reply.redirect(
      `/console/incidents/${encodeURIComponent(id)}?done=${done}${carry ? `&lang=${l}` : ''}`,
      303,
    );
  }

  const action = { config: { staffRateLimit: true }, preHandler: authenticate } as const;
  app.post(
    '/console/incidents/:id/acknowledge',
    {
      ...action,
      config: { ...action.config, role: 'responder', action: 'Acknowledging' },
      schema: { hide: true, params: Params, querystring: LangQuery },
    },
    async (req, reply) =>
      act(req, req.params.id, reply, 'acknowledged', (actor) =>
        o.incidents.acknowledge(req.params.id, actor),
      ),
  );
  app.post(
    '/console/incidents/:id/notes',
    {
      ...action,
      config: { ...action.config, role: 'responder', action: 'Adding a note' },
      schema: {
        hide: true,
        params: Params,
        querystring: LangQuery,
        body: Type.Object({ ...Csrf, text: Type.String({ maxLength: 5000 }) }),
      },
    },
    async (req, reply) => {
      const text = req.body.text.trim();
      if (!text) throw new HttpError(400, 'invalid_request', 'text: a note needs some text');
      return act(req, req.params.id, reply, 'noted', (actor) => o.incidents.note(req.params.id, actor, text));
    },
  );
  app.post(
    '/console/incidents/:id/status',
    {
      ...action,
      config: { ...action.config, role: 'communicator', action: 'Publishing a status message' },
      schema: {
        hide: true,
        params: Params,
        querystring: LangQuery,
        body: Type.Object({
          ...Csrf,
          state: Type.Union(statusStates.map((s) => Type.Literal(s))),
          message: Type.Optional(Type.String({ maxLength: 5000 })),
        }),
      },
    },
    async (req, reply) => {
      const message = req.body.message?.trim() || undefined;
      return act(req, req.params.id, reply, 'published', (actor) =>
        o.incidents.publishStatus(req.params.id, actor, req.body.state, message),
      );
    },
  );
  app.post(
    '/console/incidents/:id/resolve',
    {
      ...action,
      config: { ...action.config, role: 'responder', action: 'Resolving' },
      schema: { hide: true, params: Params, querystring: LangQuery },
    },
    async (req, reply) => {
      const note = (req.body as { note?: unknown } | undefined)?.note;
      if (note !== undefined && (typeof note !== 'string' || note.length > 2000))
        throw new HttpError(400, 'invalid_request', 'note: at most 2000 characters');
      return act(req, req.params.id, reply, 'resolving', (actor) =>
        o.incidents.resolve(req.params.id, actor, note?.trim() || undefined),
      );
    },
  );
  app.post(
    '/console/incidents/:id/reopen',
    {
      ...action,
      config: { ...action.config, role: 'responder', action: 'Reopening an incident' },
      schema: {
        hide: true,
        params: Params,
        querystring: LangQuery,
        body: Type.Object({ ...Csrf, reason: Type.Optional(Type.String({ maxLength: 2000 })) }),
      },
    },
    async (req, reply) => {
      noStore(reply);
      try {
        const r = await o.incidents.reopen(req.params.id, req.actor!, req.body.reason ?? '');
        const { l, carry } = consoleLang(req);
        return reply.redirect(
          `/console/incidents/${encodeURIComponent(r.incident.id)}?done=reopened${carry ? `&lang=${l}` : ''}`,
          303,
        );
      } catch (e) {
        if (!(e instanceof HttpError) || e.statusCode !== 409) throw e;
        const view = await o.incidents.get(req.params.id);
        return sendHtml(reply, 409, await renderIncident(req, view, { ok: false, text: e.message }));
      }
    },
  );
  app.post(
    '/console/incidents/:id/force-resolve',
    {
      ...action,
      config: { ...action.config, role: 'admin', action: 'Force-resolving' },
      schema: {
        hide: true,
        params: Params,
        querystring: LangQuery,
        body: Type.Object({ ...Csrf, reason: Type.String({ maxLength: 2000 }) }),
      },
    },
    async (req, reply) => {
      const reason = req.body.reason.trim();
      if (!reason)
        throw new HttpError(400, 'invalid_request', 'reason: say why it is resolved without probe proof');
      return act(req, req.params.id, reply, 'force-resolved', (actor) =>
        o.incidents.forceResolve(req.params.id, actor, reason),
      );
    },
  );
  app.post(
    '/console/incidents/:id/severity',
    {
      ...action,
      config: { ...action.config, role: 'responder', action: 'Changing the severity' },
      schema: {
        hide: true,
        params: Params,
        querystring: LangQuery,
        body: Type.Object({
          ...Csrf,
          severity: Type.String({ maxLength: 10 }),
          reason: Type.Optional(Type.String({ maxLength: 2000 })),
        }),
      },
    },
    async (req, reply) => {
      const severity = req.body.severity as Severity;
      if (!severities.includes(severity))
        throw new HttpError(400, 'invalid_request', `severity: must be one of ${severities.join(', ')}`);
      return act(req, req.params.id, reply, 'severity-changed', (actor) =>
        o.incidents.changeSeverity(req.params.id, actor, severity, req.body.reason),
      );
    },
  );
  app.post(
    '/console/incidents/:id/snooze',
    {
      ...action,
      config: { ...action.config, role: 'responder', action: 'Snoozing' },
      schema: {
        hide: true,
        params: Params,
        querystring: LangQuery,
        body: Type.Object({ ...Csrf, until: Type.String({ maxLength: 40 }) }),
      },
    },
    async (req, reply) =>
      act(req, req.params.id, reply, 'snoozed', (actor) =>
        o.incidents.snooze(req.params.id, actor, req.body.until),
      ),
  );
  app.post(
    '/console/incidents/:id/merge',
    {
      ...action,
      config: { ...action.config, role: 'responder', action: 'Merging incidents' },
      schema: {
        hide: true,
        params: Params,
        querystring: LangQuery,
        body: Type.Object({
          ...Csrf,
          into: Type.String({ maxLength: 200 }),
          reason: Type.Optional(Type.String({ maxLength: 2000 })),
        }),
      },
    },
    async (req, reply) => {
      noStore(reply);
      try {
        const r = await o.incidents.merge(req.params.id, req.actor!, req.body.into, req.body.reason);
        const { l, carry } = consoleLang(req);
        // On to the incident that carries the outage now.
        return reply.redirect(
          `/console/incidents/${encodeURIComponent(r.into)}?done=merged${carry ? `&lang=${l}` : ''}`,
          303,
        );
      } catch (e) {
        if (!(e instanceof HttpError) || ![400, 404, 409].includes(e.statusCode)) throw e;
        const view = await o.incidents.get(req.params.id);
        return sendHtml(reply, e.statusCode, await renderIncident(req, view, { ok: false, text: e.message }));
      }
    },
  );
  app.post(
    '/console/incidents/:id/responders',
    {
      ...action,
      config: { ...action.config, role: 'responder', action: 'Adding a responder' },
      schema: {
        hide: true,
        params: Params,
        querystring: LangQuery,
        body: Type.Object({
          ...Csrf,
          contact: Type.String({ maxLength: 100 }),
          note: Type.Optional(Type.String({ maxLength: 2000 })),
        }),
      },
    },
    async (req, reply) =>
      act(req, req.params.id, reply, 'responder-added', (actor) =>
        o.incidents.addResponder(req.params.id, actor, req.body.contact, req.body.note),
      ),
  );
};
