/**
 * Microsoft Teams incoming webhook (a Workflows "post to a channel when a webhook request is
 * received" flow, or a legacy connector): an Adaptive Card naming the contact, with a button that
 * opens the incident. Workflows answer 202 Accepted, connectors 200 "1".
 */
import { misconfigured, request, stableId } from '../http.js';
import type { ChannelDeps, ChannelNotifier } from '../types.js';

export function createTeamsChannel(deps: ChannelDeps): ChannelNotifier {
  return {
    async send(m) {
      const s = deps.settings.teams;
      if (!s) throw misconfigured('channel teams is not configured (channels.teams)');
      const url = deps.env[s.urlEnv];
      if (!url) throw misconfigured(`teams: ${s.urlEnv} is not set`);
      const card = {
        type: 'AdaptiveCard',
        $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
        version: '1.4',
        body: [
          {
            type: 'TextBlock',
            size: 'Large',
            weight: 'Bolder',
            wrap: true,
            text: `${m.page.severity} ${m.page.title}`,
          },
          { type: 'TextBlock', wrap: true, text: `${m.recipient.name}, you are paged.` },
          { type: 'TextBlock', wrap: true, text: m.page.text },
        ],
        actions: [
          ...(m.page.consoleUrl
            ? [{ type: 'Action.OpenUrl', title: 'Open incident', url: m.page.consoleUrl }]
            : []),
          ...(m.ackUrl ? [{ type: 'Action.OpenUrl', title: 'Acknowledge', url: m.ackUrl }] : []),
        ],
      };
      await request(
        'Teams',
        url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            type: 'message',
            attachments: [
              { contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card },
            ],
          }),
        },
        deps.timeoutMs,
      );
      return { messageId: stableId('teams', m.idempotencyKey), duplicate: false, status: 'accepted' };
    },
    close() {},
  };
}
