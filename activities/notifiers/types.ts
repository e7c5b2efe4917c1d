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
