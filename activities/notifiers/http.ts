/**
 * One HTTP request to a hosted service, its answer sorted the way the `Notifier` contract asks:
 * 2xx resolves; 408, 429 and 5xx reject retryable (429 with the service's `Retry-After` as the next
 * retry's delay); other 4xx reject non-retryable; unreachable rejects retryable. Messages name the
 * service, the host and the status, never the URL's path or query (they can carry tokens).
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { redactUrl, redactUrls } from '../../domain/redact.js';

export const deliveryPermanent = 'DeliveryPermanent';
export const deliveryTransient = 'DeliveryTransient';

export interface HttpAnswer {
  status: number;
  body: string;
  headers: Headers;
}

/** `Retry-After` in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export async function request(
  service: string,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string },
  timeoutMs = 10_000,
): Promise<HttpAnswer> {
  // A malformed URL is never quoted (fetch would put it whole into its error message).
  if (!URL.canParse(url))
    throw misconfigured(`${service}: the configured URL is not a valid URL (${redactUrl(url)})`);
  const host = safeHost(url);
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (e) {
    const err = e as Error;
    throw ApplicationFailure.create({
      message: redactUrls(
        `${service} at ${host} unreachable: ${err.name === 'TimeoutError' ? 'timed out' : ((err.cause as Error | undefined)?.message ?? err.message)}`,
      ),
      type: deliveryTransient,
    });
  }
  const body = await res.text().catch(() => '');
  if (res.ok) return { status: res.status, body, headers: res.headers };
  const said = excerpt(body);
  const message = `${service} at ${host} answered ${res.status}${said ? `: ${said}` : ''}`;
  if (res.status === 429) {
    const wait = retryAfterMs(res.headers.get('retry-after'));
    throw ApplicationFailure.create({
      message: wait !== undefined ? `${message} (retry after ${Math.ceil(wait / 1000)}s)` : message,
      type: deliveryTransient,
      ...(wait !== undefined ? { nextRetryDelay: wait } : {}),
    });
  }
  if (res.status === 408 || res.status >= 500)
    throw ApplicationFailure.create({ message, type: deliveryTransient });
  throw ApplicationFailure.create({ message, type: deliveryPermanent, nonRetryable: true });
}

/** A configuration problem: never retried. */
export function misconfigured(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: deliveryPermanent, nonRetryable: true });
}

/** The service's own words, short and on one line (JSON error fields first). */
function excerpt(body: string): string {
  let text = body;
  try {
    const j = JSON.parse(body) as Record<string, unknown>;
    const pick = j.error ?? j.message ?? j.detail;
    if (typeof pick === 'string') text = pick;
  } catch {
    // not JSON: the text itself
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

export function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}

/** A stable id for a message from its idempotency key (the same key, the same id). */
export function stableId(prefix: string, key: string): string {
  return `${prefix}_${createHashHex(key).slice(0, 32)}`;
}

function createHashHex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}
