/**
 * A generic JSON webhook signed per Standard Webhooks (https://www.standardwebhooks.com): headers
 * `webhook-id` (the same for every retry of one message), `webhook-timestamp` (seconds) and
 * `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`), with the `whsec_…` secret
 * from `channels.webhook.secretEnv`. Signed by the `standardwebhooks` reference library.
 */
import { Webhook } from 'standardwebhooks';
import { misconfigured, request, stableId } from '../http.js';
import type { ChannelDeps, ChannelNotifier } from '../types.js';

export function createWebhookChannel(deps: ChannelDeps): ChannelNotifier {
  return {
    async send(m) {
      const s = deps.settings.webhook;
      if (!s) throw misconfigured('channel webhook is not configured (channels.webhook)');
      const url = s.url ?? (s.urlEnv ? deps.env[s.urlEnv] : undefined);
      if (!url) throw misconfigured(`webhook: ${s.urlEnv ?? 'url'} is not set`);
      const secret = deps.env[s.secretEnv];
      if (!secret) throw misconfigured(`webhook: ${s.secretEnv} is not set`);
      let signer: Webhook;
      try {
        signer = new Webhook(secret);
      } catch {
        throw misconfigured(`webhook: ${s.secretEnv} is not a Standard Webhooks secret (whsec_<base64>)`);
      }
      const id = stableId('msg', m.idempotencyKey);
      const at = new Date();
      const body = JSON.stringify({
        type: 'incident.paged',
        timestamp: at.toISOString(),
        data: {
          incidentId: m.page.incidentId,
          service: m.page.service,
          severity: m.page.severity,
          title: m.page.title,
          text: m.page.text,
          recipient: { id: m.recipient.id, name: m.recipient.name, to: m.to },
          consoleUrl: m.page.consoleUrl,
          ackUrl: m.ackUrl,
        },
      });
      await request(
        'webhook',
        url,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
            'webhook-signature': signer.sign(id, at, body),
          },
          body,
        },
        deps.timeoutMs,
      );
      return { messageId: id, duplicate: false, status: 'accepted' };
    },
    close() {},
  };
}
