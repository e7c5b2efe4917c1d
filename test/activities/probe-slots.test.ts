/**
 * The per-worker probe bound (activities/monitor.ts `probeSlots`): never more probes in flight than
 * the limit, waiting probes start as soon as a slot frees (first come, first served), and a probe
 * that fails (a timeout) frees its slot too.
 */
import { describe, expect, it } from 'vitest';
import { probeSlots } from '../../activities/monitor.js';

describe('probe slots', () => {
  it('holds at most the limit in flight, starts waiters in order, and a failed probe frees its slot', async () => {
    const warnings: string[] = [];
    const slots = probeSlots(2, { warn: (m) => warnings.push(m) });
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    const finish: ((fail: boolean) => void)[] = [];
    const runs = [0, 1, 2, 3, 4].map((i) =>
      slots
        .run(
          () =>
            new Promise<number>((resolve, reject) => {
              started.push(i);
              inFlight++;
              most = Math.max(most, inFlight);
              finish[i] = (fail) => {
                inFlight--;
                if (fail) reject(new Error('timeout'));
                else resolve(i);
              };
            }),
        )
        .catch((e: Error) => e.message),
    );
    const tick = () => new Promise((r) => setTimeout(r, 5));
    await tick();
    expect(started).toEqual([0, 1]);
    expect(slots.waiting).toBe(3);
    expect(warnings).toHaveLength(1);
    finish[0]!(true); // a timeout frees its slot
    await tick();
    expect(started).toEqual([0, 1, 2]);
    finish[1]!(false);
    finish[2]!(false);
    await tick();
    finish[3]!(false);
    finish[4]!(false);
    expect(await Promise.all(runs)).toEqual(['timeout', 1, 2, 3, 4]);
    expect(most).toBe(2);
    expect(slots.busy).toBe(0);
  });
});
