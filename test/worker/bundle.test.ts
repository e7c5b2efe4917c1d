/**
 * Every cached workflow instantiates the modules of the workflow bundle, so what the bundle holds is
 * memory per workflow: the configuration schema's validator library (typebox) once made each cached
 * workflow cost ~0.9 MiB (1,000 monitors: 1,197 MiB worker RSS; without it 667 MiB, benchmark 7).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';

describe('the workflow bundle', () => {
  const code = readFileSync(inject('workflowBundlePath'), 'utf8');
  it('holds the workflows but not the configuration schema or its validator', () => {
    expect(code).toContain('monitorWorkflow');
    expect(code).toContain('probeShardWorkflow');
    expect(code).not.toMatch(/node_modules\/typebox/);
    expect(code).not.toMatch(/domain\/config-schema/);
  });
});
