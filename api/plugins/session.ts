/**
 * The staff console's session: after a login with a staff token, a signed cookie (HMAC-SHA256 with
 * SESSION_SECRET, or a random key per process) carrying the contact id, an expiry and the session's
 * CSRF token. The cookie is `Secure; HttpOnly; SameSite=Strict` with the `__Host-` prefix (so it is
 * only ever set by this origin over HTTPS or on localhost, for the whole site); every form of the
 * console carries the CSRF token, compared in constant time.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const sessionCookie = '__Host-incident-session';

export interface StaffSession {
  /** The contact id: the actor in the timeline. */
  actor: string;
  /** Per-session token that every console form posts back. */
  csrf: string;
  expiresAt: number;
}

export interface SessionOptions {
  /** SESSION_SECRET; unset → a random key for this process (sessions end on restart). */
  secret?: string;
  /** How long a login lasts (default 12 h). */
  ttlMs?: number;
  now?: () => number;
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

export function createSessions(o: SessionOptions = {}) {
  const secret = o.secret ?? randomBytes(32).toString('base64url');
  const ttlMs = o.ttlMs ?? 12 * 60 * 60 * 1000;
  const now = o.now ?? Date.now;
  const mac = (payload: string) => createHmac('sha256', secret).update(`session\n${payload}`).digest();
  const attributes = 'Path=/; HttpOnly; Secure; SameSite=Strict';

  return {
    /** A new session for the contact, and the Set-Cookie header value that carries it. */
    issue(actor: string): { session: StaffSession; setCookie: string } {
      const session: StaffSession = {
        actor,
        csrf: randomBytes(24).toString('base64url'),
        expiresAt: now() + ttlMs,
      };
      const payload = Buffer.from(JSON.stringify([session.actor, session.csrf, session.expiresAt])).toString(
        'base64url',
      );
      const value = `${payload}.${mac(payload).toString('base64url')}`;
      return {
        session,
        setCookie: `${sessionCookie}=${value}; Max-Age=${Math.floor(ttlMs / 1000)}; ${attributes}`,
      };
    },

    /** The session in a Cookie header, if it is there, signed by us and not expired. */
    read(cookieHeader: string | undefined): StaffSession | undefined {
      const value = readCookie(cookieHeader, sessionCookie);
      const m = value ? /^([A-Za-z0-9_-]{1,2000})\.([A-Za-z0-9_-]{43})$/.exec(value) : null;
      if (!m) return undefined;
      const given = Buffer.from(m[2]!, 'base64url');
      if (!timingSafeEqual(given, mac(m[1]!))) return undefined;
      try {
        const [actor, csrf, expiresAt] = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as [
          unknown,
          unknown,
          unknown,
        ];
        if (typeof actor !== 'string' || typeof csrf !== 'string' || typeof expiresAt !== 'number')
          return undefined;
        if (now() >= expiresAt) return undefined;
        return { actor, csrf, expiresAt };
      } catch {
        return undefined;
      }
    },

    /** Whether a posted CSRF token is this session's. */
    checkCsrf(session: StaffSession, posted: unknown): boolean {
      if (typeof posted !== 'string') return false;
      const a = Buffer.from(posted);
      const b = Buffer.from(session.csrf);
      return a.length === b.length && timingSafeEqual(a, b);
    },

    /** The Set-Cookie header value that ends the session in the browser. */
    clear(): string {
      return `${sessionCookie}=; Max-Age=0; ${attributes}`;
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
