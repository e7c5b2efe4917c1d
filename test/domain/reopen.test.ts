import { describe, expect, it } from 'vitest';
import { defaultReopenWindowMs, reopenDecision, type ReopenInput } from '../../domain/reopen.js';

const now = Date.parse('2026-12-03T12:00:00Z');
const base: ReopenInput = {
  id: 'svc.r1',
  state: 'resolved',
  closedAt: '2026-12-03T11:00:00Z',
  now,
  windowMs: defaultReopenWindowMs,
};

describe('reopenDecision', () => {
  it.each([
    ['resolved an hour ago, the latest: reopens', {}, { ok: true }],
    ['dismissed an hour ago: reopens', { state: 'dismissed' as const }, { ok: true }],
    [
      'exactly at the window: reopens',
      { closedAt: new Date(now - defaultReopenWindowMs).toISOString() },
      { ok: true },
    ],
    [
      'a second past the window: refused, declare a new one',
      { closedAt: new Date(now - defaultReopenWindowMs - 1000).toISOString() },
      {
        ok: false,
        message:
          'incident svc.r1 closed 1d 1s ago, longer than the reopen window of 1d; declare a new incident',
      },
    ],
    [
      'still open: nothing to reopen',
      { state: 'acknowledged' as const, closedAt: undefined },
      { ok: false, message: 'incident svc.r1 is still open (acknowledged); there is nothing to reopen' },
    ],
    [
      'a newer incident is open: add to that one',
      { newer: { id: 'svc.r2', state: 'triggered' as const } },
      { ok: false, message: 'this service has an open incident (svc.r2); add to that one instead' },
    ],
    [
      'a newer incident followed and closed: reopen that one',
      { newer: { id: 'svc.r2', state: 'resolved' as const } },
      {
        ok: false,
        message:
          'a newer incident of this service followed it (svc.r2); reopen that one or declare a new one',
      },
    ],
  ])('%s', (_name, over, expected) => {
    expect(reopenDecision({ ...base, ...over })).toEqual(expected);
  });

  it('reopens exactly when closed, the latest, and within the window (property over a grid)', () => {
    for (const state of [
      'verifying',
      'triggered',
      'acknowledged',
      'resolving',
      'resolved',
      'dismissed',
    ] as const)
      for (const ago of [0, 1, 3_600_000, defaultReopenWindowMs, defaultReopenWindowMs + 1])
        for (const newer of [undefined, { id: 'x', state: 'resolved' as const }]) {
          const closed = state === 'resolved' || state === 'dismissed';
          const d = reopenDecision({
            ...base,
            state,
            closedAt: closed ? new Date(now - ago).toISOString() : undefined,
            ...(newer ? { newer } : {}),
          });
          expect(d.ok).toBe(closed && !newer && ago <= defaultReopenWindowMs);
        }
  });
});
