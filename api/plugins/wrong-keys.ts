/**
 * Throttling of wrong keys on the routes whose key is their only credential: heartbeat tokens,
 * PagerDuty routing keys and Alertmanager bearer tokens.
 *
 * - Per address: after `perAddress.max` wrong keys in a window, the address is refused (429) before
 *   any key it sends is looked at, until its window ends — a right key does not help, so guessing
 *   learns nothing more.
 * - Globally: after `global.max` wrong keys in a window from everywhere, every address that sent a
 *   wrong key in its window is refused the same way, and a wrong key from any other address is
 *   answered 429 as well. A sender that never sent a wrong key keeps working: its right key is
 *   looked at and accepted as always.
 *
 * Memory is bounded: at most `maxAddresses` addresses are remembered (the oldest are forgotten first).
 */
import type { FastifyReply } from 'fastify';
import type { RateLimit } from './security.js';

export interface WrongKeyLimits {
  /** Wrong keys one address may send per window. */
  perAddress: RateLimit;
  /** Wrong keys all addresses together may send per window before lockdown. */
  global: RateLimit;
  /** Addresses remembered at most (default 100,000). */
  maxAddresses?: number;
}

export const defaultWrongKeyLimits: WrongKeyLimits = {
  perAddress: { max: 10, timeWindow: 15 * 60_000 },
  global: { max: 200, timeWindow: 15 * 60_000 },
};

export interface WrongKeys {
  /**
   * Before a key from `address` is looked at: the seconds it must wait (the answer is 429 with
   * Retry-After), or 0 when its key may be checked.
   */
  refused(address: string): number;
  /** A wrong key from `address`: the seconds to wait when it went over a limit (answer 429), else 0. */
  wrong(address: string): number;
}

interface Window {
  count: number;
  resetAt: number;
}

export function createWrongKeys(
  limits: WrongKeyLimits = defaultWrongKeyLimits,
  now: () => number = Date.now,
): WrongKeys {
  const maxAddresses = limits.maxAddresses ?? 100_000;
  const byAddress = new Map<string, Window>();
  let global: Window = { count: 0, resetAt: 0 };

  const seconds = (until: number) => Math.max(1, Math.ceil((until - now()) / 1000));
  const current = (address: string): Window | undefined => {
    const w = byAddress.get(address);
    if (w && w.resetAt <= now()) {
      byAddress.delete(address);
      return undefined;
    }
    return w;
  };
  const globalWindow = () => {
    if (global.resetAt <= now()) global = { count: 0, resetAt: now() + limits.global.timeWindow };
    return global;
  };
  const lockdown = () => globalWindow().count >= limits.global.max;

  return {
    refused(address) {
      const w = current(address);
      if (!w) return 0;
      if (w.count >= limits.perAddress.max) return seconds(w.resetAt);
      if (lockdown()) return seconds(Math.max(w.resetAt, global.resetAt));
      return 0;
    },
    wrong(address) {
      const wasLockdown = lockdown();
      let w = current(address);
      if (!w) {
        if (byAddress.size >= maxAddresses) {
          const oldest = byAddress.keys().next().value;
          if (oldest !== undefined) byAddress.delete(oldest);
        }
        w = { count: 0, resetAt: now() + limits.perAddress.timeWindow };
        byAddress.set(address, w);
      }
      w.count++;
      globalWindow().count++;
      if (w.count > limits.perAddress.max) return seconds(w.resetAt);
      if (wasLockdown) return seconds(Math.max(w.resetAt, global.resetAt));
      return 0;
    },
  };
}

/** The 429 answer for an address that sent too many wrong keys: JSON naming the field, with Retry-After. */
export function sendWrongKeysThrottled(
  reply: FastifyReply,
  wait: number,
  field: string,
  what: string,
): FastifyReply {
  return reply
    .status(429)
    .header('retry-after', String(wait))
    .send({
      statusCode: 429,
      error: 'rate_limited',
      message: `${field}: too many wrong ${what} from this address; try again in ${wait} s`,
      field,
    });
}
