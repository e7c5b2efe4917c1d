/**
 * ntfy (self-hosted or ntfy.sh): a JSON publish to the server's root URL
 * (https://docs.ntfy.sh/publish/#publish-as-json) with the priority by severity (P0/P1 at 5, which
 * rings through Do Not Disturb), tags, a click URL to the console and an "Acknowledge" http action
 * that POSTs the signed one-time ack link. The access token comes from `channels.ntfy.tokenEnv`.
 */
import { ntfyPriority } from '../../../domain/channels.js';
import { misconfigured, request, stableId } from '../http.js';
import type { ChannelDeps, ChannelNotifier } from '../types.js';

export function createNtfyChannel(deps: ChannelDeps): ChannelNotifier {
  return {
    async send(m) {
      const s = deps.settings.ntfy;
      if (!s) throw misconfigured('channel ntfy is not configured (channels.ntfy)');
      const token = s.tokenEnv ? deps.env[s.tokenEnv] : undefined;
      if (s.tokenEnv && !token) throw misconfigured(`ntfy: ${s.tokenEnv} is not set`);
      const body = {
        topic: m.to,
        title: m.page.title,
        message: m.page.text,
        priority: ntfyPriority(m.page.severity),
        tags: ['rotating_light', m.page.severity, m.page.service],
        ...(m.page.consoleUrl ? { click: m.page.consoleUrl } : {}),
        ...(m.ackUrl
          ? {
              actions: [{ action: 'http', label: 'Acknowledge', url: m.ackUrl, method: 'POST', clear: true }],
            }
          : {}),
      };
      const res = await request(
        'ntfy',
        `${(s.url ?? 'https://ntfy.sh').replace(/\/+$/, '')}/`,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify(body),
        },
        deps.timeoutMs,
      );
      let id: string | undefined;
      try {
        id = (JSON.parse(res.body) as { id?: string }).id;
      } catch {
        // an answer without JSON still means published
      }
      return { messageId: id ?? stableId('ntfy', m.idempotencyKey), duplicate: false, status: 'accepted' };
    },
    close() {},
  };
}
