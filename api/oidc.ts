/**
 * OpenID Connect sign-in for the staff console (the authorization code flow with PKCE, through
 * openid-client, the OpenID Foundation-certified relying party library by the author of jose).
 *
 * `GET /login/oidc` sends the browser to the provider with a fresh state, nonce and PKCE verifier,
 * kept in a short-lived signed cookie; the provider sends it back to `/login/oidc/callback`, where the
 * code is exchanged and the ID token checked (issuer, audience, nonce, signature, expiry). Its claim
 * (`email` by default, matched case-insensitively against the contacts' emails; any other claim is
 * matched against contact ids) names the contact, who gets the same console session a staff token
 * gives, with that contact's roles. A claim that names nobody is refused with the claim's value.
 *
 * Configured from the environment (never the config file): OIDC_ISSUER, OIDC_CLIENT_ID,
 * OIDC_CLIENT_SECRET (a secret), OIDC_REDIRECT_URI (default PUBLIC_BASE_URL/login/oidc/callback),
 * OIDC_SCOPES (default `openid email profile`), OIDC_CLAIM (default `email`), OIDC_LABEL (the
 * button, default "single sign-on").
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import * as oidc from 'openid-client';
import type { Config } from '../domain/config-schema.js';
import { readCookie } from './plugins/session.js';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  scopes: string;
  claim: string;
  label: string;
}

/** The OIDC settings in an environment, or undefined when OIDC_ISSUER is unset; throws naming what is wrong. */
export function oidcSettings(
  env: Record<string, string | undefined>,
  publicBaseUrl: string,
): OidcSettings | undefined {
  const issuer = env.OIDC_ISSUER?.trim();
  if (!issuer) return undefined;
  const need = (name: string) => {
    const v = env[name]?.trim();
    if (!v) throw new Error(`${name} is required when OIDC_ISSUER is set`);
    return v;
  };
  const url = (name: string, v: string) => {
    try {
      const u = new URL(v);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error();
      return u.href.replace(/\/$/, '');
    } catch {
      throw new Error(`${name}: not an http(s) URL: ${JSON.stringify(v)}`);
    }
  };
  return {
    issuer: url('OIDC_ISSUER', issuer),
    clientId: need('OIDC_CLIENT_ID'),
    clientSecret: need('OIDC_CLIENT_SECRET'),
    redirectUri: url(
      'OIDC_REDIRECT_URI',
      env.OIDC_REDIRECT_URI?.trim() || `${publicBaseUrl}/login/oidc/callback`,
    ),
    scopes: env.OIDC_SCOPES?.trim() || 'openid email profile',
    claim: env.OIDC_CLAIM?.trim() || 'email',
    label: env.OIDC_LABEL?.trim() || 'single sign-on',
  };
}

/** Holds the state, nonce and PKCE verifier between the redirect and the callback (10 minutes). */
export const oidcCookie = '__Host-incident-oidc';
const flowTtlMs = 10 * 60 * 1000;

/** Why a sign-in did not open a session: shown on the login page. */
export class OidcRefusal extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const isLoopback = (u: string) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(u).hostname);

