import { describe, expect, it } from 'vitest';
import { runtimeSettings } from '../../config/runtime.js';
import { defaultProbeShards } from '../../domain/probe-shards.js';

describe('worker settings from the environment', () => {
  it('defaults: 16 probe shards; the cache size left to the worker', () => {
    const s = runtimeSettings({});
    expect(s.probeShards).toBe(defaultProbeShards);
    expect(s.cachedWorkflows).toBeUndefined();
  });

  it.each([
    ['PROBE_SHARDS', '1', 'probeShards', 1],
    ['PROBE_SHARDS', '1024', 'probeShards', 1024],
    ['WORKER_CACHED_WORKFLOWS', '1', 'cachedWorkflows', 1],
    ['WORKER_CACHED_WORKFLOWS', '100000', 'cachedWorkflows', 100_000],
  ] as const)('%s=%s is taken (a limit)', (name, value, key, expected) => {
    expect(runtimeSettings({ [name]: value })[key]).toBe(expected);
  });

  it.each([
    ['PROBE_SHARDS', '0', 'PROBE_SHARDS: "0" is not a whole number from 1 to 1024'],
    ['PROBE_SHARDS', '1025', 'PROBE_SHARDS: "1025" is not a whole number from 1 to 1024'],
    ['PROBE_SHARDS', '2.5', 'PROBE_SHARDS: "2.5" is not a whole number from 1 to 1024'],
    ['WORKER_CACHED_WORKFLOWS', '0', 'WORKER_CACHED_WORKFLOWS: "0" is not a whole number from 1 to 100000'],
    [
      'WORKER_CACHED_WORKFLOWS',
      'lots',
      'WORKER_CACHED_WORKFLOWS: "lots" is not a whole number from 1 to 100000',
    ],
  ])('%s=%s is refused, naming the variable', (name, value, message) => {
    expect(() => runtimeSettings({ [name]: value })).toThrow(message);
  });
});
