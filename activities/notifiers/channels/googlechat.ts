/**
 * Google Chat incoming webhook (https://developers.google.com/workspace/chat/quickstart/webhooks): a
 * text message into the space that mentions the contact (`to` is their Chat user, `users/<id>`, which
 * notifies them), with links to the incident and to the signed one-time acknowledge page. The
 * webhook URL carries its key and token, so it comes from `channels.googlechat.urlEnv`. Google Chat
 * answers 200 with the created message (`name: spaces/…/messages/…`), errors as
 * `{"error":{"code","message","status"}}`.
 */
import { misconfigured, request, stableId } from '../http.js';
import type { ChannelDeps, ChannelNotifier } from '../types.js';

export function createGoogleChatChannel(deps: ChannelDeps): ChannelNotifier {
  return {
    async send(m) {
      const s = deps.settings.googlechat;
      if (!s) throw misconfigured('channel googlechat is not configured (channels.googlechat)');
      const url = deps.env[s.urlEnv];
      if (!url) throw misconfigured(`googlechat: ${s.urlEnv} is not set`);
      const links = [
        ...(m.page.consoleUrl ? [`<${m.page.consoleUrl}|Open incident>`] : []),
        ...(m.ackUrl ? [`<${m.ackUrl}|Acknowledge>`] : []),
      ];
      const text = [
        `<${m.to}> you are paged: *${m.page.severity} ${m.page.title}*`,
        m.page.text,
        ...(links.length ? [links.join(' · ')] : []),
      ].join('\n');
      const res = await request(
        'Google Chat',
        url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=UTF-8' },
          body: JSON.stringify({ text }),
        },
        deps.timeoutMs,
      );
      let name: string | undefined;
      try {
        name = (JSON.parse(res.body) as { name?: string }).name;
      } catch {
        // a 200 without JSON is still a posted message
      }
      return {
        messageId: name ?? stableId('googlechat', m.idempotencyKey),
        duplicate: false,
        status: 'accepted',
      };
    },
    close() {},
  };
}
