/**
 * Anyone may subscribe to a component of the status page: by email (double opt-in: the worker mails
 * a signed confirmation link; nothing else goes to the address until it is used) or by webhook (an
 * https URL, active at once). `POST /api/subscriptions` (JSON) and the status page's form
 * (`POST /status/subscribe`, no JavaScript) share one intake and one count per client address (the
 * public report form's limit, 5 a minute) and the same honeypot field `website`. The links in the
 * mails land here: `/subscriptions/confirm/:token` and `/subscriptions/unsubscribe/:token` show a page
 * whose button POSTs (mail scanners open links); the unsubscribe POST is also RFC 8058's one-click.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { RateLimit } from '../plugins/security.js';
import type { Config } from '../../domain/config-schema.js';
import { parseEmail, parseWebhookUrl } from '../../domain/subscribers.js';
import type { SubscriberLinks } from '../../activities/subscriber-links.js';
import type { SubscriberRecords } from '../../store/subscribers.js';
import { HttpError } from '../errors.js';
import { html, type Html } from '../html/escape.js';
import { pickLanguage, type Lang } from '../html/i18n.js';
import { page } from '../html/layout.js';
import { acceptForms, htmlErrors, sendHtml } from '../html/respond.js';

export type SubscribeField = 'component' | 'email' | 'webhook';

export type SubscribeOutcome =
  | { kind: 'confirmation_sent' | 'already' | 'ignored'; component: string }
  | { kind: 'subscribed'; component: string; unsubscribeUrl?: string }
  | { kind: 'invalid'; field: SubscribeField; message: string }
  | { kind: 'rate_limited'; retryAfterSeconds: number };

export interface SubscribeRequest {
  component?: string;
  email?: string;
  webhook?: string;
  website?: string;
}

export interface SubscribeIntake {
  components: { service: string; component: string }[];
  submit(r: SubscribeRequest, clientAddress: string): Promise<SubscribeOutcome>;
}

export function createSubscribeIntake(o: {
  config: Config;
  subscribers: SubscriberRecords;
  links?: Pick<SubscriberLinks, 'unsubscribeUrl'>;
  limit?: RateLimit;
  now?: () => number;
}): SubscribeIntake {
  const { max, timeWindow } = o.limit ?? { max: 5, timeWindow: 60_000 };
  const now = o.now ?? Date.now;
  const hits = new Map<string, number[]>();
  const wait = (key: string): number => {
    const t = now();
    const recent = (hits.get(key) ?? []).filter((at) => t - at < timeWindow);
    if (recent.length >= max) {
      hits.set(key, recent);
      return Math.max(1, Math.ceil((recent[0]! + timeWindow - t) / 1000));
    }
    recent.push(t);
    hits.delete(key);
    hits.set(key, recent);
    if (hits.size > 10_000) hits.delete(hits.keys().next().value!);
    return 0;
  };
  const components = o.config.services
    .filter((s) => s.component)
    .map((s) => ({ service: s.id, component: s.component! }));
  return {
    components,
    async submit(r, clientAddress) {
      const name = (r.component ?? '').trim();
      if (!name) return { kind: 'invalid', field: 'component', message: 'component: is required' };
      const c = components.find((x) => x.service === name || x.component === name);
      if (!c)
        return {
          kind: 'invalid',
          field: 'component',
          message: `component: unknown component "${name.slice(0, 200)}"`,
        };
      const hasEmail = typeof r.email === 'string' && r.email.trim() !== '';
      const hasWebhook = typeof r.webhook === 'string' && r.webhook.trim() !== '';
      if (hasEmail === hasWebhook)
        return {
          kind: 'invalid',
          field: 'email',
          message: hasEmail
            ? 'email: give an email address or a webhook, not both'
            : 'email: is required (or a webhook)',
        };
      let address: string;
      if (hasEmail) {
        const email = parseEmail(r.email);
        if (!email) return { kind: 'invalid', field: 'email', message: 'email: not an email address' };
        address = email;
      } else {
        const w = parseWebhookUrl(r.webhook);
        if ('error' in w) return { kind: 'invalid', field: 'webhook', message: `webhook: ${w.error}` };
        address = w.url;
      }
      const retryAfterSeconds = wait(clientAddress);
      if (retryAfterSeconds > 0) return { kind: 'rate_limited', retryAfterSeconds };
      if (r.website) return { kind: 'ignored', component: c.component };
      const kind = hasEmail ? 'email' : 'webhook';
      const s = await o.subscribers.subscribe({ component: c.service, kind, address });
      if (s.state === 'active')
        return {
          kind: 'subscribed',
          component: c.component,
          unsubscribeUrl: o.links?.unsubscribeUrl({ component: c.service, kind, address }),
        };
      return { kind: s.state === 'already' ? 'already' : 'confirmation_sent', component: c.component };
    },
  };
}

// ---- the status page's form --------------------------------------------------------------------

const strings = {
  en: {
    heading: 'Get notified',
    intro: 'Get an email when a status message is published for a component, and when it is resolved.',
    component: 'Component',
    email: 'Email address',
    website: 'Leave this field empty',
    button: 'Subscribe',
    sentHeading: 'Check your inbox',
    sent: (c: string) =>
      `We sent a confirmation link for ${c}. Nothing else is sent to the address until the link is used.`,
    confirmHeading: 'Confirm your subscription',
    confirmButton: 'Confirm',
    confirmedHeading: 'Subscribed',
    confirmed: (c: string) => `You will get an email when the status of ${c} changes.`,
    unsubscribeHeading: 'Unsubscribe',
    unsubscribeText: (c: string, a: string) => `Stop the status mails about ${c} to ${a}?`,
    unsubscribeButton: 'Unsubscribe',
    unsubscribedHeading: 'Unsubscribed',
    unsubscribed: (c: string) => `You get no more status mails about ${c}.`,
    invalidHeading: 'This link does not work',
    invalid: 'The link is not valid (it may be cut off). Copy the whole link from the mail.',
    expired: 'The confirmation link has expired. Subscribe again from the status page.',
    back: 'Back to the status page',
  },
  nb: {
    heading: 'Bli varslet',
    intro: 'Få e-post når det publiseres en statusmelding for en komponent, og når feilen er rettet.',
    component: 'Komponent',
    email: 'E-postadresse',
    website: 'La dette feltet stå tomt',
    button: 'Abonner',
    sentHeading: 'Sjekk innboksen',
    sent: (c: string) =>
      `Vi har sendt en bekreftelseslenke for ${c}. Ingenting annet sendes til adressen før lenken er brukt.`,
    confirmHeading: 'Bekreft abonnementet',
    confirmButton: 'Bekreft',
    confirmedHeading: 'Abonnert',
    confirmed: (c: string) => `Du får e-post når statusen for ${c} endres.`,
    unsubscribeHeading: 'Avslutt abonnement',
    unsubscribeText: (c: string, a: string) => `Stoppe statusmeldingene om ${c} til ${a}?`,
    unsubscribeButton: 'Avslutt',
    unsubscribedHeading: 'Abonnement avsluttet',
    unsubscribed: (c: string) => `Du får ikke flere statusmeldinger om ${c}.`,
    invalidHeading: 'Lenken virker ikke',
    invalid: 'Lenken er ikke gyldig (den kan være kuttet). Kopier hele lenken fra e-posten.',
    expired: 'Bekreftelseslenken er utløpt. Abonner på nytt fra statussiden.',
    back: 'Tilbake til statussiden',
  },
} satisfies Record<Lang, unknown>;

/** The "Get notified" form of the status page (posts to `/status/subscribe`). */
export function subscribeForm(
  components: readonly { service: string; component: string }[],
  lang: Lang,
  state: { component?: string; email?: string; error?: { field: SubscribeField; message: string } } = {},
): Html {
  const t = strings[lang];
  const bad = (f: SubscribeField) => state.error?.field === f;
  return html`<section aria-labelledby="subscribe-heading">
    <h2 id="subscribe-heading">${t.heading}</h2>
    <form class="card" id="subscribe" method="post" action="/status/subscribe?lang=${lang}">
      <p>${t.intro}</p>
      ${state.error ? html`<p class="banner bad" id="subscribe-error" role="alert">${state.error.message}</p>` : ''}
      <label for="subscribe-component">${t.component}</label>
      <select
        id="subscribe-component"
        name="component"
        required
        ${bad('component') ? html`aria-invalid="true"` : ''}
      >
        ${components.map(
          (c) =>
            html`<option value="${c.service}" ${state.component === c.service ? html`selected` : ''}>
              ${c.component}
            </option>`,
        )}
      </select>
      <label for="subscribe-email">${t.email}</label>
      <input
        id="subscribe-email"
        name="email"
        type="email"
        required
        maxlength="254"
        autocomplete="email"
        value="${state.email ?? ''}"
        ${bad('email') ? html`aria-invalid="true" aria-describedby="subscribe-error"` : ''}
      />
      <div class="honeypot" aria-hidden="true">
        <label for="subscribe-website">${t.website}</label>
        <input id="subscribe-website" name="website" type="text" tabindex="-1" autocomplete="off" />
      </div>
      <button class="primary" type="submit">${t.button}</button>
    </form>
  </section>`;
}

