/**
 * The bench's workflow bundle: every workflow of the project, plus the baselines the benchmarks
 * compare against (a bare timer; one activity per probe). Bundled once by bench/lib.ts.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { ProbeCheck } from '../domain/config-schema.js';
import type { ProbeResult } from '../domain/incident.js';

export * from '../workflows/index.js';

/** Baseline for escalation lateness: sleep `ms` on a durable timer, report when it started and woke. */
export async function benchSleepWorkflow(ms: number): Promise<{ startedAt: number; wokeAt: number }> {
  const startedAt = Date.now();
  await sleep(ms);
  return { startedAt, wokeAt: Date.now() };
}

const { benchProbeOnce } = proxyActivities<{ benchProbeOnce(check: ProbeCheck): Promise<ProbeResult> }>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 2 },
});

/** Baseline for monitor history: the naive monitor, one activity per probe, a timer between probes. */
export async function benchProbeLoopWorkflow(input: {
  check: ProbeCheck;
  intervalMs: number;
  rounds: number;
}): Promise<number> {
  let failures = 0;
  for (let i = 0; i < input.rounds; i++) {
    const r = await benchProbeOnce(input.check);
    if (!r.ok) failures++;
    if (i < input.rounds - 1) await sleep(input.intervalMs);
  }
  return failures;
}
