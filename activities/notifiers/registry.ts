/**
 * Every channel's notifier, by kind. A `Record<ChannelKind, …>`: a kind added to CHANNELS
 * (domain/channels.ts) does not compile until it has its line here.
 */
import type { ChannelKind } from '../../domain/channels.js';
import type { ChannelDeps, ChannelNotifier } from './types.js';
import { createEmailChannel } from './channels/email.js';
import { createNtfyChannel } from './channels/ntfy.js';
import { createSmsChannel } from './channels/sms.js';
import { createSlackChannel } from './channels/slack.js';
import { createTeamsChannel } from './channels/teams.js';
import { createMattermostChannel } from './channels/mattermost.js';
import { createWebhookChannel } from './channels/webhook.js';
import { createGoogleChatChannel } from './channels/googlechat.js';

export const channelRegistry: Record<ChannelKind, (deps: ChannelDeps) => ChannelNotifier> = {
  email: createEmailChannel,
  ntfy: createNtfyChannel,
  sms: createSmsChannel,
  slack: createSlackChannel,
  teams: createTeamsChannel,
  mattermost: createMattermostChannel,
  googlechat: createGoogleChatChannel,
  webhook: createWebhookChannel,
};

export function createChannels(deps: ChannelDeps): Record<ChannelKind, ChannelNotifier> {
  return Object.fromEntries(Object.entries(channelRegistry).map(([k, make]) => [k, make(deps)])) as Record<
    ChannelKind,
    ChannelNotifier
  >;
}
