/**
 * Chat webhooks (generic JSON, Slack, Teams). The URL may be a secret (Slack's carries a token), so it
 * is looked up here, by team and position, in the worker's own configuration (../secrets.ts), and
 * never logged or returned. Permanent failures (4xx other than
 * 408/429, a missing URL) are non-retryable; the rest are retried by the activity's policy.
 */
import { ApplicationFailure } from '@temporalio/common';
import { chatPayload, type ChatEvent, type ChatFormat } from '../../domain/chat.js';
import type { SecretResolver } from '../secrets.js';

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
      const host = safeHost(url);
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': d.idempotencyKey },
          body: JSON.stringify(chatPayload(d.format, d.event)),
          signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
        });
      } catch (e) {
        throw ApplicationFailure.retryable(
          `webhook ${host} unreachable: ${(e as Error).name === 'TimeoutError' ? 'timed out' : (e as Error).message}`,
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

/** Only the host: paths and queries of webhook URLs carry tokens. */
function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}
