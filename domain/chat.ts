/**
 * Incident updates as chat messages: generic JSON, Slack (incoming webhook) and Microsoft Teams
 * (MessageCard). Pure: the webhook notifier posts what this returns.
 */
export interface ChatEvent {
  kind: 'opened' | 'acknowledged' | 'status' | 'escalated' | 'resolved';
  incidentId: string;
  service: string;
  severity: string;
  state: string;
  title: string;
  text: string;
  url: string;
  at: string;
}

export type ChatFormat = 'json' | 'slack' | 'teams';

const emoji: Record<ChatEvent['kind'], string> = {
  opened: ':rotating_light:',
  acknowledged: ':eyes:',
  status: ':loudspeaker:',
  escalated: ':arrow_up:',
  resolved: ':white_check_mark:',
};
const colour: Record<ChatEvent['kind'], string> = {
  opened: 'D32F2F',
  acknowledged: 'F9A825',
  status: '1976D2',
  escalated: 'E64A19',
  resolved: '388E3C',
};

/** Slack's mrkdwn treats &, < and > specially; everything people or probes wrote is escaped. */
function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function chatPayload(format: ChatFormat, e: ChatEvent): unknown {
  switch (format) {
    case 'json':
      return { type: `incident.${e.kind}`, ...e };
    case 'slack':
      return {
        text: `${emoji[e.kind]} [${e.severity}] ${slackEscape(e.title)}`,
        blocks: [
          {
            type: 'section',
            text: { type: 'mrkdwn', text: `${emoji[e.kind]} *[${e.severity}] ${slackEscape(e.title)}*` },
          },
          { type: 'section', text: { type: 'mrkdwn', text: slackEscape(e.text) } },
          {
            type: 'context',
            elements: [
              {
                type: 'mrkdwn',
                text: `${slackEscape(e.service)} · ${e.state} · ${e.at} · <${e.url}|${slackEscape(e.incidentId)}>`,
              },
            ],
          },
        ],
      };
    case 'teams':
      return {
        '@type': 'MessageCard',
        '@context': 'https://schema.org/extensions',
        themeColor: colour[e.kind],
        summary: `[${e.severity}] ${e.title}`,
        sections: [
          {
            activityTitle: `[${e.severity}] ${e.title}`,
            text: e.text,
            facts: [
              { name: 'Service', value: e.service },
              { name: 'State', value: e.state },
              { name: 'Time (UTC)', value: e.at },
            ],
          },
        ],
        potentialAction: [
          { '@type': 'OpenUri', name: 'Open incident', targets: [{ os: 'default', uri: e.url }] },
        ],
      };
  }
}
