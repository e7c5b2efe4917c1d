/**
 * A real SSH server for tests (ssh2's Server on 127.0.0.1): public-key and password users, exec of
 * configured commands, and an SFTP subsystem that serves configured files (stat/lstat/open/read).
 * It can be stopped (connections refused), started again on the same port, or replaced by a TCP
 * listener that accepts and never says a word (`hang()`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import ssh2 from 'ssh2';
import type { AuthContext, Connection, ParsedKey, SFTPWrapper } from 'ssh2';

const { Server, utils } = ssh2;

/** SFTP status codes (draft-ietf-secsh-filexfer). */
const SFTP_OK = 0;
const SFTP_EOF = 1;
const SFTP_NO_SUCH_FILE = 2;
const SFTP_FAILURE = 4;

export interface TestSshUser {
  username: string;
  /** OpenSSH public key line (`ssh-ed25519 AAAA...`) accepted for this user. */
  publicKey?: string;
  password?: string;
}

export interface TestSshFile {
  content: string;
  mtime: Date;
}

export interface TestSshCommand {
  exitCode: number;
  stdout?: string;
  stderr?: string;
}

export interface SshServerOptions {
  /** Default: a free port. */
  port?: number;
  /** Default: none, so every authentication attempt fails. */
  users?: TestSshUser[];
  /** Served over SFTP, by absolute path. */
  files?: Record<string, TestSshFile>;
  /** Exact command strings; anything else exits 127 with "command not found". */
  commands?: Record<string, TestSshCommand>;
}

export interface TestSshServer {
  readonly port: number;
  readonly host: '127.0.0.1';
  /** Host key fingerprint as `ssh-keygen -lf` prints it: `SHA256:...`. */
  readonly fingerprint: string;
  /** The host public key as an OpenSSH line (`ssh-ed25519 AAAA...`), e.g. for `ssh-keygen -lf`. */
  readonly hostPublicKey: string;
  /** The live maps: change them between probes (e.g. a file's mtime). */
  readonly files: Record<string, TestSshFile>;
  readonly commands: Record<string, TestSshCommand>;
  /** Every authentication attempt, in order (the password as the client sent it). */
  readonly authAttempts: { username: string; method: string; password?: string }[];
  /** Closes the listener and every open connection: connections are refused afterwards. */
  stop(): Promise<void>;
  /** Serves SSH again, on the same port. */
  start(): Promise<void>;
  /** Replaces the SSH server with a TCP listener on the same port that accepts and never sends a banner. */
  hang(): Promise<void>;
  /** Stops for good. */
  close(): Promise<void>;
}

/** A fresh ed25519 key pair for client authentication: OpenSSH private key and public key line. */
/**
 * ssh2's own generator now and then (about 1 in 400 here) writes an ed25519 key its parser rejects
 * as "Malformed OpenSSH private key"; draw again until the key parses, so tests are not flaky.
 */
function parseableKeyPair(): { private: string; public: string } {
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.private) instanceof Error)) return pair;
  }
}

export function generateClientKey(): { privateKey: string; publicKey: string } {
  const pair = parseableKeyPair();
  return { privateKey: pair.private, publicKey: pair.public };
}

function parse(key: string): ParsedKey {
  const parsed = utils.parseKey(key);
  if (parsed instanceof Error) throw parsed;
  return Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed;
}

function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

function authenticate(ctx: AuthContext, users: TestSshUser[]): void {
  const user = users.find((u) => u.username === ctx.username);
  const methods: ('publickey' | 'password')[] = [];
  if (user?.publicKey) methods.push('publickey');
  if (user?.password !== undefined) methods.push('password');
  if (
    user &&
    ctx.method === 'password' &&
    user.password !== undefined &&
    sameSecret(ctx.password, user.password)
  ) {
    return ctx.accept();
  }
  if (user?.publicKey && ctx.method === 'publickey') {
    const allowed = parse(user.publicKey);
    if (ctx.key.data.equals(allowed.getPublicSSH())) {
      if (!ctx.signature) return ctx.accept(); // the client asks whether this key would do
      if (ctx.blob && allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) return ctx.accept();
    }
  }
  ctx.reject(methods.length > 0 ? methods : ['publickey', 'password']);
}

