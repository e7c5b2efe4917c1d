/**
 * Signed links to a person's on-call calendar feed. Calendar apps cannot send a bearer token, so the
 * link is the credential: the contact id under HMAC-SHA256 with ACK_LINK_SECRET (the secret the API
 * already holds for one-click acknowledge links), with its own purpose prefix so a feed token is never
 * an acknowledge token or the other way round. A link does not expire; changing the secret revokes
 * every link.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface CalendarLinks {
  /** `<base>/api/oncall/calendar/<token>.ics` for a contact. */
  url(base: string, contactId: string): string;
  /** The contact a token names, or undefined when it is malformed or forged. */
  verify(token: string): string | undefined;
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function createCalendarLinks(secret: string): CalendarLinks {
  if (secret.length < 16) throw new Error('the calendar link secret must be at least 16 characters');
  const mac = (contactId: string) =>
    createHmac('sha256', secret).update(`oncall-feed\n${contactId}`).digest();
  const sign = (contactId: string) => `${b64(contactId)}.${b64(mac(contactId))}`;
  return {
    url: (base, contactId) => `${base.replace(/\/+$/, '')}/api/oncall/calendar/${sign(contactId)}.ics`,
    verify(token) {
      const m = /^([A-Za-z0-9_-]{1,300})\.([A-Za-z0-9_-]{43})(\.ics)?$/.exec(token);
      if (!m) return undefined;
      const contactId = Buffer.from(m[1]!, 'base64url').toString('utf8');
      const given = Buffer.from(m[2]!, 'base64url');
      const expected = mac(contactId);
      return given.length === expected.length && timingSafeEqual(given, expected) ? contactId : undefined;
    },
  };
}