// ---- routes ------------------------------------------------------------------------------------

export interface SubscribeRouteOptions {
  intake: SubscribeIntake;
  subscribers: SubscriberRecords;
  /** Verifies the links (ACK_LINK_SECRET); unset → link pages say they do not work. */
  links?: Pick<SubscriberLinks, 'verifyConfirm' | 'verifyUnsubscribe'>;
}

const Body = Type.Object(
  {
    component: Type.String({ maxLength: 200 }),
    email: Type.Optional(Type.String({ maxLength: 320 })),
    webhook: Type.Optional(Type.String({ maxLength: 2000 })),
    website: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
const ErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
});
const FormBody = Type.Object({
  component: Type.Optional(Type.String()),
  email: Type.Optional(Type.String()),
  website: Type.Optional(Type.String()),
});
const Token = Type.Object({ token: Type.String({ maxLength: 2000 }) });
const LangQuery = Type.Object({ lang: Type.Optional(Type.String({ maxLength: 20 })) });

export const subscribeRoutes: FastifyPluginAsyncTypebox<SubscribeRouteOptions> = async (app, o) => {
  // The JSON endpoint answers errors in JSON; the pages (below, in their own scope) in HTML.
  await app.register(jsonRoute, o);
  await app.register(pageRoutes, o);
};

