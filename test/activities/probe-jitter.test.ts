/**
 * Probe jitter (activities/monitor.ts `untilNextSlot`, `untilNextProbe`): checks with the same
 * interval are spread over it, each keeps its own phase, no wait is far from the interval, and a
 * probe's own duration (a timeout) is not added to the wait.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { untilNextProbe, untilNextSlot } from '../../activities/monitor.js';
import { observe, type ThresholdState } from '../../domain/thresholds.js';

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

  it('the next probe starts one interval after the last one started, whatever that probe took (up to its slot)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1000, max: 3_600_000 }),
        fc.integer({ min: 0, max: 2 ** 42 }),
        fc.double({ min: 0, max: 3, noNaN: true }),
        (id, interval, now, took) => {
          // A probe that started on its phase (after a first wait) and took `took` intervals.
          const started = now + untilNextSlot(id, interval, now);
          const ended = started + Math.round(took * interval);
          const wait = untilNextProbe(id, interval, started, ended);
          expect(wait).toBeGreaterThanOrEqual(0);
          const next = ended + wait;
          if (ended - started <= interval) expect(next - started).toBe(interval);
          else expect(wait).toBe(0); // it outlasted its slot: the next starts at once
        },
      ),
    );
  });

  it('never starts probes closer than half an interval, wherever the last one started', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1000, max: 3_600_000 }),
        fc.integer({ min: 0, max: 2 ** 42 }),
        fc.integer({ min: 0, max: 10_000 }),
        (id, interval, started, took) => {
          const ended = started + Math.min(took, interval / 2);
          const next = ended + untilNextProbe(id, interval, started, ended);
          expect(next - started).toBeGreaterThanOrEqual(interval / 2);
          expect(next - started).toBeLessThan(interval * 1.5);
        },
      ),
    );
  });

  // The schedule at 5 s × 3 with a 5 s timeout, as the probe loop runs it (observe + the immediate
  // re-probe + untilNextProbe), for a check whose port fails at `faultAt` (ms after a slot).
  const detect = (probeMs: number, faultAt: number) => {
    const interval = 5000;
    const id = 'fs-canvas-sftp';
    let now = 1_000_000_000_000;
    now += untilNextSlot(id, interval, now) % interval; // on the check's phase
    const fault = now + faultAt;
    let state: ThresholdState = { health: 'healthy', streak: 0 };
    for (let i = 0; i < 20; i++) {
      const started = now;
      const ok = started < fault;
      now += ok ? 2 : probeMs;
      const o = observe(state, ok, { failThreshold: 3, recoverThreshold: 2 });
      state = o.state;
      if (o.changed) return now - fault;
      now += o.reprobeNow ? 0 : untilNextProbe(id, interval, started, now);
    }
    return Infinity;
  };

  it('a dropped port at 5 s × 3 (probes time out after 5 s) is failing 15–20 s after the fault, a refused one 5–10 s', () => {
    for (const faultAt of [1, 1000, 2500, 4000, 4999]) {
      const dropped = detect(5000, faultAt);
      expect(dropped).toBeGreaterThanOrEqual(15_000);
      expect(dropped).toBeLessThanOrEqual(20_000);
      const refused = detect(3, faultAt);
      expect(refused).toBeGreaterThanOrEqual(5_000);
      expect(refused).toBeLessThanOrEqual(10_010);
    }
  });
});
