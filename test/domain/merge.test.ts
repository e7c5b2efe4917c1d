import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { absorbedText, mergeDecision, mergedIntoText, type MergeSide } from '../../domain/merge.js';
import { closedStates, incidentStates, type IncidentState } from '../../domain/incident.js';

const source: MergeSide = { id: 'integration.r1', state: 'triggered', serviceId: 'integration' };
const target: MergeSide = { id: 'web.r2', state: 'acknowledged', serviceId: 'web' };
const ask = (o: Partial<Parameters<typeof mergeDecision>[0]> = {}) =>
  mergeDecision({ source, target, into: target.id, maxReasonLength: 100, ...o });

describe('mergeDecision', () => {
  it.each([
    ['two open incidents of different services: merges', {}, { ok: true }],
    ['with a reason at the limit: merges', { reason: 'x'.repeat(100) }, { ok: true }],
    [
      'a reason one over the limit: 400 naming reason',
      { reason: 'x'.repeat(101) },
      { ok: false, status: 400, message: 'reason: at most 100 characters' },
    ],
    [
      'no target named: 400',
      { into: ' ' },
      { ok: false, status: 400, message: 'into: name the incident to merge this one into' },
    ],
    [
      'into itself: 400',
      { into: source.id },
      { ok: false, status: 400, message: 'into: an incident cannot be merged into itself' },
    ],
    [
      'no such target: 404',
      { target: undefined, into: 'web.nope' },
      { ok: false, status: 404, message: 'into: no incident "web.nope"' },
    ],
    [
      'the same service: 400 (its reports already join)',
      { target: { ...target, serviceId: 'integration' } },
      { ok: false, status: 400 },
    ],
    [
      'a closed target: 409 saying to reopen it',
      { target: { ...target, state: 'resolved' as const } },
      {
        ok: false,
        status: 409,
        message: 'into: incident web.r2 is already resolved; merge into an open incident, or reopen it first',
      },
    ],
    [
      'a closed source: 409',
      { source: { ...source, state: 'dismissed' as const } },
      {
        ok: false,
        status: 409,
        message: 'incident integration.r1 is already dismissed: only an open incident can be merged',
      },
    ],
  ])('%s', (_name, o, want) => {
    expect(ask(o)).toMatchObject(want);
  });

  it('merges exactly when both are open, of different services, and not the same incident', () => {
    const state = fc.constantFrom<IncidentState>(...incidentStates);
    fc.assert(
      fc.property(state, state, fc.boolean(), fc.boolean(), (s, t, sameService, sameId) => {
        const src = { ...source, state: s };
        const tgt = {
          id: sameId ? source.id : target.id,
          state: t,
          serviceId: sameService ? source.serviceId : target.serviceId,
        };
        const d = mergeDecision({ source: src, target: tgt, into: tgt.id, maxReasonLength: 10 });
        const open = (x: IncidentState) => !closedStates.includes(x);
        expect(d.ok).toBe(open(s) && open(t) && !sameService && !sameId);
        if (!d.ok) expect([400, 404, 409]).toContain(d.status);
      }),
    );
  });
});

describe('merge texts', () => {
  it('say who merged what into where, and why', () => {
    expect(mergedIntoText('ola', 'web.r2', '  same export ')).toBe(
      'ola merged this incident into web.r2: same export; it has no postmortem of its own',
    );
    expect(mergedIntoText('ola', 'web.r2')).toBe(
      'ola merged this incident into web.r2; it has no postmortem of its own',
    );
    expect(
      absorbedText({
        actor: 'ola',
        from: {
          id: 'integration.r1',
          serviceName: 'FS → Canvas',
          reason: 'late',
          openedAt: '2026-12-03T10:00:00Z',
        },
      }),
    ).toBe('ola merged integration.r1 (FS → Canvas, opened 2026-12-03T10:00:00Z: late) into this incident');
  });
});
