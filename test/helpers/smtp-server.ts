/**
 * A real SMTP server for tests (the `smtp-server` package) that records what it receives, and can
 * be made to refuse connections or reject the next message. By default it offers no STARTTLS, so its
 * `url` says `?tls=off` (the notifier requires TLS otherwise); with `tls: {key, cert}` it offers
 * STARTTLS with that certificate and its `url` is a plain `smtp://` one.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerSession } from 'smtp-server';

export interface ReceivedMail {
  /** Envelope recipients (RCPT TO), what the server actually accepted the mail for. */
  to: string[];
  from: string;
  subject: string;
  text: string;
  html?: string;
  messageId: string;
  /** Lower-case header name → unfolded value (repeated headers joined with a newline). */
  headers: Record<string, string>;
  attachments: { filename: string; contentType: string; content: Buffer }[];
  receivedAt: Date;
  /** The session was upgraded with STARTTLS (or began with TLS). */
  secure: boolean;
  /** The user the client authenticated as, if it did. */
  user?: string;
}

export interface TestSmtpServer {
  port: number;
  /** `smtp://127.0.0.1:<port>?tls=off`, or with `tls`: `smtp://localhost:<port>` */
  url: string;
  messages: ReceivedMail[];
  waitFor(pred: (m: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  waitForCount(pred: (m: ReceivedMail) => boolean, n: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** Stop listening: connections are refused until `accept()`. */
  refuse(): Promise<void>;
  /** Listen again on the same port. */
  accept(): Promise<void>;
  /** Answer the next DATA (or, with `at: 'rcpt'`, the next RCPT TO) with this SMTP error. */
  rejectNext(code: number, message: string, at?: 'data' | 'rcpt'): void;
  close(): Promise<void>;
}

interface Rejection {
  code: number;
  message: string;
  at: 'data' | 'rcpt';
}

function smtpError(r: Rejection): Error {
  return Object.assign(new Error(r.message), { responseCode: r.code });
}

function headerMap(lines: readonly { key: string; line: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, line } of lines) {
    const value = line
      .slice(line.indexOf(':') + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
    out[key] = out[key] === undefined ? value : `${out[key]}\n${value}`;
  }
  return out;
}

export interface SmtpServerOptions {
  /** Offer STARTTLS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
}

export async function startSmtpServer(o: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  const rejections: Rejection[] = [];
  const listeners = new Set<() => void>();
  let server: SMTPServer | undefined;
  let port = 0;

  const takeRejection = (at: Rejection['at']): Rejection | undefined => {
    const i = rejections.findIndex((r) => r.at === at);
    return i < 0 ? undefined : rejections.splice(i, 1)[0];
  };

  const create = () =>
    new SMTPServer({
      authOptional: true,
      allowInsecureAuth: true,
      ...(o.tls ? { key: o.tls.key, cert: o.tls.cert } : { disabledCommands: ['STARTTLS'] }),
      logger: false,
      closeTimeout: 200,
      onAuth(auth, _session, cb) {
        cb(null, { user: auth.username ?? 'anonymous' });
      },
      onRcptTo(_address, _session, cb) {
        const r = takeRejection('rcpt');
        cb(r ? smtpError(r) : null);
      },
      onData(stream, session: SMTPServerSession, cb) {
        const r = takeRejection('data');
        if (r) {
          stream.on('end', () => cb(smtpError(r)));
          stream.resume();
          return;
        }
        simpleParser(stream).then(
          (parsed) => {
            messages.push({
              to: session.envelope.rcptTo.map((a) => a.address),
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              ...(parsed.html ? { html: parsed.html } : {}),
              messageId: parsed.messageId ?? '',
              headers: headerMap(parsed.headerLines),
              attachments: parsed.attachments.map((a) => ({
                filename: a.filename ?? '',
                contentType: a.contentType,
                content: a.content,
              })),
              receivedAt: new Date(),
              secure: session.secure,
              ...(session.user ? { user: String(session.user) } : {}),
            });
            // Record before answering 250, so a resolved send means the mail is in `messages`.
            for (const l of listeners) l();
            cb();
          },
          (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
        );
      },
    });

  const listen = async () => {
    const s = create();
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.server.off('error', reject);
        resolve();
      });
    });
    port = (s.server.address() as AddressInfo).port;
    server = s;
  };

  const stop = async () => {
    const s = server;
    server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  const subjects = () => `received so far: [${messages.map((m) => JSON.stringify(m.subject)).join(', ')}]`;

  const waitForCount = (pred: (m: ReceivedMail) => boolean, n: number, timeoutMs = 10_000) =>
    new Promise<ReceivedMail[]>((resolve, reject) => {
      const check = () => {
        const found = messages.filter(pred);
        if (found.length < n) return false;
        done();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`test SMTP server: no ${n} matching mail(s) within ${timeoutMs}ms; ${subjects()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      if (!check()) listeners.add(check);
    });

  await listen();

  return {
    port,
    url: o.tls ? `smtp://localhost:${port}` : `smtp://127.0.0.1:${port}?tls=off`,
    messages,
    waitFor: async (pred, timeoutMs = 10_000) => {
      const [first] = await waitForCount(pred, 1, timeoutMs);
      return first!;
    },
    waitForCount,
    refuse: stop,
    accept: async () => {
      if (!server) await listen();
    },
    rejectNext(code, message, at = 'data') {
      rejections.push({ code, message, at });
    },
    close: stop,
  };
}
