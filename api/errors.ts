/**
 * The one place that turns failures into HTTP answers: a typed error carrying status and code, and
 * the mapping from Temporal's errors (not found → 404, closed → 409, unavailable → 503).
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, isGrpcServiceError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { rejection } from '../workflows/definitions.js';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** The request field the error is about (`alerts[0].labels.service`), when there is one. */
    readonly field?: string,
    /** Headers the answer carries (`retry-after` on a 429). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);

const unavailableCodes = new Set([4 /* DEADLINE_EXCEEDED */, 14 /* UNAVAILABLE */, 1 /* CANCELLED */]);

/** True when the error means Temporal could not be reached (the API answers 503 and recovers later). */
export function isUnavailable(e: unknown): boolean {
  if (isGrpcServiceError(e)) return unavailableCodes.has(e.code) || isNoWorker(e);
  const cause = (e as { cause?: unknown })?.cause;
  if (cause && cause !== e && isUnavailable(cause)) return true;
  const msg = (e as Error)?.message ?? '';
  return /UNAVAILABLE|DEADLINE_EXCEEDED|ECONNREFUSED|Failed to connect|deadline/i.test(msg);
}

/** A query with no worker polling (e.g. right after a restart): Temporal answers FAILED_PRECONDITION. */
function isNoWorker(e: unknown): boolean {
  const g = e as { code?: number; details?: string; message?: string; cause?: unknown };
  if (g?.code === 9 && /no poller seen/i.test(`${g.details ?? ''} ${g.message ?? ''}`)) return true;
  return !!g?.cause && g.cause !== e && isNoWorker(g.cause);
}

function grpcCode(e: unknown): number | undefined {
  if (isGrpcServiceError(e)) return e.code;
  const cause = (e as { cause?: unknown })?.cause;
  return cause && cause !== e ? grpcCode(cause) : undefined;
}

export function fromTemporal(e: unknown, what: string): HttpError {
  if (e instanceof HttpError) return e;
  if (isNoWorker(e))
    return new HttpError(
      503,
      'worker_unavailable',
      'no worker is running for incidents right now; try again shortly',
    );
  if (grpcCode(e) === 3 /* INVALID_ARGUMENT */)
    return new HttpError(400, 'invalid_request', `${what}: invalid`);
  if (grpcCode(e) === 8 /* RESOURCE_EXHAUSTED */)
    return new HttpError(
      503,
      'temporal_busy',
      'too many concurrent changes to this incident; try again shortly',
    );
  if (e instanceof WorkflowNotFoundError) return notFound(what);
  if (isGrpcServiceError(e) && e.code === 5 /* NOT_FOUND */) return notFound(what);
  if (e instanceof WorkflowUpdateFailedError) {
    const cause = e.cause;
    if (cause instanceof ApplicationFailure) {
      if (cause.type === rejection.closed) return new HttpError(409, 'incident_closed', cause.message);
      if (cause.type === rejection.invalid) return new HttpError(400, 'invalid_request', cause.message);
      if (cause.type === rejection.conflict) return new HttpError(409, 'conflict', cause.message);
    }
    return new HttpError(409, 'rejected', cause?.message ?? e.message);
  }
  if (
    grpcCode(e) === 9 /* FAILED_PRECONDITION */ ||
    /unexpected workflow task failure|update was aborted/i.test(String((e as Error)?.message))
  )
    return new HttpError(
      503,
      'temporal_busy',
      'the incident is busy (its workflow task failed or moved on); try again shortly',
    );
  if (isUnavailable(e))
    return new HttpError(503, 'temporal_unavailable', 'Temporal is not reachable; try again shortly');
  return new HttpError(500, 'internal', 'internal error');
}

/**
 * Runs `fn` again while it answers 409 `incident_closed`: a just-resolved incident still sending its
 * resolved notices refuses reports for a moment. Waits `delays` ms between tries; when they run out,
 * throws `closing()` (a 503, so the caller retries).
 */
export async function retryWhileClosing<T>(
  fn: () => Promise<T>,
  delays: readonly number[],
  closing: () => HttpError,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof HttpError && e.code === 'incident_closed')) throw e;
      const delay = delays[attempt];
      if (delay === undefined) throw closing();
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
