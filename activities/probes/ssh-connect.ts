/**
 * The SSH connection shared by the `ssh` and `sftpFileAge` probes: TCP connect, handshake, host-key
 * check against the pinned fingerprint, optional authentication, all under the probe's hard deadline,
 * and the connection always closed afterwards.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { readFile } from 'node:fs/promises';
import ssh2 from 'ssh2';
import type { AuthenticationType, Client as SshClient, ConnectConfig } from 'ssh2';
import type { SshCheck } from '../../domain/config-schema.js';
import { ProbeError, errnoOf, errorMessage, hostPort, networkError, withDeadline } from './common.js';
import type { ProbeContext } from './types.js';
import { probeLookups } from './dns-cache.js';

const { Client, utils } = ssh2;

/** The `auth` block of an ssh or sftpFileAge check. */
export type SshAuth = NonNullable<SshCheck['auth']>;

/** Where to connect and how. Without `auth` the connection ends after the handshake. */
export interface SshTarget {
  host: string;
  port: number;
  /** `SHA256:...` as `ssh-keygen -lf` prints it; when set, any other host key fails the probe. */
  fingerprint?: string;
  auth?: SshAuth;
}

/** An open SSH connection, handed to the callback of {@link withSsh}. */
export interface SshSession {
  client: SshClient;
  /** `host:port`, for messages. */
  where: string;
  /** Fingerprint of the host key the server presented. */
  fingerprint: string;
  /** The authenticated user, or undefined when only the handshake was done. */
  username: string | undefined;
  /** Names what the probe is doing now; the timeout message says it ("... while running `df`"). */
  step(description: string): void;
}

/** `SHA256:` + unpadded base64 of the SHA-256 of the raw host key blob (what `ssh-keygen -lf` prints). */
export function sshFingerprint(hostKey: Buffer): string {
  return `SHA256:${createHash('sha256').update(hostKey).digest('base64').replace(/=+$/, '')}`;
}

interface Credentials {
  username: string;
  privateKey?: Buffer | string;
  password?: string;
  methods: AuthenticationType[];
}

/** An env value holding a key: as is, with `\n` escapes, or base64 of the key file. */
function keyFromEnv(value: string): string | Buffer {
  if (value.includes('-----BEGIN')) return value.includes('\n') ? value : value.replace(/\\n/g, '\n');
  const decoded = Buffer.from(value, 'base64');
  return decoded.includes('-----BEGIN') ? decoded : value;
}

async function loadCredentials(auth: SshAuth, env: ProbeContext['env']): Promise<Credentials> {
  const creds: Credentials = { username: auth.username, methods: [] };
  let keySource: string | undefined;
  if (auth.privateKeyPath !== undefined) {
    keySource = `file ${auth.privateKeyPath}`;
    try {
      creds.privateKey = await readFile(auth.privateKeyPath);
    } catch (err) {
      throw new ProbeError(
        'auth-config',
        `cannot read the private key file ${auth.privateKeyPath} (${errnoOf(err) ?? errorMessage(err)})`,
      );
    }
  } else if (auth.privateKeyEnv !== undefined) {
    keySource = `environment variable ${auth.privateKeyEnv}`;
    const value = env[auth.privateKeyEnv];
    if (!value)
      throw new ProbeError(
        'auth-config',
        `the environment variable ${auth.privateKeyEnv} (private key) is not set`,
      );
    creds.privateKey = keyFromEnv(value);
  }
  if (creds.privateKey !== undefined) {
    const parsed = utils.parseKey(creds.privateKey);
    if (parsed instanceof Error || !parsed.isPrivateKey()) {
      const why = parsed instanceof Error ? parsed.message : 'it is not a private key';
      throw new ProbeError('auth-config', `the private key from ${keySource} cannot be used: ${why}`);
    }
    creds.methods.push('publickey');
  }
  if (auth.passwordEnv !== undefined) {
    const value = env[auth.passwordEnv];
    if (!value)
      throw new ProbeError(
        'auth-config',
        `the environment variable ${auth.passwordEnv} (password) is not set`,
      );
    creds.password = value;
    creds.methods.push('password');
  }
  if (creds.methods.length === 0) {
    throw new ProbeError(
      'auth-config',
      `auth for user "${auth.username}" names neither a private key nor a password`,
    );
  }
  return creds;
}

