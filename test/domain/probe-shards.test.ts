import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ProbeCheck } from '../../domain/config-schema.js';
import {
  assignShards,
  defaultProbeShards,
  hashId,
  maxChecksPerShard,
  probePlan,
  shardOf,
  shardWorkflowId,
} from '../../domain/probe-shards.js';

const tcp = (id: string, extra: Partial<ProbeCheck> = {}): ProbeCheck =>
  ({ id, service: 'web', kind: 'tcp', host: '127.0.0.1', port: 22, ...extra }) as ProbeCheck;

describe('shardOf', () => {
  it.each([
    // FNV-1a 32-bit: fixed values, so a check never moves between versions.
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ])('hashId(%j) is FNV-1a (%i)', (id, h) => {
    expect(hashId(id)).toBe(h);
  });

  it.each([
    ['one shard holds everything', 'data-sync-ssh', 1, 0],
    ['16 shards', 'foobar', 16, 0xbf9cf968 % 16],
    ['7 shards', 'a', 7, 0xe40c292c % 7],
  ])('%s', (_, id, shards, expected) => {
    expect(shardOf(id, shards)).toBe(expected);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a shard count of %s, naming it', (n) => {
    expect(() => shardOf('x', n)).toThrow(/shard count must be a whole number/);
  });

  it('property: always in range, and the same for the same id and count', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 1024 }), (id, n) => {
        const k = shardOf(id, n);
        return Number.isInteger(k) && k >= 0 && k < n && k === shardOf(id, n);
      }),
    );
  });

  it('spreads 10,000 generated check ids over 16 shards within ±15 % of even', () => {
    const counts = new Array<number>(defaultProbeShards).fill(0);
    for (let i = 0; i < 10_000; i++) counts[shardOf(`svc-${i}-tcp`, defaultProbeShards)]!++;
    const even = 10_000 / defaultProbeShards;
    expect(Math.min(...counts)).toBeGreaterThan(even * 0.85);
    expect(Math.max(...counts)).toBeLessThan(even * 1.15);
  });

  it('shard workflow ids are per task queue', () => {
    expect(shardWorkflowId('incidents', 3)).toBe('probe-shard-incidents-3');
    expect(shardWorkflowId('a', 1)).not.toBe(shardWorkflowId('b', 1));
  });
});

describe('assignShards', () => {
  it('property: every check is in exactly one shard, its own, in configuration order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 20 }),
        (ids, n) => {
          const out = assignShards(
            ids.map((id) => tcp(id)),
            n,
          );
          const seen = [...out.entries()].flatMap(([k, list]) => {
            expect(list.length).toBeGreaterThan(0);
            for (const c of list) expect(shardOf(c.id, n)).toBe(k);
            expect(list.map((c) => ids.indexOf(c.id))).toEqual(
              [...list.map((c) => ids.indexOf(c.id))].sort((a, b) => a - b),
            );
            return list.map((c) => c.id);
          });
          expect([...seen].sort()).toEqual([...ids].sort());
        },
      ),
    );
  });

  it(`a shard at the limit (${maxChecksPerShard} checks) is accepted; one more is refused with what to change`, () => {
    const at = Array.from({ length: maxChecksPerShard }, (_, i) => tcp(`c${i}`));
    expect(assignShards(at, 1).get(0)).toHaveLength(maxChecksPerShard);
    expect(() => assignShards([...at, tcp('one-more')], 1)).toThrow(
      `probe shard 0 would hold ${maxChecksPerShard + 1} checks (at most ${maxChecksPerShard}): raise PROBE_SHARDS (now 1)`,
    );
  });
});

describe('probePlan', () => {
  it.each([
    [
      'defaults: 30 s, 10 s, 3 down, 2 up',
      tcp('a'),
      { intervalMs: 30_000, timeoutMs: 10_000, thresholds: { failThreshold: 3, recoverThreshold: 2 } },
    ],
    [
      'given: 5 s × 3, 5 s timeout, 1 up',
      tcp('b', { interval: '5s', timeout: '5s', failThreshold: 3, recoverThreshold: 1 }),
      { intervalMs: 5000, timeoutMs: 5000, thresholds: { failThreshold: 3, recoverThreshold: 1 } },
    ],
  ])('%s', (_, check, plan) => {
    expect(probePlan(check)).toEqual(plan);
  });
});
