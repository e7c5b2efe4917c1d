/**
 * Signed links in subscriber mails: the confirmation link of a new email subscription (double
 * opt-in) and the unsubscribe link of every notice. HMAC-SHA256 under ACK_LINK_SECRET (the secret the
 * worker and the API already share for one-click acknowledge links), each with its own purpose prefix,
 * so no link is ever another kind of link. The worker signs (never in workflow input or history); the
 * API verifies. A confirmation link works for 7 days; an unsubscribe link does not expire.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface UnsubscribeClaims {
  component: string;
  kind: 'email' | 'webhook';
  address: string;
}

export interface SubscriberLinks {
  confirmUrl(subscriptionId: string): string;
  unsubscribeUrl(c: UnsubscribeClaims): string;
  /** The subscription a confirmation token names; `expired` after 7 days. */
  verifyConfirm(
    token: string,
  ): { ok: true; subscriptionId: string } | { ok: false; reason: 'forged' | 'expired' };
  verifyUnsubscribe(token: string): UnsubscribeClaims | undefined;
}

export const confirmLinkTtlMs = 7 * 24 * 60 * 60 * 1000;
const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function createSubscriberLinks(o: {
  secret: string;
  baseUrl: string;
  now?: () => number;
}): SubscriberLinks {
  if (o.secret.length < 16) throw new Error('ACK_LINK_SECRET must be at least 16 characters');
  const now = o.now ?? Date.now;
  const base = o.baseUrl.replace(/\/+$/, '');
  const mac = (purpose: string, payload: string) =>
    createHmac('sha256', o.secret).update(`${purpose}\n${payload}`).digest();
  const sign = (purpose: string, payload: string) => `${b64(payload)}.${b64(mac(purpose, payload))}`;
  const open = (purpose: string, token: string): string | undefined => {
    const m = /^([A-Za-z0-9_-]{1,1400})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) return undefined;
    const payload = Buffer.from(m[1]!, 'base64url').toString('utf8');
    const given = Buffer.from(m[2]!, 'base64url');
    const expected = mac(purpose, payload);
    return given.length === expected.length && timingSafeEqual(given, expected) ? payload : undefined;
  };
  return {
    confirmUrl: (id) => `${base}/subscriptions/confirm/${sign('subscribe-confirm', `${id}\n${now()}`)}`,
    unsubscribeUrl: (c) =>
      `${base}/subscriptions/unsubscribe/${sign('unsubscribe', [c.component, c.kind, c.address].join('\n'))}`,
    verifyConfirm(token) {
      const payload = open('subscribe-confirm', token);
      const [id, at] = payload?.split('\n') ?? [];
      if (!id || !at || !/^\d+$/.test(at)) return { ok: false, reason: 'forged' };
      if (now() - Number(at) > confirmLinkTtlMs) return { ok: false, reason: 'expired' };
      return { ok: true, subscriptionId: id };
    },
    verifyUnsubscribe(token) {
      const parts = open('unsubscribe', token)?.split('\n');
      if (!parts || parts.length !== 3) return undefined;
      const [component, kind, address] = parts as [string, string, string];
      return kind === 'email' || kind === 'webhook' ? { component, kind, address } : undefined;
    },
  };
}
