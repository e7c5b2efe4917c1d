/**
 * The probe registry: one probe per check kind, and `runProbe`, which never throws.
 */
import { performance } from 'node:perf_hooks';
import type { Check, ProbeKind } from '../../domain/config-schema.js';
import { durationMs } from '../../domain/duration.js';
import type { ProbeResult } from '../../domain/incident.js';
import { elapsedMs, errorMessage } from './common.js';
import { httpProbe } from './http.js';
import { sftpFileAgeProbe } from './sftp-file-age.js';
import { sshProbe } from './ssh.js';
import { tcpProbe } from './tcp.js';
import type { Probe, ProbeContext } from './types.js';
import { observeProbe } from '../metrics.js';

export type { Probe, ProbeContext } from './types.js';

/** Timeout of a check that names none. */
export const defaultProbeTimeoutMs = 10_000;

const probes: { [K in ProbeKind]: Probe<Extract<Check, { kind: K }>> } = {
  ssh: sshProbe,
  sftpFileAge: sftpFileAgeProbe,
  http: httpProbe,
  tcp: tcpProbe,
};

/**
 * Runs the probe of `check.kind`. Never throws: a target that fails is `ok: false` with its code
 * (`timeout`, `refused`, `hostkey-mismatch`, ...); anything unexpected is `ok: false`, code `probe-error`.
 * The timeout is `ctx.timeoutMs`, else the check's `timeout`, else 10 s; `ctx.env` defaults to
 * `process.env`.
 */
export async function runProbe(check: Check, ctx: Partial<ProbeContext> = {}): Promise<ProbeResult> {
  const result = await probeOnce(check, ctx);
  const id = String((check as { id?: unknown } | null | undefined)?.id);
  observeProbe(
    id,
    String((check as { kind?: unknown } | null | undefined)?.kind),
    result.ok,
    result.code,
    result.latencyMs,
  );
  return result;
}

async function probeOnce(check: Check, ctx: Partial<ProbeContext>): Promise<ProbeResult> {
  const start = performance.now();
  const kind = String((check as { kind?: unknown } | null | undefined)?.kind);
  try {
    const timeoutMs =
      ctx.timeoutMs ?? (check.timeout !== undefined ? durationMs(check.timeout) : defaultProbeTimeoutMs);
    const probe = (probes as Partial<Record<string, Probe>>)[kind];
    if (!probe) throw new Error(`there is no probe for checks of kind "${kind}"`);
    return await probe.run(check, { timeoutMs, env: ctx.env ?? process.env, signal: ctx.signal });
  } catch (err) {
    return {
      ok: false,
      latencyMs: elapsedMs(start),
      code: 'probe-error',
      message: `the ${kind} probe failed unexpectedly: ${errorMessage(err)}`,
    };
  }
}
