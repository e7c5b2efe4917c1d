/**
 * The cost benchmark's baseline: a bare Node probe loop, in a process of its own (bench/cost.ts
 * compiles it with esbuild and runs it with plain `node`). The same probes (`runProbe`), the same
 * timers and jitter (`untilNextSlot`, `untilNextProbe`), the same bounded concurrency (`probeSlots` with
 * `defaultProbeConcurrency`) and the same thresholds (`observe`, with the immediate re-probe) as the
 * monitors, and nothing else: no Temporal, no store, no mail. Each threshold crossed is reported over
 * IPC (`changed`), which is this loop's "page".
 */
import { readFileSync } from 'node:fs';
import { runProbe } from '../activities/probes/index.js';
import { defaultProbeConcurrency, probeSlots, untilNextProbe, untilNextSlot } from '../activities/monitor.js';
import { observe, type ThresholdState, type Thresholds } from '../domain/thresholds.js';
import type { ProbeCheck } from '../domain/config-schema.js';

export interface BareCheck {
  check: ProbeCheck;
  intervalMs: number;
  timeoutMs: number;
  thresholds: Thresholds;
}

export interface BareSpec {
  checks: BareCheck[];
}

export type BareMessage =
  { type: 'ready' } | { type: 'changed'; checkId: string; health: ThresholdState['health']; at: number };

const slots = probeSlots(defaultProbeConcurrency, { warn: (m) => console.warn(`[bare loop] ${m}`) });
const timers = new Set<NodeJS.Timeout>();
let stopping = false;

function start(c: BareCheck) {
  let state: ThresholdState = { health: 'healthy', streak: 0 };
  const once = async () => {
    if (stopping) return;
    const startedMs = Date.now();
    const result = await slots.run(() => runProbe(c.check, { env: process.env, timeoutMs: c.timeoutMs }));
    const o = observe(state, result.ok, c.thresholds);
    state = o.state;
    if (o.changed)
      process.send?.({ type: 'changed', checkId: c.check.id, health: state.health, at: Date.now() });
    const wait = o.reprobeNow ? 0 : untilNextProbe(c.check.id, c.intervalMs, startedMs, Date.now());
    const t = setTimeout(() => {
      timers.delete(t);
      void once();
    }, wait);
    timers.add(t);
  };
  // Like a probe shard: each check takes up at its own phase of the interval (not all at once).
  const t = setTimeout(
    () => {
      timers.delete(t);
      void once();
    },
    untilNextSlot(c.check.id, c.intervalMs, Date.now()) % c.intervalMs,
  );
  timers.add(t);
}

const spec = JSON.parse(readFileSync(process.env.BENCH_BARE_SPEC!, 'utf8')) as BareSpec;
for (const c of spec.checks) start(c);
process.send?.({ type: 'ready' } satisfies BareMessage);
process.on('message', (m: { type: 'add'; checks: BareCheck[] } | { type: 'stop' }) => {
  if (m.type === 'add') for (const c of m.checks) start(c);
  else stop();
});
process.on('disconnect', stop);

function stop() {
  stopping = true;
  for (const t of timers) clearTimeout(t);
  process.exit(0);
}