const jsonRoute: FastifyPluginAsyncTypebox<SubscribeRouteOptions> = async (app, o) => {
  app.post(
    '/api/subscriptions',
    {
      schema: {
        tags: ['status'],
        summary: 'Subscribe to a public component by email (double opt-in) or webhook',
        body: Body,
        response: {
          201: Type.Object({
            status: Type.Literal('subscribed'),
            component: Type.String(),
            unsubscribeUrl: Type.Optional(Type.String()),
          }),
          202: Type.Object({ status: Type.Literal('confirmation_sent'), component: Type.String() }),
          // 400 (invalid body, unknown component, bad address) is added by api/plugins/security.ts.
          429: ErrorResponse,
        },
      },
    },
    async (req, reply) => {
      const out = await o.intake.submit(req.body, req.ip);
      switch (out.kind) {
        case 'invalid':
          throw new HttpError(400, 'invalid_request', out.message, out.field);
        case 'rate_limited':
          reply.header('retry-after', String(out.retryAfterSeconds));
          throw new HttpError(
            429,
            'rate_limited',
            'too many subscriptions from this address; try again in a minute',
          );
        case 'subscribed':
          return reply
            .status(201)
            .send({ status: 'subscribed', component: out.component, unsubscribeUrl: out.unsubscribeUrl });
        default:
          // An address already subscribed gets the same answer: nobody learns who subscribes.
          return reply.status(202).send({ status: 'confirmation_sent', component: out.component });
      }
    },
  );
};

