/**
 * Mattermost incoming webhook: the page mentions `@username` and carries Acknowledge and Resolve
 * message-attachment buttons whose integration URL is POST /api/chat/mattermost/actions on the API,
 * with the action token in the context (checked there). Mattermost answers `200 ok`.
 */
import { misconfigured, request, stableId } from '../http.js';
import type { ChannelDeps, ChannelNotifier } from '../types.js';

export function createMattermostChannel(deps: ChannelDeps): ChannelNotifier {
  return {
    async send(m) {
      const s = deps.settings.mattermost;
      if (!s) throw misconfigured('channel mattermost is not configured (channels.mattermost)');
      const url = deps.env[s.urlEnv];
      if (!url) throw misconfigured(`mattermost: ${s.urlEnv} is not set`);
      const token = s.actionTokenEnv ? deps.env[s.actionTokenEnv] : undefined;
      const actionUrl = deps.publicBaseUrl
        ? `${deps.publicBaseUrl.replace(/\/+$/, '')}/api/chat/mattermost/actions`
        : undefined;
      const button = (id: 'acknowledge' | 'resolve', name: string) => ({
        id,
        name,
        integration: { url: actionUrl, context: { action: id, incidentId: m.page.incidentId, token } },
      });
      const body = {
        text: `@${m.to} you are paged: **${m.page.severity}** ${m.page.title}`,
        attachments: [
          {
            fallback: `${m.page.severity} ${m.page.title}`,
            color: '#d0021b',
            title: m.page.title,
            ...(m.page.consoleUrl ? { title_link: m.page.consoleUrl } : {}),
            text: m.page.text,
            ...(actionUrl && token
              ? { actions: [button('acknowledge', 'Acknowledge'), button('resolve', 'Resolve')] }
              : {}),
          },
        ],
      };
      await request(
        'Mattermost',
        url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
        deps.timeoutMs,
      );
      return { messageId: stableId('mattermost', m.idempotencyKey), duplicate: false, status: 'accepted' };
    },
    close() {},
  };
}
