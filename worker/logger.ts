/**
 * The Temporal SDK logger of the worker process, minus one harmless warning: the probe-loop worker
 * (activities only, see create.ts) has no workflows by design, and the SDK says
 * "No workflows registered, not polling for workflow tasks" for it at every start.
 */
import type { LogLevel, LogMetadata, Logger } from '@temporalio/worker';

const harmless = (message: string) => message.startsWith('No workflows registered');

export function withoutHarmlessWarnings(inner: Logger): Logger {
  return {
    log: (level: LogLevel, message: string, meta?: LogMetadata) => {
      if (!harmless(message)) inner.log(level, message, meta);
    },
    trace: (message, meta) => inner.trace(message, meta),
    debug: (message, meta) => inner.debug(message, meta),
    info: (message, meta) => inner.info(message, meta),
    warn: (message, meta) => {
      if (!harmless(message)) inner.warn(message, meta);
    },
    error: (message, meta) => inner.error(message, meta),
  };
}
