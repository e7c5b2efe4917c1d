import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SftpFileAgeCheck, SshCheck } from '../../../domain/config-schema.js';
import { runProbe } from '../../../activities/probes/index.js';
import { generateClientKey, startSshServer, type TestSshServer } from '../../helpers/ssh-server.js';

const clientKey = generateClientKey();
const otherKey = generateClientKey();
const wrongFingerprint = 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8';
const env = { PROBE_KEY: clientKey.privateKey, OTHER_KEY: otherKey.privateKey, PROBE_PASSWORD: 's3cret-pw' };

let server: TestSshServer;
let keyDir: string;

beforeAll(async () => {
  server = await startSshServer({
    users: [
      { username: 'probe', publicKey: clientKey.publicKey },
      { username: 'pw', password: 's3cret-pw' },
    ],
    commands: {
      true: { exitCode: 0, stdout: 'fine\n' },
      'check-disk': { exitCode: 2, stderr: 'disk /data is 97% full\n' },
    },
    files: {
      '/data/export.csv': { content: 'a,b\n1,2\n', mtime: new Date(Date.now() - 5 * 60_000) },
      '/data/old.csv': { content: 'x\n', mtime: new Date(Date.now() - 3 * 3_600_000) },
    },
  });
  keyDir = await mkdtemp(join(tmpdir(), 'probe-key-'));
  await writeFile(join(keyDir, 'id_ed25519'), clientKey.privateKey, { mode: 0o600 });
});

afterAll(async () => {
  await server.close();
  await rm(keyDir, { recursive: true, force: true });
});

const ssh = (over: Partial<SshCheck> = {}): SshCheck => ({
  id: 'ssh-check',
  service: 'sync',
  kind: 'ssh',
  host: server.host,
  port: server.port,
  expectExitCode: 0,
  ...over,
});

const sftp = (over: Partial<SftpFileAgeCheck> = {}): SftpFileAgeCheck => ({
  id: 'sftp-check',
  service: 'sync',
  kind: 'sftpFileAge',
  host: server.host,
  port: server.port,
  fingerprint: server.fingerprint,
  auth: { username: 'probe', privateKeyEnv: 'PROBE_KEY' },
  path: '/data/export.csv',
  maxAge: '1h',
  ...over,
});

