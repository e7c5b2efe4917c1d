import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { monitorView, staleSlackMs, type LiveResult } from '../../domain/monitor-view.js';

const now = Date.parse('2026-12-02T10:00:00.000Z');
const at = (deltaMs: number) => new Date(now + deltaMs).toISOString();
const result = (ok: boolean, deltaMs: number): LiveResult => ({
  ok,
  code: ok ? 'ok' : 'refused',
  message: ok ? 'ok' : 'connection refused',
  latencyMs: 3,
  at: at(deltaMs),
});
const probe = { intervalMs: 30_000, timeoutMs: 10_000 };

describe('monitorView', () => {
  it.each([
    ['healthy, last probe passed', 'healthy', false, [result(true, -5000)], 'healthy'],
    ['healthy, last probe failed (below the threshold)', 'healthy', false, [result(false, -5000)], 'suspect'],
    ['failing, last probe failed', 'failing', false, [result(false, -5000)], 'failing'],
    [
      'failing, last probe passed (below the recover threshold)',
      'failing',
      false,
      [result(true, -1000)],
      'recovering',
    ],
    ['failing in maintenance', 'failing', true, [result(false, -1000)], 'failing (maintenance)'],
    [
      'the live row is newer than the workflow’s result',
      'healthy',
      false,
      [result(true, -60_000), result(false, -2000)],
      'suspect',
    ],
    [
      'the workflow’s result is newer than the live row',
      'healthy',
      false,
      [result(true, -1000), result(false, -60_000)],
      'healthy',
    ],
    ['no result yet', 'healthy', false, [undefined, undefined], 'healthy'],
  ] as const)('%s → %s', (_what, health, suppressed, results, expected) => {
    expect(monitorView({ nowMs: now, health, suppressed, results: [...results], ...probe }).state).toBe(
      expected,
    );
  });

  it.each([
    [
      'next probe ahead',
      { nextProbeAt: at(20_000) },
      { nextProbeAt: at(20_000), probing: false, stale: false },
    ],
    [
      'next probe just passed (starting)',
      { nextProbeAt: at(-1000) },
      { nextProbeAt: null, probing: false, stale: false },
    ],
    [
      'next probe long passed: overdue',
      { nextProbeAt: at(-staleSlackMs - 1) },
      { nextProbeAt: null, probing: false, stale: true },
    ],
    ['a probe is running', { probingSince: at(-3000) }, { nextProbeAt: null, probing: true, stale: false }],
    [
      'a probe runs past its timeout',
      { probingSince: at(-10_000 - staleSlackMs - 1) },
      { nextProbeAt: null, probing: false, stale: false },
    ],
  ])('%s', (_what, row, expected) => {
    const v = monitorView({
      nowMs: now,
      health: 'healthy',
      suppressed: false,
      results: [result(true, -5000)],
      ...probe,
      ...row,
    });
    expect({ nextProbeAt: v.nextProbeAt, probing: v.probing, stale: v.stale }).toEqual(expected);
  });

  it('a failing last result is never shown as healthy, and the next probe is never in the past', () => {
    const arbResult = fc.option(
      fc
        .record({ ok: fc.boolean(), delta: fc.integer({ min: -600_000, max: 0 }) })
        .map((r) => result(r.ok, r.delta)),
      { nil: undefined },
    );
    fc.assert(
      fc.property(
        fc.constantFrom('healthy' as const, 'failing' as const),
        fc.boolean(),
        fc.array(arbResult, { maxLength: 3 }),
        fc.option(fc.integer({ min: -600_000, max: 600_000 }), { nil: undefined }),
        fc.option(fc.integer({ min: -600_000, max: 0 }), { nil: undefined }),
        (health, suppressed, results, next, probing) => {
          const v = monitorView({
            nowMs: now,
            health,
            suppressed,
            results,
            nextProbeAt: next === undefined ? undefined : at(next),
            probingSince: probing === undefined ? undefined : at(probing),
            ...probe,
          });
          if (v.lastResult && !v.lastResult.ok) expect(v.state).not.toBe('healthy');
          if (v.lastResult?.ok) expect(v.state).not.toBe('failing');
          if (v.nextProbeAt !== null) expect(Date.parse(v.nextProbeAt)).toBeGreaterThan(now);
          const newest = results.filter((r) => r !== undefined).map((r) => Date.parse(r!.at));
          if (newest.length) expect(Date.parse(v.lastResult!.at)).toBe(Math.max(...newest));
        },
      ),
    );
  });
});
