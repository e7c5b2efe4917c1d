/**
 * What every probe shares: the failure type carrying a result code, the mapping of network errors to
 * codes and sentences for the person on call, the hard deadline, and latency measurement.
 */
import { performance } from 'node:perf_hooks';
import { formatDuration } from '../../domain/duration.js';
import type { ProbeResult } from '../../domain/incident.js';
import type { ProbeContext } from './types.js';

/** A probe outcome that is not ok: `code` goes into the result as is, `message` is for people. */
export class ProbeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ProbeError';
  }
}

/** `host:port`, with brackets around IPv6 literals. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The message of anything thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The errno-style code of an error, looking through `cause` and AggregateError (happy eyeballs). */
export function errnoOf(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.length > 0) {
      const first = errnoOf(inner[0]);
      if (first) return first;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A socket-level error as a ProbeError (`refused`, `dns`, `unreachable`, `reset`, `timeout`), or
 * undefined when it is not one of those.
 */
export function networkError(err: unknown, host: string, port: number): ProbeError | undefined {
  const where = hostPort(host, port);
  switch (errnoOf(err)) {
    case 'ECONNREFUSED':
      return new ProbeError('refused', `connection refused by ${where} (nothing is listening on that port)`);
    case 'ENOTFOUND':
      return new ProbeError('dns', `the host name "${host}" could not be resolved (DNS: not found)`);
    case 'EAI_AGAIN':
      return new ProbeError(
        'dns',
        `the DNS lookup of "${host}" failed temporarily (the resolver did not answer)`,
      );
    case 'EHOSTUNREACH':
      return new ProbeError('unreachable', `no route to ${where} (host unreachable)`);
    case 'ENETUNREACH':
      return new ProbeError('unreachable', `no route to ${where} (network unreachable)`);
    case 'ECONNRESET':
    case 'EPIPE':
      return new ProbeError('reset', `the connection to ${where} was reset by the other side`);
    case 'ETIMEDOUT':
      return new ProbeError('timeout', `connecting to ${where} timed out (no answer)`);
    default:
      return undefined;
  }
}

/**
 * Runs `body` under the hard time limit of the probe. When the limit passes (or `ctx.signal` aborts),
 * the returned promise rejects at once with code `timeout` (or `aborted`) and the signal handed to
 * `body` aborts, so that it closes its sockets. `describeTimeout` says what was being waited for.
 */
export async function withDeadline<T>(
  ctx: ProbeContext,
  describeTimeout: (limit: string) => string,
  body: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onCancel: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    const stop = (err: ProbeError): void => {
      reject(err);
      ac.abort(err);
    };
    timer = setTimeout(
      () => stop(new ProbeError('timeout', describeTimeout(formatDuration(ctx.timeoutMs)))),
      ctx.timeoutMs,
    );
    onCancel = () => stop(new ProbeError('aborted', 'the probe was cancelled'));
    if (ctx.signal?.aborted) onCancel();
    else ctx.signal?.addEventListener('abort', onCancel, { once: true });
  });
  try {
    return await Promise.race([body(ac.signal), stopped]);
  } finally {
    clearTimeout(timer);
    if (onCancel) ctx.signal?.removeEventListener('abort', onCancel);
  }
}

/** Milliseconds since `start` (a performance.now() value), to a tenth. */
export function elapsedMs(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}

/**
 * Measures `body`: its string is the message of an ok result, a ProbeError becomes a failed result,
 * anything else is rethrown (runProbe turns it into `probe-error`).
 */
export async function timed(body: () => Promise<string>): Promise<ProbeResult> {
  const start = performance.now();
  try {
    const message = await body();
    return { ok: true, latencyMs: elapsedMs(start), code: 'ok', message };
  } catch (err) {
    if (err instanceof ProbeError)
      return { ok: false, latencyMs: elapsedMs(start), code: err.code, message: err.message };
    throw err;
  }
}
