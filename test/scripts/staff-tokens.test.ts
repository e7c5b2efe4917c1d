import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../config/load.js';
import { parseStaffTokens } from '../../config/runtime.js';
import { ensureStaffTokens } from '../../scripts/staff-tokens.js';

describe('npm start: a staff token per contact', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const config = loadConfigFile('config/example.yaml', {});

  it('writes one 0600 token file per contact of the example config, kept across starts', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tokens-'));
    dirs.push(dir);
    const first = ensureStaffTokens(dir, config);
    const again = ensureStaffTokens(dir, config);
    expect(again.staffTokens).toBe(first.staffTokens);
    const parsed = parseStaffTokens(first.staffTokens);
    expect([...parsed.values()].sort()).toEqual(config.contacts.map((c) => c.id).sort());
    expect(statSync(first.folder).mode & 0o777).toBe(0o700);
    for (const c of config.contacts) {
      const file = path.join(first.folder, c.id);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(parsed.get(readFileSync(file, 'utf8').trim())).toBe(c.id);
    }
    expect(first.owner).toBe('kari');
    expect(readFileSync(path.join(dir, 'staff-token'), 'utf8').trim()).toBe(
      readFileSync(path.join(first.folder, 'kari'), 'utf8').trim(),
    );
  });

  it("keeps an existing data/staff-token as the owner's token", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tokens-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, 'staff-token'), 'an-older-token-of-kari-000000001', { mode: 0o600 });
    const t = ensureStaffTokens(dir, config);
    expect(parseStaffTokens(t.staffTokens).get('an-older-token-of-kari-000000001')).toBe('kari');
  });
});
