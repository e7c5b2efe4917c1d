/**
 * Chat webhooks (generic JSON, Slack, Teams). The URL may be a secret (Slack's carries a token), so it
 * is looked up here, by team and position, in the worker's own configuration (../secrets.ts), and
 * never logged or returned. Permanent failures (4xx other than
 * 408/429, a missing URL) are non-retryable; the rest are retried by the activity's policy.
 *
 * A webhook with `secretEnv` is signed per Standard Webhooks (https://www.standardwebhooks.com), by the
 * `standardwebhooks` reference library: `webhook-id` (the same for every retry of one message, from the
 * idempotency key), `webhook-timestamp` (seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
 * id.timestamp.body>`).
 */
import { ApplicationFailure } from '@temporalio/common';
import { Webhook } from 'standardwebhooks';
import { stableId } from './http.js';
import { chatPayload, type ChatEvent, type ChatFormat } from '../../domain/chat.js';
import type { SecretResolver } from '../secrets.js';
import { redactUrl, redactUrls } from '../../domain/redact.js';

export interface WebhookDelivery {
  idempotencyKey: string;
  format: ChatFormat;
  /** The webhook's id: its team and position in the team's `webhooks` list. */
  team?: string;
  index?: number;
  /** Older incidents' input; used only when the worker's config names the same. */
  url?: string;
  urlEnv?: string;
  event: ChatEvent;
}

export function createWebhookNotifier(deps: { secrets: SecretResolver; timeoutMs?: number }) {
  return {
    async postWebhook(d: WebhookDelivery): Promise<{ status: number }> {
      const resolved = deps.secrets.webhookUrl(d);
      if ('error' in resolved) throw ApplicationFailure.nonRetryable(resolved.error, 'WebhookConfig');
      const url = resolved.url;
      // A malformed URL is named by its place in the config, never by its text (it may be a secret).
      if (!URL.canParse(url))
        throw ApplicationFailure.nonRetryable(
          `the URL of team ${d.team ?? '?'}'s webhook ${d.index ?? '?'} is not a valid URL (${redactUrl(url)})`,
          'WebhookConfig',
        );
      const host = safeHost(url);
      const body = JSON.stringify(chatPayload(d.format, d.event));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'idempotency-key': d.idempotencyKey,
      };
      if (resolved.signingSecret)
        Object.assign(headers, signed(resolved.signingSecret, d.idempotencyKey, body));
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
        });
      } catch (e) {
        throw ApplicationFailure.retryable(
          redactUrls(
            `webhook ${host} unreachable: ${(e as Error).name === 'TimeoutError' ? 'timed out' : (((e as Error).cause as Error | undefined)?.message ?? (e as Error).message)}`,
          ),
          'WebhookTransient',
        );
      }
      await res.body?.cancel().catch(() => undefined);
      if (res.ok) return { status: res.status };
      const msg = `webhook ${host} answered ${res.status}`;
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429)
        throw ApplicationFailure.nonRetryable(msg, 'WebhookPermanent');
      throw ApplicationFailure.retryable(msg, 'WebhookTransient');
    },
  };
}

/** The Standard Webhooks headers of one message (its id stable across retries). */
export function signed(secret: string, idempotencyKey: string, body: string): Record<string, string> {
  let signer: Webhook;
  try {
    signer = new Webhook(secret);
  } catch {
    throw ApplicationFailure.nonRetryable(
      "the webhook's signing secret is not a Standard Webhooks secret (whsec_<base64>)",
      'WebhookConfig',
    );
  }
  const id = stableId('msg', idempotencyKey);
  const at = new Date();
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signer.sign(id, at, body),
  };
}

/** Only the host: paths and queries of webhook URLs carry tokens. */
function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}