describe('ssh probe', () => {
  it('completes the handshake with the pinned fingerprint (no auth configured)', async () => {
    const r = await runProbe(ssh({ fingerprint: server.fingerprint }), { timeoutMs: 5000 });
    expect(r).toMatchObject({ ok: true, code: 'ok' });
    expect(r.message).toContain(server.fingerprint);
    expect(r.latencyMs).toBeGreaterThan(0);
  });

  it('has a fingerprint in the pinned format', () => {
    expect(server.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  // Needs ssh-keygen (openssh-client, installed by .ci/run).
  it('computes the fingerprint exactly as ssh-keygen -lf prints it', async () => {
    const file = join(keyDir, 'host.pub');
    await writeFile(file, `${server.hostPublicKey}\n`);
    const keygen = execFileSync('ssh-keygen', ['-lf', file], { encoding: 'utf8' });
    expect(keygen.split(' ')[1]).toBe(server.fingerprint);
  });

  it('accepts a key in an environment variable with escaped newlines', async () => {
    const r = await runProbe(ssh({ auth: { username: 'probe', privateKeyEnv: 'ESCAPED_KEY' } }), {
      timeoutMs: 5000,
      env: { ESCAPED_KEY: clientKey.privateKey.replace(/\n/g, '\\n') },
    });
    expect(r).toMatchObject({ ok: true, code: 'ok' });
  });

  it('fails with hostkey-mismatch on a different fingerprint, even with valid auth', async () => {
    const r = await runProbe(
      ssh({ fingerprint: wrongFingerprint, auth: { username: 'probe', privateKeyEnv: 'PROBE_KEY' } }),
      { timeoutMs: 5000, env },
    );
    expect(r).toMatchObject({ ok: false, code: 'hostkey-mismatch' });
    expect(r.message).toContain(wrongFingerprint);
    expect(r.message).toContain(server.fingerprint);
  });

  it('authenticates with a key from the environment', async () => {
    const r = await runProbe(
      ssh({ fingerprint: server.fingerprint, auth: { username: 'probe', privateKeyEnv: 'PROBE_KEY' } }),
      { timeoutMs: 5000, env },
    );
    expect(r).toMatchObject({ ok: true, code: 'ok' });
    expect(r.message).toContain('authenticated as "probe"');
  });

  it('authenticates with a key file', async () => {
    const r = await runProbe(
      ssh({ auth: { username: 'probe', privateKeyPath: join(keyDir, 'id_ed25519') }, command: 'true' }),
      { timeoutMs: 5000, env: {} },
    );
    expect(r).toMatchObject({ ok: true, code: 'ok' });
  });

  it('authenticates with a password from the environment, and never shows it', async () => {
    const ok = await runProbe(ssh({ auth: { username: 'pw', passwordEnv: 'PROBE_PASSWORD' } }), {
      timeoutMs: 5000,
      env,
    });
    expect(ok).toMatchObject({ ok: true, code: 'ok' });
    const bad = await runProbe(ssh({ auth: { username: 'pw', passwordEnv: 'PROBE_PASSWORD' } }), {
      timeoutMs: 5000,
      env: { PROBE_PASSWORD: 'wrong-password' },
    });
    expect(bad).toMatchObject({ ok: false, code: 'auth-failed' });
    expect(bad.message).not.toContain('wrong-password');
  });

  it('fails with auth-failed on a key the server does not know', async () => {
    const r = await runProbe(ssh({ auth: { username: 'probe', privateKeyEnv: 'OTHER_KEY' } }), {
      timeoutMs: 5000,
      env,
    });
    expect(r).toMatchObject({ ok: false, code: 'auth-failed' });
    expect(r.message).toContain('"probe"');
    expect(r.message).toContain(`127.0.0.1:${server.port}`);
  });

  it('checks the exit code of a command', async () => {
    const auth = { username: 'probe', privateKeyEnv: 'PROBE_KEY' };
    const ok = await runProbe(ssh({ auth, command: 'true' }), { timeoutMs: 5000, env });
    expect(ok).toMatchObject({ ok: true, code: 'ok' });

    const failed = await runProbe(ssh({ auth, command: 'check-disk' }), { timeoutMs: 5000, env });
    expect(failed).toMatchObject({ ok: false, code: 'command-failed' });
    expect(failed.message).toContain('exited 2');
    expect(failed.message).toContain('97% full');

    const expected = await runProbe(ssh({ auth, command: 'check-disk', expectExitCode: 2 }), {
      timeoutMs: 5000,
      env,
    });
    expect(expected).toMatchObject({ ok: true, code: 'ok' });
  });

  it('names a missing key file (auth-config)', async () => {
    const r = await runProbe(
      ssh({ auth: { username: 'probe', privateKeyPath: '/nonexistent/id_ed25519' } }),
      {
        timeoutMs: 5000,
      },
    );
    expect(r).toMatchObject({ ok: false, code: 'auth-config' });
    expect(r.message).toContain('/nonexistent/id_ed25519');
  });

  it('says which environment variable is missing, without leaking any value', async () => {
    const r = await runProbe(ssh({ auth: { username: 'probe', privateKeyEnv: 'NOT_SET_KEY' } }), {
      timeoutMs: 5000,
      env,
    });
    expect(r).toMatchObject({ ok: false, code: 'auth-config' });
    expect(r.message).toContain('NOT_SET_KEY');
  });

  it('is refused after stop() and ok again after start() on the same port', async () => {
    const port = server.port;
    await server.stop();
    try {
      const r = await runProbe(ssh(), { timeoutMs: 5000 });
      expect(r).toMatchObject({ ok: false, code: 'refused' });
      expect(r.message).toContain(`connection refused by 127.0.0.1:${port}`);
    } finally {
      await server.start();
    }
    expect(server.port).toBe(port);
    const again = await runProbe(ssh({ fingerprint: server.fingerprint }), { timeoutMs: 5000 });
    expect(again).toMatchObject({ ok: true, code: 'ok' });
  });

  it('times out on a port that accepts TCP but never sends a banner', async () => {
    await server.hang();
    try {
      const started = performance.now();
      const r = await runProbe(ssh({ fingerprint: server.fingerprint }), { timeoutMs: 1000 });
      const took = performance.now() - started;
      expect(r).toMatchObject({ ok: false, code: 'timeout' });
      expect(r.message).toContain(`127.0.0.1:${server.port}`);
      expect(r.message).toContain('SSH handshake');
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(2000);
    } finally {
      await server.start();
    }
  });

  it('does not hang on a non-routable address (firewall dropping packets)', async () => {
    const started = performance.now();
    // Depending on the network: no answer (timeout), an ICMP error (unreachable), or, in sandboxes that
    // answer every SYN themselves, a connection closed without a banner. Never ok, never a hang.
    const r = await runProbe(ssh({ host: '10.255.255.1', port: 22 }), { timeoutMs: 1000 });
    expect(r.ok).toBe(false);
    expect(['timeout', 'unreachable', 'closed', 'reset']).toContain(r.code);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('the hard timeout covers authentication and the command too', async () => {
    await server.hang();
    try {
      const started = performance.now();
      const r = await runProbe(
        ssh({ auth: { username: 'probe', privateKeyEnv: 'PROBE_KEY' }, command: 'true', timeout: '1s' }),
        { env },
      );
      expect(r).toMatchObject({ ok: false, code: 'timeout' });
      expect(performance.now() - started).toBeLessThan(2000);
    } finally {
      await server.start();
    }
  });
});

describe('sftpFileAge probe', () => {
  it('is ok for a fresh file', async () => {
    const r = await runProbe(sftp(), { timeoutMs: 5000, env });
    expect(r).toMatchObject({ ok: true, code: 'ok' });
    expect(r.message).toContain('/data/export.csv');
  });

  it('is file-stale for a file older than maxAge, saying the age and the bound', async () => {
    const r = await runProbe(sftp({ path: '/data/old.csv' }), { timeoutMs: 5000, env });
    expect(r).toMatchObject({ ok: false, code: 'file-stale' });
    expect(r.message).toContain('3h');
    expect(r.message).toContain('1h');
  });

  it('follows changes of the mtime', async () => {
    const file = server.files['/data/old.csv'];
    if (!file) throw new Error('fixture missing');
    const before = file.mtime;
    file.mtime = new Date();
    try {
      expect(await runProbe(sftp({ path: '/data/old.csv' }), { timeoutMs: 5000, env })).toMatchObject({
        ok: true,
      });
    } finally {
      file.mtime = before;
    }
  });

  it('is file-missing for a path that does not exist', async () => {
    const r = await runProbe(sftp({ path: '/data/nope.csv' }), { timeoutMs: 5000, env });
    expect(r).toMatchObject({ ok: false, code: 'file-missing' });
    expect(r.message).toContain('/data/nope.csv');
  });

  it('checks the host key and the credentials like the ssh probe', async () => {
    expect(await runProbe(sftp({ fingerprint: wrongFingerprint }), { timeoutMs: 5000, env })).toMatchObject({
      ok: false,
      code: 'hostkey-mismatch',
    });
    expect(
      await runProbe(sftp({ auth: { username: 'probe', privateKeyEnv: 'OTHER_KEY' } }), {
        timeoutMs: 5000,
        env,
      }),
    ).toMatchObject({ ok: false, code: 'auth-failed' });
  });
});
