/**
 * Signed one-click acknowledge links for page mails. The worker signs (inside the activity, so the
 * secret never enters workflow history); the API verifies. A token binds the incident, the recipient,
 * when it was issued and when it expires, under HMAC-SHA256 with ACK_LINK_SECRET.
 *
 * A token is stateless: whether it was already used is read from the incident's timeline (an
 * acknowledgement by the same recipient after the token was issued), so replaying it changes nothing
 * and a later page (after an acknowledgement expired) carries a fresh, usable link.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a valid token says. Times are milliseconds since the epoch. */
export interface AckClaims {
  incidentId: string;
  recipientId: string;
  issuedAt: number;
  expiresAt: number;
}

export type AckVerification =
  | { ok: true; claims: AckClaims }
  | { ok: false; reason: 'malformed' | 'forged' }
  | { ok: false; reason: 'expired'; claims: AckClaims };

export interface AckLinks {
  /** The full link for a page mail: `<base>/ack/<token>`. */
  url(incidentId: string, recipientId: string): string;
  sign(incidentId: string, recipientId: string): string;
  verify(token: string): AckVerification;
  /**
   * Where a gateway reports that a page reached the phone (Twilio's `StatusCallback`, an SMS
   * gateway's delivery webhook): `<base>/api/receipts/<token>`, the token binding the incident, the
   * recipient and the channel under the same secret (a different purpose in the MAC), for 7 days.
   */
  receiptUrl(incidentId: string, recipientId: string, channel: string): string;
  verifyReceipt(token: string): ReceiptVerification;
}

export interface ReceiptClaims {
  incidentId: string;
  recipientId: string;
  channel: string;
}
export type ReceiptVerification =
  { ok: true; claims: ReceiptClaims } | { ok: false; reason: 'malformed' | 'forged' | 'expired' };

export const receiptTtlMs = 7 * 24 * 60 * 60 * 1000;

export interface AckLinkOptions {
  /** ACK_LINK_SECRET: the worker and the API must share it. At least 16 characters. */
  secret: string;
  /** PUBLIC_BASE_URL: where people reach the API. */
  baseUrl: string;
  /** How long a link works; 24 h by default. */
  ttlMs?: number;
  /** The clock (tests pass a fixed one to make expired links). */
  now?: () => number;
}

export const defaultAckLinkTtlMs = 24 * 60 * 60 * 1000;
const version = 'a1';
// The parts of a token are joined with `~`, which neither ids nor numbers contain.
const idPattern = /^[A-Za-z0-9._@-]{1,200}$/;

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function createAckLinks(o: AckLinkOptions): AckLinks {
  if (o.secret.length < 16) throw new Error('ACK_LINK_SECRET must be at least 16 characters');
  const ttl = o.ttlMs ?? defaultAckLinkTtlMs;
  const now = o.now ?? Date.now;
  const base = o.baseUrl.replace(/\/+$/, '');
  const mac = (payload: string, purpose = 'ack-link') =>
    createHmac('sha256', o.secret).update(`${purpose}\n${payload}`).digest();
  /** Checks `<payload>.<mac>` for `purpose`; the payload's `~`-joined parts, or why not. */
  const open = (token: string, purpose: string): string[] | 'malformed' | 'forged' => {
    const m = /^([A-Za-z0-9_-]{1,600})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) return 'malformed';
    const payload = Buffer.from(m[1]!, 'base64url').toString('utf8');
    const given = Buffer.from(m[2]!, 'base64url');
    const expected = mac(payload, purpose);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'forged';
    return payload.split('~');
  };

  const sign = (incidentId: string, recipientId: string) => {
    if (!idPattern.test(incidentId) || !idPattern.test(recipientId))
      throw new Error('ack link: incident and recipient ids must be plain ids');
    const issuedAt = Math.floor(now() / 1000);
    const expiresAt = issuedAt + Math.ceil(ttl / 1000);
    const payload = [version, incidentId, recipientId, issuedAt, expiresAt].join('~');
    return `${b64(payload)}.${b64(mac(payload))}`;
  };

  return {
    sign,
    url: (incidentId, recipientId) => `${base}/ack/${sign(incidentId, recipientId)}`,
    verify(token) {
      const parts = open(token, 'ack-link');
      if (typeof parts === 'string') return { ok: false, reason: parts };
      const [v, incidentId, recipientId, iat, exp] = parts;
      if (
        parts.length !== 5 ||
        v !== version ||
        !incidentId ||
        !recipientId ||
        !/^\d+$/.test(iat ?? '') ||
        !/^\d+$/.test(exp ?? '')
      )
        return { ok: false, reason: 'malformed' };
      const claims = { incidentId, recipientId, issuedAt: Number(iat) * 1000, expiresAt: Number(exp) * 1000 };
      if (now() >= claims.expiresAt) return { ok: false, reason: 'expired', claims };
      return { ok: true, claims };
    },
    receiptUrl(incidentId, recipientId, channel) {
      if (!idPattern.test(incidentId) || !idPattern.test(recipientId) || !idPattern.test(channel))
        throw new Error('receipt link: incident, recipient and channel must be plain ids');
      const expiresAt = Math.floor((now() + receiptTtlMs) / 1000);
      const payload = ['r1', incidentId, recipientId, channel, expiresAt].join('~');
      return `${base}/api/receipts/${b64(payload)}.${b64(mac(payload, 'delivery-receipt'))}`;
    },
    verifyReceipt(token) {
      const parts = open(token, 'delivery-receipt');
      if (typeof parts === 'string') return { ok: false, reason: parts };
      const [v, incidentId, recipientId, channel, exp] = parts;
      if (
        parts.length !== 5 ||
        v !== 'r1' ||
        !incidentId ||
        !recipientId ||
        !channel ||
        !/^\d+$/.test(exp ?? '')
      )
        return { ok: false, reason: 'malformed' };
      if (now() >= Number(exp) * 1000) return { ok: false, reason: 'expired' };
      return { ok: true, claims: { incidentId, recipientId, channel } };
    },
  };
}