/**
 * Connects (and, with `target.auth`, authenticates), runs `use` on the connection and closes it.
 * Everything, `use` included, runs under `ctx.timeoutMs`. Failures reject with a ProbeError:
 * `refused`, `dns`, `unreachable`, `reset`, `timeout`, `hostkey-mismatch`, `auth-failed`,
 * `auth-config`, `closed`, `ssh-error`.
 */
export function withSsh<T>(
  target: SshTarget,
  ctx: ProbeContext,
  use: (session: SshSession) => Promise<T>,
): Promise<T> {
  const where = hostPort(target.host, target.port);
  let step = 'connecting (TCP)';
  return withDeadline(
    ctx,
    (limit) => `no answer from ${where} within ${limit} while ${step}`,
    async (signal) => {
      const creds = target.auth ? await loadCredentials(target.auth, ctx.env) : undefined;
      const client = new Client();
      let seen: string | undefined;
      let hostKeyRejected = false;

      const toProbeError = (err: Error & { level?: string }): ProbeError => {
        if (hostKeyRejected) {
          return new ProbeError(
            'hostkey-mismatch',
            `the host key of ${where} is ${seen}, but ${target.fingerprint} is pinned: the server was reinstalled or the connection is being intercepted`,
          );
        }
        if (err.level === 'client-authentication') {
          return new ProbeError(
            'auth-failed',
            `${where} rejected authentication as "${creds?.username}" (tried ${creds?.methods.join(', ')})`,
          );
        }
        if (err.level === 'client-timeout')
          return new ProbeError('timeout', `${where} stopped answering while ${step}`);
        if (err.message === 'Connection lost before handshake') {
          return new ProbeError(
            'closed',
            `${where} closed the connection before the SSH handshake (is it an SSH server?)`,
          );
        }
        return (
          networkError(err, target.host, target.port) ??
          new ProbeError('ssh-error', `SSH with ${where} failed while ${step}: ${err.message}`)
        );
      };

      // One persistent failure signal: any error or close, at any stage, ends the probe.
      let fail: (err: ProbeError) => void = () => undefined;
      const failed = new Promise<never>((_, reject) => {
        fail = reject;
      });
      failed.catch(() => undefined);
      client.on('error', (err) => fail(toProbeError(err)));
      client.on('close', () =>
        fail(new ProbeError('closed', `${where} closed the connection while ${step}`)),
      );
      client.on('connect', () => {
        step = 'waiting for the SSH handshake (TCP connected, but no SSH key exchange)';
      });
      client.on('handshake', () => {
        step = creds ? `authenticating as "${creds.username}"` : 'finishing the SSH handshake';
      });
      const connected = new Promise<void>((resolve) => {
        if (creds) client.once('ready', () => resolve());
        else client.once('handshake', () => resolve());
      });
      const onAbort = (): void => {
        client.destroy();
      };
      signal.addEventListener('abort', onAbort, { once: true });

      const config: ConnectConfig = {
        // Our own socket, so the name is looked up through the worker's shared cache
        // (activities/probes/dns-cache.ts) with Node's happy-eyeballs connect; ssh2 reports its
        // errors as its own ('client-socket'), mapped below like any other.
        sock: net.connect({ host: target.host, port: target.port, lookup: probeLookups.lookup }),
        host: target.host,
        port: target.port,
        // Our own deadline ends the probe; ssh2's must not fire first with a vaguer message.
        readyTimeout: ctx.timeoutMs + 5000,
        hostVerifier: (key: Buffer): boolean => {
          seen = sshFingerprint(key);
          hostKeyRejected = target.fingerprint !== undefined && seen !== target.fingerprint;
          return !hostKeyRejected;
        },
        username: creds?.username ?? 'probe',
        ...(creds
          ? { privateKey: creds.privateKey, password: creds.password, authHandler: creds.methods }
          : // Handshake only: the connection is ended right after it, no authentication is attempted.
            { authHandler: () => undefined }),
      };
      try {
        client.connect(config);
        client.setNoDelay(true); // SSH is chatty small packets: Nagle would add ~40 ms per round trip
        await Promise.race([connected, failed]);
        step = 'connected';
        return await Promise.race([
          use({
            client,
            where,
            fingerprint: seen ?? '',
            username: creds?.username,
            step: (description) => {
              step = description;
            },
          }),
          failed,
        ]);
      } finally {
        signal.removeEventListener('abort', onAbort);
        closeClient(client);
      }
    },
  );
}

/** Ends the connection politely, and for sure after a second. */
function closeClient(client: SshClient): void {
  const force = setTimeout(() => client.destroy(), 1000);
  force.unref();
  client.once('close', () => clearTimeout(force));
  client.end();
}
