/**
 * What a monitor shows (GET /api/monitors, the console's monitors page), from the monitor workflow's
 * state (health, pause, incident) and the probe loop's live row in the record store (last result,
 * next probe). Pure, so the two rules the API promises are tested on their own:
 *
 * - a failing last result is never shown as `healthy`: a healthy check whose last probe failed is
 *   `suspect` (fewer than `failThreshold` failures in a row); a failing one whose last probe passed
 *   is `recovering`;
 * - `nextProbeAt` is never in the past: a time that has passed means the probe is running
 *   (`probing`) or overdue (`stale`), and then no next probe is promised.
 */
export type MonitorShownState =
  'healthy' | 'suspect' | 'failing' | 'recovering' | 'failing (maintenance)' | 'not running';

export interface LiveResult {
  ok: boolean;
  code: string;
  message: string;
  latencyMs: number;
  at: string;
}

export interface MonitorViewInput {
  nowMs: number;
  /** The monitor workflow's health (flips after failThreshold / recoverThreshold results). */
  health: 'healthy' | 'failing';
  /** A failure inside a pause or maintenance window (nobody paged). */
  suppressed: boolean;
  /** The workflow's last result (written at state changes) and the live row's (every probe). */
  results: (LiveResult | undefined)[];
  /** From the live row. */
  nextProbeAt?: string;
  probingSince?: string;
  /** The check's probe interval and timeout (ms); undefined for heartbeat checks (no probes). */
  intervalMs?: number;
  timeoutMs?: number;
}

export interface MonitorViewOutput {
  state: MonitorShownState;
  lastResult: LiveResult | null;
  nextProbeAt: string | null;
  /** A probe is running now. */
  probing: boolean;
  /** No probe result within interval + timeout (+ slack): the loop is behind or not running. */
  stale: boolean;
}

/** How late a probe may be before it counts as overdue: scheduling, a worker restart. */
export const staleSlackMs = 15_000;

export function monitorView(i: MonitorViewInput): MonitorViewOutput {
  const lastResult =
    i.results
      .filter((r): r is LiveResult => r !== undefined)
      .sort((a, b) => Date.parse(b.at) - Date.parse(a.at))[0] ?? null;
  let state: MonitorShownState;
  if (i.health === 'failing') {
    if (lastResult?.ok) state = 'recovering';
    else state = i.suppressed ? 'failing (maintenance)' : 'failing';
  } else state = lastResult && !lastResult.ok ? 'suspect' : 'healthy';

  const next = i.nextProbeAt ? Date.parse(i.nextProbeAt) : undefined;
  const timeout = i.timeoutMs ?? 0;
  const probing =
    i.probingSince !== undefined && i.nowMs - Date.parse(i.probingSince) <= timeout + staleSlackMs;
  const nextProbeAt = next !== undefined && next > i.nowMs ? new Date(next).toISOString() : null;
  const stale =
    i.intervalMs !== undefined &&
    !probing &&
    nextProbeAt === null &&
    (next !== undefined
      ? i.nowMs - next > staleSlackMs
      : lastResult === null || i.nowMs - Date.parse(lastResult.at) > i.intervalMs + timeout + staleSlackMs);
  return { state, lastResult, nextProbeAt, probing, stale };
}
