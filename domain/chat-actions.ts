/**
 * Acknowledge and Resolve buttons in Slack and Mattermost pages: who clicked (the chat user mapped to
 * a contact), and what the click does to the incident as it stands. Pure: the API route
 * (api/routes/chat-actions.ts) verifies the request, asks here, then acts through the same incident
 * service as the staff API.
 */
import type { Contact } from './config-schema.js';

export type ChatAction = 'acknowledge' | 'resolve';
export type ChatService = 'slack' | 'mattermost';

/** The contact a chat user is: by `slackUserId` (Slack member id) or `mattermostUsername`. */
export function contactForChatUser(
  contacts: readonly Contact[],
  service: ChatService,
  user: string | undefined,
): Contact | undefined {
  if (!user) return undefined;
  if (service === 'slack') return contacts.find((c) => c.slackUserId === user);
  const name = user.replace(/^@/, '').toLowerCase();
  return contacts.find((c) => c.mattermostUsername?.replace(/^@/, '').toLowerCase() === name);
}

export function notAResponder(service: ChatService, user: string): string {
  const setting = service === 'slack' ? 'slackUserId' : 'mattermostUsername';
  return `You are not a responder here: no contact has ${setting} ${user}, so the click changed nothing. Ask an administrator to add it to your contact in the configuration.`;
}

/** What a click does, given the incident's state; `say` answers without changing anything. */
export type ChatDecision =
  { act: ChatAction } | { say: string; changed: false; reason: 'closed' | 'already' | 'resolving' };

export interface IncidentFacts {
  state: string;
  acknowledgedBy?: string;
  acknowledgedByName?: string;
}

const closed = ['resolved', 'dismissed', 'closed'];

export function decideChatAction(action: ChatAction, incident: IncidentFacts): ChatDecision {
  if (closed.includes(incident.state))
    return { say: `This incident is already ${incident.state}.`, changed: false, reason: 'closed' };
  if (incident.state === 'resolving')
    return {
      say: 'This incident is already being resolved (recovery is being checked).',
      changed: false,
      reason: 'resolving',
    };
  if (action === 'acknowledge' && incident.state === 'acknowledged')
    return {
      say: `Already acknowledged${incident.acknowledgedByName || incident.acknowledgedBy ? ` by ${incident.acknowledgedByName ?? incident.acknowledgedBy}` : ''}; escalation is stopped.`,
      changed: false,
      reason: 'already',
    };
  return { act: action };
}

/** The line posted back to the channel once a click acted. */
export function actedText(action: ChatAction, who: string, incidentTitle: string): string {
  return action === 'acknowledge'
    ? `${incidentTitle}: acknowledged by ${who}; escalation stopped.`
    : `${incidentTitle}: ${who} asked to resolve; recovery is being checked.`;
}

/**
 * The Temporal update id of a click: the same for every click of one person on one button of one
 * message (a double click, Slack retrying), so Temporal runs it once; a later page's message is a
 * fresh id.
 */
export function chatUpdateKey(
  service: ChatService,
  incidentId: string,
  action: ChatAction,
  contactId: string,
  messageId: string,
): string {
  return [service, action, incidentId, contactId, messageId].join('\n');
}