function serveSftp(sftp: SFTPWrapper, files: Record<string, TestSshFile>): void {
  const handles = new Map<number, { path: string; file: TestSshFile }>();
  let nextHandle = 1;
  const attrs = (file: TestSshFile) => {
    const seconds = Math.floor(file.mtime.getTime() / 1000);
    return {
      mode: 0o100644,
      uid: 1000,
      gid: 1000,
      size: Buffer.byteLength(file.content),
      atime: seconds,
      mtime: seconds,
    };
  };
  const onStat = (reqId: number, path: string): void => {
    const file = files[path];
    if (file) sftp.attrs(reqId, attrs(file));
    else sftp.status(reqId, SFTP_NO_SUCH_FILE, 'No such file');
  };
  sftp.on('STAT', onStat);
  sftp.on('LSTAT', onStat);
  sftp.on('REALPATH', (reqId, path) => {
    const abs = path.startsWith('/') ? path : `/${path === '.' ? '' : path}`;
    const file = files[abs];
    const dir = { mode: 0o040755, uid: 1000, gid: 1000, size: 0, atime: 0, mtime: 0 };
    sftp.name(reqId, [{ filename: abs, longname: abs, attrs: file ? attrs(file) : dir }]);
  });
  sftp.on('OPEN', (reqId, path, flags) => {
    const file = files[path];
    if (!file) return sftp.status(reqId, SFTP_NO_SUCH_FILE, 'No such file');
    if (flags !== utils.sftp.OPEN_MODE.READ) return sftp.status(reqId, SFTP_FAILURE, 'read-only server');
    const id = nextHandle++;
    handles.set(id, { path, file });
    const handle = Buffer.alloc(4);
    handle.writeUInt32BE(id);
    sftp.handle(reqId, handle);
  });
  const lookup = (handle: Buffer) => (handle.length === 4 ? handles.get(handle.readUInt32BE(0)) : undefined);
  sftp.on('FSTAT', (reqId, handle) => {
    const open = lookup(handle);
    if (open) sftp.attrs(reqId, attrs(open.file));
    else sftp.status(reqId, SFTP_FAILURE, 'bad handle');
  });
  sftp.on('READ', (reqId, handle, offset, length) => {
    const open = lookup(handle);
    if (!open) return sftp.status(reqId, SFTP_FAILURE, 'bad handle');
    const data = Buffer.from(open.file.content);
    if (offset >= data.length) return sftp.status(reqId, SFTP_EOF);
    sftp.data(reqId, data.subarray(offset, offset + length));
  });
  sftp.on('CLOSE', (reqId, handle) => {
    const open = lookup(handle);
    if (!open) return sftp.status(reqId, SFTP_FAILURE, 'bad handle');
    handles.delete(handle.readUInt32BE(0));
    sftp.status(reqId, SFTP_OK);
  });
}

function serveClient(
  client: Connection,
  users: TestSshUser[],
  files: Record<string, TestSshFile>,
  commands: Record<string, TestSshCommand>,
  authAttempts: TestSshServer['authAttempts'],
): void {
  client.on('error', () => undefined); // probes hang up abruptly on purpose
  client.on('authentication', (ctx) => {
    authAttempts.push({
      username: ctx.username,
      method: ctx.method,
      ...(ctx.method === 'password' ? { password: ctx.password } : {}),
    });
    authenticate(ctx, users);
  });
  client.on('ready', () => {
    client.on('session', (acceptSession) => {
      const session = acceptSession();
      session.on('exec', (acceptExec, _reject, info) => {
        const stream = acceptExec();
        const command = commands[info.command];
        if (!command) {
          stream.stderr.write(`sh: ${info.command}: command not found\n`);
          stream.exit(127);
        } else {
          if (command.stdout) stream.write(command.stdout);
          if (command.stderr) stream.stderr.write(command.stderr);
          stream.exit(command.exitCode);
        }
        stream.end();
      });
      session.on('sftp', (acceptSftp) => serveSftp(acceptSftp(), files));
    });
  });
}

/** Starts the server on 127.0.0.1 and resolves once it listens. */
export async function startSshServer(opts: SshServerOptions = {}): Promise<TestSshServer> {
  const host = '127.0.0.1' as const;
  const users = opts.users ?? [];
  const files = opts.files ?? {};
  const commands = opts.commands ?? {};
  const authAttempts: TestSshServer['authAttempts'] = [];
  const hostKey = parseableKeyPair();
  const fingerprint = `SHA256:${createHash('sha256')
    .update(parse(hostKey.private).getPublicSSH())
    .digest('base64')
    .replace(/=+$/, '')}`;
  // The SSH server never listens itself: our own listener hands it the sockets, so that we can track them.
  const ssh = new Server({ hostKeys: [hostKey.private] }, (client) =>
    serveClient(client, users, files, commands, authAttempts),
  );

  let port = opts.port ?? 0;
  let listener: net.Server | undefined;
  const sockets = new Set<net.Socket>();

  const listen = async (mode: 'ssh' | 'hang'): Promise<void> => {
    await shutdown();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.setNoDelay(true);
      if (mode === 'ssh') ssh.injectSocket(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    port = (server.address() as net.AddressInfo).port;
    listener = server;
  };

  const shutdown = async (): Promise<void> => {
    const server = listener;
    listener = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await closed;
  };

  await listen('ssh');
  return {
    get port() {
      return port;
    },
    host,
    fingerprint,
    hostPublicKey: hostKey.public,
    files,
    commands,
    authAttempts,
    stop: shutdown,
    start: () => listen('ssh'),
    hang: () => listen('hang'),
    close: shutdown,
  };
}
