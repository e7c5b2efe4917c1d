/**
 * Item 4 of #12: the OpenAPI document is the contract. schemathesis (installed by
 * scripts/schemathesis.ts from PyPI into a cached venv) generates requests from `/openapi.json` and
 * runs every check it has (`--checks all`: no 5xx, statuses and bodies as documented, content types,
 * headers, …) against the real API, once with a staff token and once with none. Its summary line
 * is printed into the test log (and so the CI log). One check is off for a few operations, each a
 * business refusal listed in the README (test/api/schemathesis.toml). Five examples per operation keep
 * the run near a minute and a half.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSchemathesis } from '../../scripts/schemathesis.js';
import { testConfig } from '../helpers/config.js';
import { startHarness, type Harness } from '../helpers/harness.js';

const maxExamples = process.env.SCHEMATHESIS_MAX_EXAMPLES ?? '5';

function schemathesis(
  bin: string,
  args: string[],
  cwd: string,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      // Its replay cache (.schemathesis/) goes into a temporary folder, not the checkout.
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_TELEMETRY: 'false', PYTHONUNBUFFERED: '1' },
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

/** schemathesis' closing line, e.g. "===== No issues found in 41.20s =====" or "===== 3 failures in … =====". */
const summaryOf = (out: string) =>
  out
    .split('\n')
    .filter((l) => /^=+ .* in [\d.]+s =+$/.test(l.trim()))
    .at(-1)
    ?.trim() ?? '(no summary line)';

describe('the OpenAPI document holds (schemathesis)', () => {
  let h: Harness;
  let bin = '';
  let base = '';
  let cwd = '';
  beforeAll(async () => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'schemathesis-'));
    bin = await ensureSchemathesis({ log: (l) => console.log(l) });
    h = await startHarness({
      config: testConfig().config,
      // Thousands of generated requests from one address: the limits themselves are tested elsewhere.
      rateLimits: {
        staff: { max: 1_000_000, timeWindow: 60_000 },
        reports: { max: 1_000_000, timeWindow: 60_000 },
        wrongKeys: { max: 1_000_000, timeWindow: 60_000 },
        wrongKeysGlobal: { max: 1_000_000, timeWindow: 60_000 },
      },
    });
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = h.app.server.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}`;
  }, 600_000);
  afterAll(async () => {
    await h?.close();
    if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
  });

  for (const who of ['with a staff token', 'without a token'] as const) {
    it(`all checks, ${who}: 0 failures`, { timeout: 600_000 }, async () => {
      const args = [
        // All checks, but one excluded for a few operations (each a README business refusal): in the
        // file, because a check named on the command line (`--checks all`) would override them.
        '--config-file',
        fileURLToPath(new URL('./schemathesis.toml', import.meta.url)),
        'run',
        `${base}/openapi.json`,
        '--max-examples',
        maxExamples,
        '--workers',
        '1',
        '--generation-deterministic',
        '--request-timeout',
        '20',
        ...(who === 'with a staff token' ? ['--header', `Authorization: Bearer token-kari`] : []),
      ];
      const r = await schemathesis(bin, args, cwd);
      const summary = summaryOf(r.out);
      const warnings = r.out.split('\n').filter((l) => l.trim().startsWith('⚠️'));
      console.log([`schemathesis (${who}): ${summary}`, ...warnings].join('\n'));
      if (r.code !== 0) console.log(r.out.slice(-20_000));
      expect(r.code, summary).toBe(0);
    });
  }
});
