/**
 * The staff console's session: after a login with a staff token, a signed cookie (HMAC-SHA256 with
 * SESSION_SECRET, or a random key per process) carrying a session id, the contact id, an expiry,
 * the session's CSRF token and a fingerprint of the staff token it was opened with. The cookie is
 * `Secure; HttpOnly; SameSite=Strict` with the `__Host-` prefix (so it is only ever set by this
 * origin over HTTPS or on localhost, for the whole site); every form of the console carries the CSRF
 * token, compared in constant time.
 *
 * A session ends before its expiry when its person logs out (its id goes into the record store's
 * `ended_sessions`, which every API instance reads) or when the token it was opened with is no
 * longer one of that person's (STAFF_TOKENS or `tokenSha256` changed). The login form itself
 * carries a CSRF token bound to a `__Host-` cookie, so another site cannot log a browser in.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const sessionCookie = '__Host-incident-session';
/** Holds the login form's CSRF token until the form is posted. */
export const loginCookie = '__Host-incident-login';

export interface StaffSession {
  /** Random; a logout ends this id. */
  id: string;
  /** The contact id: the actor in the timeline. */
  actor: string;
  /** Per-session token that every console form posts back. */
  csrf: string;
  expiresAt: number;
  /** HMAC of the SHA-256 of the staff token the session was opened with (not the token). */
  tokenFp: string;
}

/** Where ended sessions are kept until they would have expired anyway (shared by every API). */
export interface EndedSessions {
  end(id: string, expiresAt: Date): Promise<void>;
  isEnded(id: string): Promise<boolean>;
}

export interface SessionOptions {
  /** SESSION_SECRET; unset → a random key for this process (sessions end on restart). */
  secret?: string;
  /** How long a login lasts (default 12 h). */
  ttlMs?: number;
  now?: () => number;
  /** The SHA-256 (hex) of every token the contact has now; a session opened with another ends. */
  tokenHashesOf?: (actor: string) => Iterable<string>;
  /** Unset: logouts end sessions only in the browser that logged out (tests of the pure parts). */
  ended?: EndedSessions;
}

/** The value of one cookie in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const equal = (x: string, y: string) => {
  const a = Buffer.from(x);
  const b = Buffer.from(y);
  return a.length === b.length && timingSafeEqual(a, b);
};

export function createSessions(o: SessionOptions = {}) {
  const secret = o.secret ?? randomBytes(32).toString('base64url');
  const ttlMs = o.ttlMs ?? 12 * 60 * 60 * 1000;
  const now = o.now ?? Date.now;
  const mac = (payload: string) => createHmac('sha256', secret).update(`session\n${payload}`).digest();
  const fingerprint = (tokenHash: string) =>
    createHmac('sha256', secret).update(`token\n${tokenHash}`).digest().subarray(0, 16).toString('base64url');
  const attributes = 'Path=/; HttpOnly; Secure; SameSite=Strict';

  /** The session in a Cookie header, if it is there, signed by us and not expired. */
  function read(cookieHeader: string | undefined): StaffSession | undefined {
    const value = readCookie(cookieHeader, sessionCookie);
    const m = value ? /^([A-Za-z0-9_-]{1,2000})\.([A-Za-z0-9_-]{43})$/.exec(value) : null;
    if (!m) return undefined;
    const given = Buffer.from(m[2]!, 'base64url');
    if (!timingSafeEqual(given, mac(m[1]!))) return undefined;
    try {
      const parsed = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as unknown[];
      if (!Array.isArray(parsed) || parsed[0] !== 2) return undefined; // older cookies: log in again
      const [, id, actor, csrf, expiresAt, tokenFp] = parsed;
      if (
        typeof id !== 'string' ||
        typeof actor !== 'string' ||
        typeof csrf !== 'string' ||
        typeof expiresAt !== 'number' ||
        typeof tokenFp !== 'string'
      )
        return undefined;
      if (now() >= expiresAt) return undefined;
      return { id, actor, csrf, expiresAt, tokenFp };
    } catch {
      return undefined;
    }
  }

  return {
    /** A new session for the contact, opened with the token whose SHA-256 is `tokenHash`. */
    issue(actor: string, tokenHash: string): { session: StaffSession; setCookie: string } {
      const session: StaffSession = {
        id: randomBytes(16).toString('base64url'),
        actor,
        csrf: randomBytes(24).toString('base64url'),
        expiresAt: now() + ttlMs,
        tokenFp: fingerprint(tokenHash),
      };
      const payload = Buffer.from(
        JSON.stringify([2, session.id, session.actor, session.csrf, session.expiresAt, session.tokenFp]),
      ).toString('base64url');
      const value = `${payload}.${mac(payload).toString('base64url')}`;
      return {
        session,
        setCookie: `${sessionCookie}=${value}; Max-Age=${Math.floor(ttlMs / 1000)}; ${attributes}`,
      };
    },

    read,

    /**
     * The session in a Cookie header if it is still live: signed, not expired, opened with a token
     * its person still has, and not logged out. Rejects when the record store does not answer.
     */
    async current(cookieHeader: string | undefined): Promise<StaffSession | undefined> {
      const session = read(cookieHeader);
      if (!session) return undefined;
      if (o.tokenHashesOf) {
        const live = [...o.tokenHashesOf(session.actor)].some((h) => equal(fingerprint(h), session.tokenFp));
        if (!live) return undefined;
      }
      if (o.ended && (await o.ended.isEnded(session.id))) return undefined;
      return session;
    },

    /** Ends the session everywhere (every API instance shares the record store). */
    async end(session: StaffSession): Promise<void> {
      await o.ended?.end(session.id, new Date(session.expiresAt));
    },

    /** Whether a posted CSRF token is this session's. */
    checkCsrf(session: StaffSession, posted: unknown): boolean {
      return typeof posted === 'string' && equal(posted, session.csrf);
    },

    /** The login form's CSRF token and the cookie that holds it (an hour, this site only). */
    loginCsrf(): { token: string; setCookie: string } {
      const token = randomBytes(24).toString('base64url');
      return { token, setCookie: `${loginCookie}=${token}; Max-Age=3600; ${attributes}` };
    },

    /** Whether a posted login form carries the token of the login cookie this browser holds. */
    checkLoginCsrf(cookieHeader: string | undefined, posted: unknown): boolean {
      const held = readCookie(cookieHeader, loginCookie);
      return typeof posted === 'string' && held !== undefined && held.length >= 32 && equal(posted, held);
    },

    /** The Set-Cookie header value that ends the session in the browser. */
    clear(): string {
      return `${sessionCookie}=; Max-Age=0; ${attributes}`;
    },

    /** The Set-Cookie header value that drops the login form's cookie. */
    clearLogin(): string {
      return `${loginCookie}=; Max-Age=0; ${attributes}`;
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
