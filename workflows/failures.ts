/** Reading activity failures in workflow code (deterministic: no I/O). */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';

/** The activity's own message, not Temporal's "Activity task failed" wrapper. */
export function failureMessage(e: unknown): string {
  const cause = e instanceof ActivityFailure ? e.cause : e;
  return (cause as Error | undefined)?.message ?? String(e);
}

/** A failure the activity marked non-retryable: the receiver refused, retrying cannot help. */
export function isPermanent(e: unknown): boolean {
  const cause = e instanceof ActivityFailure ? e.cause : undefined;
  return cause instanceof ApplicationFailure && cause.nonRetryable === true;
}