const pageRoutes: FastifyPluginAsyncTypebox<SubscribeRouteOptions> = async (app, o) => {
  acceptForms(app);
  htmlErrors(app);
  const componentName = (service: string) =>
    o.intake.components.find((c) => c.service === service)?.component ?? service;
  const simple = (lang: Lang, heading: string, body: Html) =>
    page({
      lang,
      title: heading,
      body: html`<main>
        <h1>${heading}</h1>
        ${body}
        <p><a href="/status?lang=${lang}">${strings[lang].back}</a></p>
      </main>`,
    });

  app.post(
    '/status/subscribe',
    { schema: { hide: true, body: FormBody, querystring: LangQuery } },
    async (req, reply) => {
      const lang = pickLanguage(req.query.lang, req.headers['accept-language']);
      const t = strings[lang];
      reply.header('cache-control', 'no-store');
      const out = await o.intake.submit(req.body, req.ip);
      if (out.kind === 'invalid' || out.kind === 'rate_limited') {
        const error =
          out.kind === 'invalid'
            ? { field: out.field, message: out.message }
            : {
                field: 'email' as const,
                message: 'Too many subscriptions from this address; try again in a minute.',
              };
        if (out.kind === 'rate_limited') reply.header('retry-after', String(out.retryAfterSeconds));
        return sendHtml(
          reply,
          out.kind === 'invalid' ? 400 : 429,
          simple(
            lang,
            t.heading,
            subscribeForm(o.intake.components, lang, {
              component: req.body.component,
              email: req.body.email,
              error,
            }),
          ),
        );
      }
      return sendHtml(
        reply,
        200,
        simple(lang, t.sentHeading, html`<p class="banner ok" role="status">${t.sent(out.component)}</p>`),
      );
    },
  );

  const linkRoute = {
    config: { rateLimit: app.rateLimits.ack },
    schema: { hide: true, params: Token, querystring: LangQuery },
  } as const;
  const langOf = (q: { lang?: string }, al: string | undefined) => pickLanguage(q.lang, al);

  const confirmVerdict = (token: string) =>
    o.links?.verifyConfirm(token) ?? ({ ok: false, reason: 'forged' } as const);

  app.get('/subscriptions/confirm/:token', linkRoute, async (req, reply) => {
    const lang = langOf(req.query, req.headers['accept-language']);
    const t = strings[lang];
    reply.header('cache-control', 'no-store').header('x-robots-tag', 'noindex');
    const v = confirmVerdict(req.params.token);
    const sub = v.ok ? await o.subscribers.get(v.subscriptionId) : undefined;
    if (!v.ok || !sub)
      return sendHtml(
        reply,
        v.ok || v.reason === 'forged' ? 400 : 410,
        simple(
          lang,
          t.invalidHeading,
          html`<p class="banner bad">${!v.ok && v.reason === 'expired' ? t.expired : t.invalid}</p>`,
        ),
      );
    return sendHtml(
      reply,
      200,
      simple(
        lang,
        t.confirmHeading,
        html`<p>${componentName(sub.component)}: ${sub.address}</p>
          <form method="post" action="/subscriptions/confirm/${req.params.token}?lang=${lang}">
            <button class="primary" type="submit">${t.confirmButton}</button>
          </form>`,
      ),
    );
  });

  app.post('/subscriptions/confirm/:token', linkRoute, async (req, reply) => {
    const lang = langOf(req.query, req.headers['accept-language']);
    const t = strings[lang];
    reply.header('cache-control', 'no-store');
    const v = confirmVerdict(req.params.token);
    const sub = v.ok ? await o.subscribers.confirm(v.subscriptionId) : undefined;
    if (!v.ok || !sub)
      return sendHtml(
        reply,
        v.ok || v.reason === 'forged' ? 400 : 410,
        simple(
          lang,
          t.invalidHeading,
          html`<p class="banner bad">${!v.ok && v.reason === 'expired' ? t.expired : t.invalid}</p>`,
        ),
      );
    req.log.info({ component: sub.component }, 'email subscription confirmed');
    return sendHtml(
      reply,
      200,
      simple(
        lang,
        t.confirmedHeading,
        html`<p class="banner ok" role="status">${t.confirmed(componentName(sub.component))}</p>`,
      ),
    );
  });

  app.get('/subscriptions/unsubscribe/:token', linkRoute, async (req, reply) => {
    const lang = langOf(req.query, req.headers['accept-language']);
    const t = strings[lang];
    reply.header('cache-control', 'no-store').header('x-robots-tag', 'noindex');
    const c = o.links?.verifyUnsubscribe(req.params.token);
    if (!c)
      return sendHtml(
        reply,
        400,
        simple(lang, t.invalidHeading, html`<p class="banner bad">${t.invalid}</p>`),
      );
    return sendHtml(
      reply,
      200,
      simple(
        lang,
        t.unsubscribeHeading,
        html`<p>${t.unsubscribeText(componentName(c.component), c.address)}</p>
          <form method="post" action="/subscriptions/unsubscribe/${req.params.token}?lang=${lang}">
            <button class="primary" type="submit">${t.unsubscribeButton}</button>
          </form>`,
      ),
    );
  });

  // Also RFC 8058 one-click: a mail client POSTs `List-Unsubscribe=One-Click` here.
  app.post('/subscriptions/unsubscribe/:token', linkRoute, async (req, reply) => {
    const lang = langOf(req.query, req.headers['accept-language']);
    const t = strings[lang];
    reply.header('cache-control', 'no-store');
    const c = o.links?.verifyUnsubscribe(req.params.token);
    if (!c)
      return sendHtml(
        reply,
        400,
        simple(lang, t.invalidHeading, html`<p class="banner bad">${t.invalid}</p>`),
      );
    await o.subscribers.unsubscribe(c);
    req.log.info({ component: c.component, kind: c.kind }, 'unsubscribed');
    return sendHtml(
      reply,
      200,
      simple(
        lang,
        t.unsubscribedHeading,
        html`<p class="banner ok" role="status">${t.unsubscribed(componentName(c.component))}</p>`,
      ),
    );
  });
};
