/**
 * Probe jitter (activities/monitor.ts `untilNextSlot`): checks with the same interval are spread
 * over it, each keeps its own phase, and no wait is far from the interval.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { untilNextSlot } from '../../activities/monitor.js';

describe('probe jitter', () => {
  it('waits between half and one and a half intervals, and lands on the check’s own phase every time', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1000, max: 3_600_000 }),
        fc.integer({ min: 0, max: 2 ** 42 }),
        fc.integer({ min: 0, max: 400 }),
        (id, interval, now, latency) => {
          const first = untilNextSlot(id, interval, now);
          expect(first).toBeGreaterThanOrEqual(interval / 2);
          expect(first).toBeLessThan(interval * 1.5);
          // The next probe starts at now + first and takes `latency`: the one after is exactly one
          // interval later (latency does not push the schedule back).
          const at = now + first;
          const second = untilNextSlot(id, interval, at + latency);
          expect(at + latency + second - at).toBe(interval);
        },
      ),
    );
  });

  it('1,000 checks at 30 s do not fire together: no tenth of the interval holds twice its share', () => {
    const interval = 30_000;
    const now = Date.parse('2026-12-02T12:00:00Z');
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 1000; i++) {
      const at = (now + untilNextSlot(`svc-${i}-tcp`, interval, now)) % interval;
      buckets[Math.floor((at / interval) * 10)]!++;
    }
    expect(Math.max(...buckets)).toBeLessThan(200);
    expect(Math.min(...buckets)).toBeGreaterThan(50);
  });
});
