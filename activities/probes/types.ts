import type { Check } from '../../domain/config-schema.js';
import type { ProbeResult } from '../../domain/incident.js';

/** What a probe gets besides its check: the time budget, where secrets live, and a way to cancel it. */
export interface ProbeContext {
  /** Hard limit for the whole probe (connect, handshake, auth, command, response), in milliseconds. */
  timeoutMs: number;
  /** Where the variables named by `privateKeyEnv` / `passwordEnv` are looked up (usually `process.env`). */
  env: Record<string, string | undefined>;
  /** Aborting it ends the probe early, as code `aborted`. */
  signal?: AbortSignal;
}

/**
 * One kind of health probe. `run` resolves with the outcome; a failure of the probed target is a result
 * with `ok: false` and a code, not an exception.
 */
export interface Probe<C extends Check = Check> {
  kind: C['kind'];
  run(check: C, ctx: ProbeContext): Promise<ProbeResult>;
}
