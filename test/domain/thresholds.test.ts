import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { observe, type ThresholdState } from '../../domain/thresholds.js';

const run = (results: boolean[], t = { failThreshold: 3, recoverThreshold: 2 }) => {
  let s: ThresholdState = { health: 'healthy', streak: 0 };
  const changes: string[] = [];
  const reprobes: number[] = [];
  results.forEach((ok, i) => {
    const o = observe(s, ok, t);
    s = o.state;
    if (o.changed) changes.push(`${i}:${s.health}`);
    if (o.reprobeNow) reprobes.push(i);
  });
  return { s, changes, reprobes };
};

describe('threshold state machine', () => {
  it.each([
    ['three failures in a row fail the check', [false, false, false], ['2:failing']],
    ['flapping below the threshold changes nothing', [false, false, true, false, false, true, false], []],
    ['two passes recover it', [false, false, false, true, true], ['2:failing', '4:healthy']],
    ['one pass between failures does not recover', [false, false, false, true, false, true], ['2:failing']],
  ])('%s', (_name, results, expected) => {
    expect(run(results).changes).toEqual(expected);
  });

  it('re-probes at once after the first failure of a healthy check only', () => {
    expect(run([true, false, false, true, false]).reprobes).toEqual([1, 4]);
  });

  it('for any sequence, a change needs exactly the threshold of disagreeing results in a row', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { maxLength: 60 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        (results, f, r) => {
          const { changes } = run(results, { failThreshold: f, recoverThreshold: r });
          let health = 'healthy';
          for (const c of changes) {
            const [idx, to] = c.split(':') as [string, string];
            const i = Number(idx);
            const need = health === 'healthy' ? f : r;
            const window = results.slice(i - need + 1, i + 1);
            expect(window).toHaveLength(need);
            expect(window.every((ok) => ok === (health !== 'healthy'))).toBe(true);
            expect(to).not.toBe(health);
            health = to;
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
