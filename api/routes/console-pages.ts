/**
 * The console's daily-use pages, in English and Norwegian (bokmål) like the status page (`?lang=`
 * wins, then Accept-Language): incident history with filters and search (from the record store),
 * the monitors (live state, pause and resume for admins) and the postmortems (due, overdue,
 * completed). Registered by console.ts, which owns sign-in, roles and the page shell. Every table
 * stacks into labelled rows on a narrow screen, so a 390 px phone never scrolls sideways.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { severities, type Config } from '../../domain/config-schema.js';
import { incidentStates } from '../../domain/incident.js';
import { HttpError } from '../errors.js';
import type { IncidentService } from '../incident-service.js';
import { html, type Html } from '../html/escape.js';
import { incidentStateWord, pickLanguage, type Lang } from '../html/i18n.js';
import { sendHtml } from '../html/respond.js';
import { shortDuration } from '../html/time.js';
import type { PostmortemService } from '../postmortem-service.js';
import { postmortemListStates, type PostmortemListState } from '../postmortem-service.js';
import type { MonitorReader } from './monitors.js';

export interface ConsolePagesContext {
  config: Config;
  incidents: IncidentService;
  monitors?: MonitorReader;
  postmortems?: Pick<PostmortemService, 'list'>;
  authenticate: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  shell: (req: FastifyRequest, title: string, body: Html, scripts?: string[], lang?: Lang) => string;
  csrfField: (req: FastifyRequest) => Html | string;
  when: (iso: string | undefined) => Html;
}

export const consolePagesWords = {
  en: {
    history: 'Incident history',
    monitors: 'Monitors',
    postmortems: 'Postmortems',
    service: 'Service',
    severity: 'Severity',
    state: 'State',
    from: 'Opened from',
    to: 'Opened to (inclusive)',
    search: 'Search reason and notes',
    any: 'any',
    filter: 'Filter',
    clear: 'Clear',
    opened: 'Opened',
    closed: 'Closed',
    reason: 'Reason',
    none: 'No incidents match.',
    newer: '← Newer',
    older: 'Older →',
    showing: (n: number, from: number) => `Incidents ${from + 1}–${from + n}, newest first.`,
    badDate: (f: string) => `${f}: expected a date (YYYY-MM-DD)`,
    check: 'Check',
    lastResult: 'Last result',
    nextProbe: 'Next probe',
    paused: 'Paused',
    incident: 'Incident',
    probing: 'probing now',
    overdue: 'overdue: no recent probe',
    due: 'due now',
    heartbeat: 'a ping is expected',
    notRunning: 'not running',
    pauseFor: 'Pause for',
    pauseReason: 'Reason',
    pause: 'Pause',
    resume: 'Resume',
    pausedDone: 'Paused: failures are recorded but page nobody until then.',
    resumedDone: 'Resumed.',
    adminOnly: 'Pausing and resuming (maintenance) needs the admin role.',
    noChecks: 'No checks are configured.',
    ago: (d: string) => `${d} ago`,
    inTime: (d: string) => `in ${d}`,
    owner: 'Owner',
    dueDate: 'Due',
    meeting: 'Meeting',
    all: 'All',
    pmNone: 'No postmortems here.',
    pmState: { due: 'due', overdue: 'overdue', completed: 'completed' } as Record<string, string>,
    open: 'open',
    until: (t: Html) => html`until ${t}`,
  },
  nb: {
    history: 'Hendelseshistorikk',
    monitors: 'Overvåking',
    postmortems: 'Etterarbeid',
    service: 'Tjeneste',
    severity: 'Alvorlighet',
    state: 'Tilstand',
    from: 'Åpnet fra',
    to: 'Åpnet til (med)',
    search: 'Søk i årsak og notater',
    any: 'alle',
    filter: 'Filtrer',
    clear: 'Nullstill',
    opened: 'Åpnet',
    closed: 'Lukket',
    reason: 'Årsak',
    none: 'Ingen hendelser passer.',
    newer: '← Nyere',
    older: 'Eldre →',
    showing: (n: number, from: number) => `Hendelse ${from + 1}–${from + n}, nyeste først.`,
    badDate: (f: string) => `${f}: forventet en dato (ÅÅÅÅ-MM-DD)`,
    check: 'Sjekk',
    lastResult: 'Siste resultat',
    nextProbe: 'Neste sjekk',
    paused: 'Pauset',
    incident: 'Hendelse',
    probing: 'sjekker nå',
    overdue: 'forsinket: ingen fersk sjekk',
    due: 'straks',
    heartbeat: 'venter på ping',
    notRunning: 'kjører ikke',
    pauseFor: 'Pause i',
    pauseReason: 'Grunn',
    pause: 'Pause',
    resume: 'Gjenoppta',
    pausedDone: 'Pauset: feil registreres, men ingen varsles før da.',
    resumedDone: 'Gjenopptatt.',
    adminOnly: 'Pause og gjenoppta (vedlikehold) krever rollen admin.',
    noChecks: 'Ingen sjekker er satt opp.',
    ago: (d: string) => `for ${d} siden`,
    inTime: (d: string) => `om ${d}`,
    owner: 'Eier',
    dueDate: 'Frist',
    meeting: 'Møte',
    all: 'Alle',
    pmNone: 'Ingen etterarbeid her.',
    pmState: { due: 'til arbeid', overdue: 'forfalt', completed: 'ferdig' } as Record<string, string>,
    open: 'åpen',
    until: (t: Html) => html`til ${t}`,
  },
} as const;

const pauseChoices = [
  ['30m', 30 * 60_000],
  ['1h', 60 * 60_000],
  ['2h', 2 * 60 * 60_000],
  ['4h', 4 * 60 * 60_000],
  ['1d', 24 * 60 * 60_000],
] as const;

const pageSize = 50;
const isDate = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`));

export function registerConsolePages(app: FastifyInstance, c: ConsolePagesContext): void {
  const lang = (req: FastifyRequest) =>
    pickLanguage((req.query as { lang?: unknown } | undefined)?.lang, req.headers['accept-language']);
  const services = new Map(c.config.services.map((s) => [s.id, s]));
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');
  const page = { config: { staffRateLimit: true }, preHandler: c.authenticate } as const;
  const LangOnly = { lang: Type.Optional(Type.String({ maxLength: 20 })) };
  const langLink = (l: Lang, path: string, params: URLSearchParams) => {
    const p = new URLSearchParams(params);
    p.set('lang', l === 'en' ? 'nb' : 'en');
    return html`<nav class="lang">
      <a href="${path}?${p.toString()}">${l === 'en' ? 'Norsk' : 'English'}</a>
    </nav>`;
  };

  // ---- history ----------------------------------------------------------------------------------
  app.get(
    '/console/history',
    {
      ...page,
      schema: {
        hide: true,
        querystring: Type.Object({
          ...LangOnly,
          service: Type.Optional(Type.String({ maxLength: 100 })),
          severity: Type.Optional(Type.String({ maxLength: 10 })),
          state: Type.Optional(Type.String({ maxLength: 20 })),
          from: Type.Optional(Type.String({ maxLength: 20 })),
          to: Type.Optional(Type.String({ maxLength: 20 })),
          q: Type.Optional(Type.String({ maxLength: 200 })),
          page: Type.Optional(Type.String({ maxLength: 6 })),
        }),
      },
    },
    async (req, reply) => {
      noStore(reply);
      const l = lang(req);
      const t = consolePagesWords[l];
      const q = req.query as Record<string, string | undefined>;
      const pick = <T extends string>(v: string | undefined, allowed: readonly T[]) =>
        v && (allowed as readonly string[]).includes(v) ? (v as T) : undefined;
      const service = pick(q.service, [...services.keys()]);
      const severity = pick(q.severity, severities);
      const state = pick(q.state, incidentStates);
      const search = q.q?.trim() || undefined;
      const errors: string[] = [];
      const from = q.from?.trim() || undefined;
      const to = q.to?.trim() || undefined;
      if (from && !isDate(from)) errors.push(t.badDate(t.from));
      if (to && !isDate(to)) errors.push(t.badDate(t.to));
      const pageNo = Math.max(0, Math.min(1000, Number.parseInt(q.page ?? '0', 10) || 0));
      const offset = pageNo * pageSize;
      const found =
        errors.length > 0
          ? []
          : await c.incidents.list({
              ...(service ? { service } : {}),
              ...(severity ? { severity } : {}),
              ...(state ? { state } : {}),
              ...(search ? { q: search } : {}),
              ...(from ? { from: `${from}T00:00:00.000Z` } : {}),
              ...(to ? { to: new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000).toISOString() } : {}),
              limit: pageSize + 1,
              offset,
            });
      const rows = found.slice(0, pageSize);
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries({ service, severity, state, from, to, q: search }))
        if (v) params.set(k, v);
      params.set('lang', l);
      const pageLink = (n: number) => {
        const p = new URLSearchParams(params);
        p.set('page', String(n));
        return `/console/history?${p.toString()}`;
      };
      const option = (value: string, label: string, current?: string) =>
        html`<option value="${value}" ${value === (current ?? '') ? html` selected` : ''}>${label}</option>`;
      const body = html`<h2>${t.history}</h2>
        ${langLink(l, '/console/history', params)}
        ${errors.map((e) => html`<p class="banner bad" role="alert">${e}</p>`)}
        <form class="card filters" method="get" action="/console/history" role="search">
          <input type="hidden" name="lang" value="${l}" />
          <div>
            <label for="f-service">${t.service}</label>
            <select id="f-service" name="service">
              ${option('', t.any, service)} ${c.config.services.map((s) => option(s.id, s.name, service))}
            </select>
          </div>
          <div>
            <label for="f-severity">${t.severity}</label>
            <select id="f-severity" name="severity">
              ${option('', t.any, severity)} ${severities.map((s) => option(s, s, severity))}
            </select>
          </div>
          <div>
            <label for="f-state">${t.state}</label>
            <select id="f-state" name="state">
              ${option('', t.any, state)}
              ${incidentStates.map((s) => option(s, incidentStateWord(l, s), state))}
            </select>
          </div>
          <div>
            <label for="f-from">${t.from}</label>
            <input type="date" id="f-from" name="from" value="${from ?? ''}" />
          </div>
          <div>
            <label for="f-to">${t.to}</label>
            <input type="date" id="f-to" name="to" value="${to ?? ''}" />
          </div>
          <div>
            <label for="f-q">${t.search}</label>
            <input type="search" id="f-q" name="q" value="${search ?? ''}" maxlength="200" />
          </div>
          <div class="buttons">
            <button class="primary" type="submit">${t.filter}</button>
            <a href="/console/history?lang=${l}">${t.clear}</a>
          </div>
        </form>
        ${
          rows.length === 0
            ? html`<p class="muted" id="history-empty">${t.none}</p>`
            : html`<p class="muted">${t.showing(rows.length, offset)}</p>
                <table class="stack" id="history">
                  <thead>
                    <tr>
                      <th>${t.service}</th>
                      <th>${t.severity}</th>
                      <th>${t.state}</th>
                      <th>${t.opened}</th>
                      <th>${t.closed}</th>
                      <th>${t.reason}</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${rows.map(
                      (i) =>
                        html`<tr>
                          <td data-label="${t.service}">
                            <a href="/console/incidents/${i.id}"
                              >${services.get(i.service)?.name ?? i.service}</a
                            >
                          </td>
                          <td data-label="${t.severity}">${i.severity}</td>
                          <td data-label="${t.state}">
                            <span class="badge st-${i.state}">${incidentStateWord(l, i.state)}</span>
                          </td>
                          <td data-label="${t.opened}">${c.when(i.openedAt)}</td>
                          <td data-label="${t.closed}">
                            ${i.closedAt ? c.when(i.closedAt) : html`<span class="muted">${t.open}</span>`}
                          </td>
                          <td data-label="${t.reason}" class="detail">${i.reason}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`
        }
        <p class="pager">
          ${pageNo > 0 ? html`<a href="${pageLink(pageNo - 1)}">${t.newer}</a>` : ''}
          ${found.length > pageSize ? html`<a href="${pageLink(pageNo + 1)}">${t.older}</a>` : ''}
        </p>`;
      return sendHtml(reply, errors.length ? 400 : 200, c.shell(req, t.history, body, [], l));
    },
  );

  // ---- monitors ---------------------------------------------------------------------------------
  const monitorsPage = async (req: FastifyRequest, l: Lang, flash?: { ok: boolean; text: string }) => {
    const t = consolePagesWords[l];
    if (!c.monitors) throw new HttpError(404, 'not_found', 'monitors are not served here');
    const list = await c.monitors.list();
    const now = Date.now();
    const isAdmin = app.staffRoles(req.actor ?? '').includes('admin');
    const csrf = c.csrfField(req);
    const rows = list.map((m) => {
      const check = c.config.checks.find((x) => x.id === m.id);
      if (!('lastResult' in m))
        return html`<tr>
          <td data-label="${t.check}">${check?.name ?? m.id}<br /><small>${m.id}</small></td>
          <td data-label="${t.state}"><span class="badge mon-failing">${t.notRunning}</span></td>
          <td data-label="${t.lastResult}"></td>
          <td data-label="${t.nextProbe}"></td>
          <td data-label="${t.paused}"></td>
          <td></td>
        </tr>`;
      const r = m.lastResult;
      const paused = m.pausedUntil && Date.parse(m.pausedUntil) > now ? m.pausedUntil : undefined;
      const next = m.nextProbeAt
        ? html`${c.when(m.nextProbeAt)}
            <small>(${t.inTime(shortDuration(Date.parse(m.nextProbeAt) - now))})</small>`
        : m.probing
          ? html`<span>${t.probing}</span>`
          : m.stale
            ? html`<span class="bad">${t.overdue}</span>`
            : m.kind === 'heartbeat'
              ? html`<span class="muted">${t.heartbeat}</span>`
              : html`<span class="muted">${t.due}</span>`;
      const actions = isAdmin
        ? paused
          ? html`<form method="post" action="/console/monitors/${m.id}/resume?lang=${l}">
              ${csrf}<button type="submit">${t.resume}</button>
            </form>`
          : html`<form method="post" action="/console/monitors/${m.id}/pause?lang=${l}" class="pause">
              ${csrf}
              <label for="pause-for-${m.id}">${t.pauseFor}</label>
              <select id="pause-for-${m.id}" name="for">
                ${pauseChoices.map(([k]) => html`<option value="${k}">${k}</option>`)}
              </select>
              <label for="pause-reason-${m.id}">${t.pauseReason}</label>
              <input type="text" id="pause-reason-${m.id}" name="reason" maxlength="500" required />
              <button type="submit">${t.pause}</button>
            </form>`
        : '';
      return html`<tr data-check="${m.id}">
        <td data-label="${t.check}">${check?.name ?? m.id}<br /><small>${m.id} · ${m.kind}</small></td>
        <td data-label="${t.state}"><span class="badge mon-${m.state.split(' ')[0]}">${m.state}</span></td>
        <td data-label="${t.lastResult}">
          ${
            r
              ? html`${r.ok ? 'ok' : r.code}
                  <small>(${t.ago(shortDuration(now - Date.parse(r.at)))})</small>
                  ${r.ok ? '' : html`<br /><span class="detail">${r.message}</span>`}`
              : html`<span class="muted">—</span>`
          }
        </td>
        <td data-label="${t.nextProbe}">${next}</td>
        <td data-label="${t.paused}">
          ${paused ? html`${t.until(c.when(paused))}${m.pauseReason ? html`<br />${m.pauseReason}` : ''}` : html`<span class="muted">—</span>`}
          ${m.incident ? html`<br />${t.incident}: <a href="/console/incidents/${m.incident}">${m.incident}</a>` : ''}
        </td>
        <td>${actions}</td>
      </tr>`;
    });
    const body = html`<h2>${t.monitors}</h2>
      ${langLink(l, '/console/monitors', new URLSearchParams())}
      ${flash ? html`<p class="banner ${flash.ok ? 'ok' : 'bad'}" role="status">${flash.text}</p>` : ''}
      ${isAdmin ? '' : html`<p class="muted">${t.adminOnly}</p>`}
      ${
        list.length === 0
          ? html`<p class="muted">${t.noChecks}</p>`
          : html`<table class="stack" id="monitors">
              <thead>
                <tr>
                  <th>${t.check}</th>
                  <th>${t.state}</th>
                  <th>${t.lastResult}</th>
                  <th>${t.nextProbe}</th>
                  <th>${t.paused}</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${rows}
              </tbody>
            </table>`
      }`;
    return c.shell(req, t.monitors, body, [], l);
  };

  app.get(
    '/console/monitors',
    {
      ...page,
      schema: {
        hide: true,
        querystring: Type.Object({ ...LangOnly, done: Type.Optional(Type.String({ maxLength: 20 })) }),
      },
    },
    async (req, reply) => {
      noStore(reply);
      const l = lang(req);
      const done = (req.query as { done?: string }).done;
      const flash =
        done === 'paused'
          ? { ok: true, text: consolePagesWords[l].pausedDone }
          : done === 'resumed'
            ? { ok: true, text: consolePagesWords[l].resumedDone }
            : undefined;
      return sendHtml(reply, 200, await monitorsPage(req, l, flash));
    },
  );

  const MonitorParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
  app.post(
    '/console/monitors/:id/pause',
    {
      config: { staffRateLimit: true, role: 'admin', action: 'Pausing a monitor (maintenance)' },
      preHandler: c.authenticate,
      schema: {
        hide: true,
        params: MonitorParams,
        querystring: Type.Object(LangOnly),
        body: Type.Object({
          _csrf: Type.Optional(Type.String({ maxLength: 200 })),
          for: Type.String({ maxLength: 10 }),
          reason: Type.String({ maxLength: 500 }),
        }),
      },
    },
    async (req, reply) => {
      noStore(reply);
      const l = lang(req);
      if (!c.monitors) throw new HttpError(404, 'not_found', 'monitors are not served here');
      const { id } = req.params as { id: string };
      const b = req.body as { for: string; reason: string };
      const check = c.monitors.checkById(id);
      const ms = pauseChoices.find(([k]) => k === b.for)?.[1];
      const reason = b.reason.trim();
      if (!ms || !reason)
        return sendHtml(
          reply,
          400,
          await monitorsPage(req, l, { ok: false, text: !ms ? 'for: choose how long' : 'reason: say why' }),
        );
      await c.monitors.pause(check, new Date(Date.now() + ms).toISOString(), reason, req.actor!);
      return reply.redirect(`/console/monitors?done=paused&lang=${l}`, 303);
    },
  );
  app.post(
    '/console/monitors/:id/resume',
    {
      config: { staffRateLimit: true, role: 'admin', action: 'Resuming a monitor (maintenance)' },
      preHandler: c.authenticate,
      schema: { hide: true, params: MonitorParams, querystring: Type.Object(LangOnly) },
    },
    async (req, reply) => {
      noStore(reply);
      const l = lang(req);
      if (!c.monitors) throw new HttpError(404, 'not_found', 'monitors are not served here');
      const check = c.monitors.checkById((req.params as { id: string }).id);
      await c.monitors.resume(check, req.actor!);
      return reply.redirect(`/console/monitors?done=resumed&lang=${l}`, 303);
    },
  );

  // ---- postmortems ------------------------------------------------------------------------------
  app.get(
    '/console/postmortems',
    {
      ...page,
      schema: {
        hide: true,
        querystring: Type.Object({ ...LangOnly, state: Type.Optional(Type.String({ maxLength: 20 })) }),
      },
    },
    async (req, reply) => {
      noStore(reply);
      const l = lang(req);
      const t = consolePagesWords[l];
      if (!c.postmortems) throw new HttpError(404, 'not_found', 'postmortems are not served here');
      const raw = (req.query as { state?: string }).state;
      const state = (postmortemListStates as readonly string[]).includes(raw ?? '')
        ? (raw as PostmortemListState)
        : undefined;
      const list = await c.postmortems.list({ ...(state ? { state } : {}), limit: 200 });
      const shownState = (p: { state: string; overdue: boolean }) =>
        p.overdue ? 'overdue' : p.state === 'completed' ? 'completed' : 'due';
      const tabs = html`<nav class="tabs">
        ${[undefined, ...postmortemListStates].map((s) => {
          const label = s ? t.pmState[s]! : t.all;
          const href = `/console/postmortems?${s ? `state=${s}&` : ''}lang=${l}`;
          return s === state
            ? html`<strong aria-current="page">${label}</strong>`
            : html`<a href="${href}">${label}</a>`;
        })}
      </nav>`;
      const body = html`<h2>${t.postmortems}</h2>
        ${langLink(l, '/console/postmortems', new URLSearchParams(state ? { state } : {}))} ${tabs}
        ${
          list.length === 0
            ? html`<p class="muted">${t.pmNone}</p>`
            : html`<table class="stack" id="postmortems">
                <thead>
                  <tr>
                    <th>${t.service}</th>
                    <th>${t.severity}</th>
                    <th>${t.owner}</th>
                    <th>${t.dueDate}</th>
                    <th>${t.state}</th>
                    <th>${t.meeting}</th>
                  </tr>
                </thead>
                <tbody>
                  ${list.map((p) => {
                    const s = shownState(p);
                    return html`<tr>
                      <td data-label="${t.service}">
                        <a href="/console/incidents/${p.incidentId}/postmortem"
                          >${services.get(p.service)?.name ?? p.service}</a
                        >
                      </td>
                      <td data-label="${t.severity}">${p.severity}</td>
                      <td data-label="${t.owner}">${p.owner.name}</td>
                      <td data-label="${t.dueDate}">${p.dueDate}</td>
                      <td data-label="${t.state}"><span class="badge pm-${s}">${t.pmState[s]}</span></td>
                      <td data-label="${t.meeting}">${c.when(p.meetingStart)}</td>
                    </tr>`;
                  })}
                </tbody>
              </table>`
        }`;
      return sendHtml(reply, 200, c.shell(req, t.postmortems, body, [], l));
    },
  );
}
