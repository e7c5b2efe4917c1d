/**
 * L4: a token or key shorter than 24 characters is refused at start-up, with an error naming where
 * it came from (`STAFF_TOKENS`, `integrations[0].keyEnv`, `checks[0].tokenEnv`), never the value.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfig } from '../../config/load.js';
import { parseStaffTokens, runtimeSettings } from '../../config/runtime.js';

const long = 'k'.repeat(24);

const issuesOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
};

const yaml = `
contacts: [{ id: kari, name: Kari, email: kari@x.no }]
policies: [{ id: p, levels: [{ notify: [kari], ackTimeout: 1m }], acknowledgementTimeout: 1h }]
services: [{ id: s, name: S, owner: kari, policy: p }]
checks: [{ id: hb, service: s, kind: heartbeat, period: 1d, tokenEnv: HB_TOKEN }]
integrations:
  - { id: pd, kind: pagerduty, service: s, keyEnv: PD_KEY }
  - { id: am, kind: alertmanager, service: s, keyEnv: AM_TOKEN }
`;

describe('secrets shorter than 24 characters', () => {
  it('STAFF_TOKENS: "kari=a" stops start-up, naming the variable and the contact, not the token', () => {
    for (const raw of ['kari=a', `ola=${long},kari=${'x'.repeat(23)}`]) {
      expect(() => parseStaffTokens(raw)).toThrow(
        /^STAFF_TOKENS: the token of "kari" is shorter than 24 characters/,
      );
      expect(() => runtimeSettings({ STAFF_TOKENS: raw })).toThrow(/^STAFF_TOKENS: /);
    }
    try {
      parseStaffTokens('kari=s3cr3t');
    } catch (e) {
      expect((e as Error).message).not.toContain('s3cr3t');
    }
    expect(parseStaffTokens(`kari=${long}`)).toEqual(new Map([[long, 'kari']]));
  });

  it('keyEnv and tokenEnv values: an error naming the path when set and short; fine when long or unset', () => {
    expect(
      issuesOf(() =>
        parseConfig(yaml, 'test.yaml', { PD_KEY: 'short', HB_TOKEN: 'also-short', AM_TOKEN: long }),
      ),
    ).toEqual([
      'integrations[0].keyEnv: PD_KEY is shorter than 24 characters (use e.g. openssl rand -base64 32)',
      'checks[0].tokenEnv: HB_TOKEN is shorter than 24 characters (use e.g. openssl rand -base64 32)',
    ]);
    expect(issuesOf(() => parseConfig(yaml, 'test.yaml', { PD_KEY: long, HB_TOKEN: long }))).toEqual([]);
    // The shipped example, loaded the way the processes load it (from the environment).
    expect(issuesOf(() => loadConfigFile('config/example.yaml', { ALERTMANAGER_TOKEN: 'a' }))).toEqual([
      'integrations[1].keyEnv: ALERTMANAGER_TOKEN is shorter than 24 characters (use e.g. openssl rand -base64 32)',
    ]);
  });

  it('the API process does not start with a short staff token or integration key', () => {
    const run = (env: Record<string, string>) =>
      spawnSync(path.resolve('node_modules/.bin/tsx'), ['api/server.ts'], {
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: '127.0.0.1:1',
          DATABASE_URL: 'postgres://127.0.0.1:1/x',
          ...env,
        },
        encoding: 'utf8',
        timeout: 30_000,
      });
    const staff = run({ STAFF_TOKENS: 'kari=a' });
    expect(staff.status).not.toBe(0);
    expect(staff.stderr).toContain('STAFF_TOKENS: the token of "kari" is shorter than 24 characters');
    const key = run({ STAFF_TOKENS: '', PAGERDUTY_ROUTING_KEY: 'tiny' });
    expect(key.status).toBe(2);
    expect(key.stderr).toContain(
      'integrations[0].keyEnv: PAGERDUTY_ROUTING_KEY is shorter than 24 characters',
    );
    expect(key.stderr).not.toContain('tiny');
  });
});
