/**
 * The one contract every notifier (email, webhook, …) implements, so activities can hold them as a
 * typed registry and a new channel touches only its own file, its registration and its test.
 */

/** What every notifier reports for one message. */
export interface NotifierResult {
  /** Stable id of the delivered message, derived from the idempotency key (the same key, the same id). */
  messageId: string;
  /** True when this key was already delivered earlier and nothing went out this time. */
  duplicate: boolean;
}

/** The one field every outgoing message carries. */
export interface IdempotentMessage {
  /**
   * Stable across activity retries (derive it from the workflow id and the step, never from a clock),
   * so that a retried send of the same page is recognised and not delivered twice.
   */
  idempotencyKey: string;
}

/**
 * A channel that delivers messages to people.
 *
 * - `send` is idempotent on `message.idempotencyKey`: a send is recorded only after it succeeded,
 *   a repeated send of a recorded key delivers nothing and resolves with `duplicate: true`, and a
 *   failed send records nothing, so the retry delivers.
 * - `send` rejects with a Temporal `ApplicationFailure`: non-retryable for permanent failures (the
 *   receiver refused the message, a bad address, bad configuration), retryable for transient ones
 *   (connection refused, timeouts, "try again later"). Messages never contain credentials.
 * - `close` releases connections; the notifier is not used after it.
 */
export interface Notifier<M extends IdempotentMessage, R extends NotifierResult = NotifierResult> {
  send(message: M): Promise<R>;
  close(): void;
}

/** A page to one person on one of their methods: what `deliver` hands a channel. */
export interface ChannelMessage extends IdempotentMessage {
  /** The method's address: email address, ntfy topic, phone number, chat user. */
  to: string;
  recipient: { id: string; name: string };
  page: {
    incidentId: string;
    title: string;
    text: string;
    severity: string;
    service: string;
    /** The incident in the console. */
    consoleUrl?: string;
  };
  /** The signed one-time acknowledge link (added by `deliver`, never in workflow input). */
  ackUrl?: string;
  /** Where the channel's service may report delivery (`{{receiptUrl}}` in the SMS templates; added by `deliver`). */
  receiptUrl?: string;
  /**
   * Email only: a mail the workflow wrote whole (a page to a contact without rules, a responder or
   * deadline notice, a resolved notice). It goes with this subject and `page.text` as they are, the
   * acknowledge link put where the text has its place for it, the HTML part rendered as `kind`:
   * the same mail `sendEmail` sent. Other channels ignore it.
   */
  mail?: {
    subject: string;
    kind: import('./mail-html.js').MailKind;
    /** Every recipient of one mail (a postmortem invitation to the attendees); default: `to`. */
    to?: { name?: string; email: string }[];
    attachments?: { filename: string; content: string; contentType: string }[];
    headers?: Record<string, string>;
  };
}

/** What a channel reports: `accepted` (the service took it), `delivered` (it says it reached the person). */
export interface ChannelResult extends NotifierResult {
  status: 'accepted' | 'delivered';
  /** Where the channel says more (SMS: encoding and segment count). */
  detail?: string;
}

export type ChannelNotifier = Notifier<ChannelMessage, ChannelResult>;

/** What every channel is built from: the config's `channels` section and the worker's environment. */
export interface ChannelDeps {
  settings: import('../../domain/channels.js').ChannelsConfig;
  /** Where the `*Env` names of the settings are looked up (the worker's own environment). */
  env: Record<string, string | undefined>;
  /** The worker's mail transport (SMTP or outbox). */
  email?: { send(mail: import('./email.js').OutgoingMail): Promise<import('./email.js').SendResult> };
  /** Where people and chat services reach the API (buttons post back here). */
  publicBaseUrl?: string;
  timeoutMs?: number;
}
