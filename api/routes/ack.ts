/**
 * One-click acknowledge from a page mail. GET shows what the link would do and a confirmation form;
 * only the POST acknowledges (mail scanners and link previews open links). A forged, malformed or
 * expired link, a link already used (its recipient acknowledged after it was issued), an incident
 * someone else acknowledged or that is closed: each gets a page that says so, with a 4xx status,
 * and nothing changes.
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AckClaims, AckLinks } from '../../activities/ack-links.js';
import type { Config } from '../../domain/config-schema.js';
import { closedStates, type IncidentView } from '../../domain/incident.js';
import { contactById } from '../../domain/model.js';
import { HttpError } from '../errors.js';
import type { IncidentService } from '../incident-service.js';
import { html, type Html } from '../html/escape.js';
import { ackPageStrings, pickLanguage, type AckPageStrings, type Lang } from '../html/i18n.js';
import { page } from '../html/layout.js';
import { acceptForms, htmlErrors, sendHtml } from '../html/respond.js';
import { showTime } from '../html/time.js';

export interface AckRouteOptions {
  incidents: Pick<IncidentService, 'get' | 'acknowledge'>;
  config: Config;
  /** Verifies the links (ACK_LINK_SECRET); unset → every link gets a "not configured" page. */
  ackLinks?: Pick<AckLinks, 'verify'>;
}

const Params = Type.Object({ token: Type.String({ maxLength: 1000 }) });
const Query = Type.Object({ lang: Type.Optional(Type.String({ maxLength: 20 })) });

type Verdict =
  | { ok: true; claims: AckClaims; view: IncidentView }
  | { ok: false; status: number; heading: string; text: string; view?: IncidentView };

