/**
 * Slack incoming webhook: the page mentions the contact (`<@U…>`) and carries Acknowledge and
 * Resolve buttons; clicks come back to POST /api/chat/slack/interactions (signature v0). Slack answers
 * a webhook with `200 ok`, or a 4xx text (`invalid_payload`, `channel_not_found`, …), 429 with
 * Retry-After, 5xx (`rollup_error`).
 */
import { misconfigured, request, stableId } from '../http.js';
import type { ChannelDeps, ChannelNotifier } from '../types.js';

export function slackPageBlocks(m: Parameters<ChannelNotifier['send']>[0]) {
  const who = /^[UW][A-Z0-9]+$/.test(m.to) ? `<@${m.to}>` : m.recipient.name;
  const title = m.page.consoleUrl ? `<${m.page.consoleUrl}|${m.page.title}>` : m.page.title;
  return {
    text: `${m.page.severity} ${m.page.title}: ${who}, you are paged`,
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `:rotating_light: *${m.page.severity}* ${title}\n${who}, you are paged.\n${m.page.text}`,
        },
      },
      {
        type: 'actions',
        block_id: `incident:${m.page.incidentId}`,
        elements: [
          {
            type: 'button',
            action_id: 'acknowledge',
            text: { type: 'plain_text', text: 'Acknowledge' },
            style: 'primary',
            value: m.page.incidentId,
          },
          {
            type: 'button',
            action_id: 'resolve',
            text: { type: 'plain_text', text: 'Resolve' },
            style: 'danger',
            value: m.page.incidentId,
          },
        ],
      },
    ],
  };
}

export function createSlackChannel(deps: ChannelDeps): ChannelNotifier {
  return {
    async send(m) {
      const s = deps.settings.slack;
      if (!s) throw misconfigured('channel slack is not configured (channels.slack)');
      const url = deps.env[s.urlEnv];
      if (!url) throw misconfigured(`slack: ${s.urlEnv} is not set`);
      await request(
        'Slack',
        url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(slackPageBlocks(m)),
        },
        deps.timeoutMs,
      );
      return { messageId: stableId('slack', m.idempotencyKey), duplicate: false, status: 'accepted' };
    },
    close() {},
  };
}