export function createOidcLogin(o: {
  settings: OidcSettings;
  config: Config;
  secret: string;
  now?: () => number;
}) {
  const s = o.settings;
  const now = o.now ?? Date.now;
  const mac = (payload: string) => createHmac('sha256', o.secret).update(`oidc-flow\n${payload}`).digest();
  // Plain http only to a provider on this machine (tests, a local Keycloak/Dex); anything else is https.
  const insecure = s.issuer.startsWith('http:') && isLoopback(s.issuer);
  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = () => {
    discovered ??= oidc
      .discovery(
        new URL(s.issuer),
        s.clientId,
        s.clientSecret,
        undefined,
        insecure ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((e: unknown) => {
        discovered = undefined; // try again on the next sign-in
        throw new OidcRefusal(
          `The sign-in provider ${s.issuer} did not answer its discovery document: ${(e as Error).message}`,
          503,
        );
      });
    return discovered;
  };

  /** The contact a claim value names. */
  const contactFor = (value: string) =>
    s.claim === 'email'
      ? o.config.contacts.find((c) => c.email?.toLowerCase() === value.toLowerCase())
      : o.config.contacts.find((c) => c.id === value);

  return {
    label: s.label,
    /**
     * What a session opened through OIDC is bound to (as a token login is to its token's hash):
     * changing the issuer or the client ends those sessions.
     */
    sessionBinding: createHash('sha256').update(`oidc\n${s.issuer}\n${s.clientId}`).digest('hex'),

    /** The provider's authorization URL, and the cookie that carries this flow to the callback. */
    async start(next: string): Promise<{ url: string; setCookie: string }> {
      const config = await configuration();
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: s.redirectUri,
        scope: s.scopes,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      const payload = Buffer.from(JSON.stringify([state, nonce, verifier, next, now() + flowTtlMs])).toString(
        'base64url',
      );
      // Lax, not Strict: the provider's redirect back is a cross-site navigation.
      const setCookie = `${oidcCookie}=${payload}.${mac(payload).toString('base64url')}; Max-Age=${flowTtlMs / 1000}; Path=/; HttpOnly; Secure; SameSite=Lax`;
      return { url: url.href, setCookie };
    },

    /** Exchanges the callback's code; the contact it names and where to go next, or an OidcRefusal. */
    async finish(query: string, cookieHeader: string | undefined): Promise<{ actor: string; next: string }> {
      // The redirect URI as registered (the token request must name it exactly), with the callback's query.
      const callbackUrl = new URL(s.redirectUri);
      callbackUrl.search = query;
      const value = readCookie(cookieHeader, oidcCookie);
      const m = value ? /^([A-Za-z0-9_-]{1,2000})\.([A-Za-z0-9_-]{43})$/.exec(value) : null;
      if (!m || !timingSafeEqual(Buffer.from(m[2]!, 'base64url'), mac(m[1]!)))
        throw new OidcRefusal('This sign-in did not start here, or its cookie was lost. Try again.', 400);
      const [state, nonce, verifier, next, expires] = JSON.parse(
        Buffer.from(m[1]!, 'base64url').toString('utf8'),
      ) as [string, string, string, string, number];
      if (now() > expires) throw new OidcRefusal('This sign-in took longer than 10 minutes. Try again.', 400);
      const providerError = callbackUrl.searchParams.get('error');
      if (providerError)
        throw new OidcRefusal(
          `The sign-in provider refused: ${providerError}${callbackUrl.searchParams.get('error_description') ? ` (${callbackUrl.searchParams.get('error_description')})` : ''}`,
          401,
        );
      const config = await configuration();
      let claims: Record<string, unknown> | undefined;
      try {
        const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: verifier,
          expectedState: state,
          expectedNonce: nonce,
          idTokenExpected: true,
        });
        const id = tokens.claims()!;
        claims = id;
        // Providers that follow the spec to the letter put scope claims in UserInfo, not the ID token.
        if (id[s.claim] === undefined)
          claims = { ...(await oidc.fetchUserInfo(config, tokens.access_token, id.sub)), ...id };
      } catch (e) {
        throw new OidcRefusal(`The sign-in could not be completed: ${(e as Error).message}`, 401);
      }
      const raw = claims?.[s.claim];
      if (typeof raw !== 'string' || raw === '')
        throw new OidcRefusal(`The sign-in provider did not say the ${s.claim} claim.`, 401);
      if (s.claim === 'email' && claims?.email_verified === false)
        throw new OidcRefusal(`The sign-in provider has not verified the email address ${raw}.`, 403);
      const contact = contactFor(raw);
      if (!contact)
        throw new OidcRefusal(
          `${raw} is not a contact in this deployment's configuration (matched by ${s.claim}).`,
          403,
        );
      return { actor: contact.id, next };
    },
  };
}

export type OidcLogin = ReturnType<typeof createOidcLogin>;