export const ackRoutes: FastifyPluginAsyncTypebox<AckRouteOptions> = async (app, o) => {
  acceptForms(app);
  htmlErrors(app);
  const name = (id: string | undefined) => (id ? (contactById(o.config, id)?.name ?? id) : '');
  const at = (iso: string | undefined) => {
    const s = showTime(iso);
    return s ? `${s.utc} (${s.local} Oslo)` : (iso ?? '');
  };

  async function judge(token: string, t: AckPageStrings): Promise<Verdict> {
    if (!o.ackLinks) return { ok: false, status: 503, heading: t.invalidHeading, text: t.notConfiguredText };
    const v = o.ackLinks.verify(token);
    if (!v.ok) {
      if (v.reason === 'expired')
        return { ok: false, status: 410, heading: t.expiredHeading, text: t.expiredText };
      return {
        ok: false,
        status: v.reason === 'forged' ? 403 : 400,
        heading: t.invalidHeading,
        text: v.reason === 'forged' ? t.forgedText : t.malformedText,
      };
    }
    const { claims } = v;
    let view: IncidentView;
    try {
      view = await o.incidents.get(claims.incidentId);
    } catch (e) {
      if (e instanceof HttpError && e.statusCode === 404)
        return { ok: false, status: 404, heading: t.invalidHeading, text: t.notFoundText };
      throw e;
    }
    if (closedStates.includes(view.state))
      return { ok: false, status: 409, heading: t.closedHeading, text: t.closedText(view.state), view };
    const used = view.timeline.find(
      (e) =>
        e.kind === 'acknowledged' && e.actor === claims.recipientId && Date.parse(e.at) >= claims.issuedAt,
    );
    if (used)
      return { ok: false, status: 409, heading: t.alreadyHeading, text: t.alreadyByYou(at(used.at)), view };
    if (view.state === 'acknowledged')
      return {
        ok: false,
        status: 409,
        heading: t.alreadyHeading,
        text: t.alreadyBy(name(view.acknowledgedBy), at(view.acknowledgedAt)),
        view,
      };
    if (view.state === 'resolving')
      return { ok: false, status: 409, heading: t.alreadyHeading, text: t.resolvingText, view };
    return { ok: true, claims, view };
  }

  const facts = (v: IncidentView | undefined, t: AckPageStrings): Html =>
    v
      ? html`<dl class="facts">
            <dt>${t.incident}</dt>
            <dd>${v.service.name} (${v.severity}) — ${v.id}</dd>
            <dt>${t.state}</dt>
            <dd id="state">${v.state}</dd>
            <dt>${t.since}</dt>
            <dd>${at(v.openedAt)}</dd>
          </dl>
          <p class="message">${v.reason}</p>`
      : html``;

  const render = (lang: Lang, heading: string, banner: Html, rest: Html) =>
    page({
      lang,
      title: ackPageStrings[lang].title,
      body: html`<main>
        <h1>${heading}</h1>
        ${banner}${rest}
      </main>`,
    });

  function respond(req: FastifyRequest, reply: FastifyReply, lang: Lang, verdict: Verdict & { ok: false }) {
    const t = ackPageStrings[lang];
    req.log.info({ status: verdict.status }, 'ack link refused');
    return sendHtml(
      reply,
      verdict.status,
      render(
        lang,
        verdict.heading,
        html`<p class="banner ${verdict.status === 409 ? 'info' : 'bad'}" role="alert">${verdict.text}</p>`,
        html`${facts(verdict.view, t)}
          <p><a href="/console">${t.console}</a></p>`,
      ),
    );
  }

  const route = {
    config: { rateLimit: app.rateLimits.ack },
    schema: { hide: true, params: Params, querystring: Query },
  } as const;

  app.get('/ack/:token', route, async (req, reply) => {
    const lang = pickLanguage(req.query.lang, req.headers['accept-language']);
    const t = ackPageStrings[lang];
    reply.header('cache-control', 'no-store').header('x-robots-tag', 'noindex');
    const verdict = await judge(req.params.token, t);
    if (!verdict.ok) return respond(req, reply, lang, verdict);
    const action = `/ack/${encodeURIComponent(req.params.token)}${req.query.lang ? `?lang=${lang}` : ''}`;
    return sendHtml(
      reply,
      200,
      render(
        lang,
        t.confirmHeading,
        html`<p>${t.confirmText(name(verdict.claims.recipientId), verdict.view.service.name)}</p>`,
        html`${facts(verdict.view, t)}
          <form method="post" action="${action}">
            <button class="primary" type="submit">${t.button}</button>
          </form>`,
      ),
    );
  });

  app.post('/ack/:token', route, async (req, reply) => {
    const lang = pickLanguage(req.query.lang, req.headers['accept-language']);
    const t = ackPageStrings[lang];
    reply.header('cache-control', 'no-store').header('x-robots-tag', 'noindex');
    const verdict = await judge(req.params.token, t);
    if (!verdict.ok) return respond(req, reply, lang, verdict);
    let view: IncidentView;
    try {
      // One link acknowledges once, also when it is POSTed several times at once (a double click, a
      // mail client retrying): the update id is the link's, so Temporal runs it once.
      const updateId = `ack-link-${createHash('sha256').update(req.params.token).digest('hex').slice(0, 32)}`;
      const r = await o.incidents.acknowledge(verdict.claims.incidentId, verdict.claims.recipientId, {
        updateId,
      });
      view = { ...verdict.view, state: r.state };
    } catch (e) {
      if (!(e instanceof HttpError) || e.statusCode !== 409) throw e;
      return respond(req, reply, lang, { ok: false, status: 409, heading: t.closedHeading, text: e.message });
    }
    req.log.info({ incident: view.id, actor: verdict.claims.recipientId }, 'acknowledged by one-click link');
    return sendHtml(
      reply,
      200,
      render(
        lang,
        t.doneHeading,
        html`<p class="banner ok" role="status">${t.doneText}</p>`,
        html`${facts(view, t)}
          <p><a href="/console/incidents/${view.id}">${t.console}</a></p>`,
      ),
    );
  });
};
