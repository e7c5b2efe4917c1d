/**
 * Email notifier: real SMTP when `smtpUrl` is set, otherwise RFC 5322 `.eml` files in an outbox folder
 * (the embedded default, where no mail server exists). Idempotent through a small ledger on disk.
 */
import { createHash, randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { ApplicationFailure } from '@temporalio/common';
import nodemailer from 'nodemailer';
import type { NodemailerError, SendMailOptions, SMTPSentMessageInfo } from 'nodemailer';
import type { Notifier, NotifierResult } from './types.js';
import { redactUrl } from '../../domain/redact.js';

export interface OutgoingMail {
  /** Stable across retries; the Message-ID and the ledger entry derive from it. */
  idempotencyKey: string;
  to: { name?: string; email: string }[];
  subject: string;
  text: string;
  html?: string;
  attachments?: { filename: string; content: string; contentType: string }[];
  headers?: Record<string, string>;
  /** Ask the activity to add a signed one-click acknowledge link for this recipient (page mails). */
  ackLink?: { incidentId: string; recipientId: string };
}

export interface SendResult extends NotifierResult {
  transport: 'smtp' | 'outbox';
  /** Only in outbox mode: where the `.eml` file is. */
  outboxPath?: string;
  /** Recipients the SMTP server refused while it accepted others (the mail still counts as sent). */
  rejected?: string[];
}

export interface EmailNotifierDeps {
  /**
   * `smtp://user:pass@host:587` (STARTTLS required), `smtps://user:pass@host:465` (TLS on connect), or
   * `smtp://host:1025?tls=off` (cleartext, said explicitly: a local mail catcher); unset → outbox
   * mode. A secret: never logged. Certificates are always verified.
   */
  smtpUrl?: string;
  /** Extra TLS options for the SMTP connection (e.g. `ca` for a private certificate authority). */
  tls?: ConnectionOptions;
  outboxDir: string;
  ledgerDir: string;
  from: string;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export type EmailNotifier = Notifier<OutgoingMail, SendResult>;

export const emailPermanentFailure = 'EmailPermanentFailure';
export const emailTransientFailure = 'EmailTransientFailure';

interface LedgerEntry {
  idempotencyKey: string;
  messageId: string;
  sentAt: string;
  transport: SendResult['transport'];
  outboxPath?: string;
}

/** The URL with its password replaced by `***` (`smtp://user:***@host:587`); safe to log. */
export { redactUrl };

/** sha256 hex of the idempotency key: the ledger file name and the Message-ID's local part. */
function keyHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function messageIdFor(idempotencyKey: string): string {
  return `<${keyHash(idempotencyKey)}@incident-orchestrator>`;
}

function slug(s: string): string {
  const out = s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  return out || 'mail';
}

/**
 * Mail holds acknowledge links and incident details: files are the service user's alone (0600), and
 * so are the folders (0700), whatever the umask. A folder made by an older version is tightened too.
 */
const fileMode = 0o600;
const dirMode = 0o700;

async function privateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: dirMode });
  await chmod(path, dirMode);
}

/** Write to a temporary name and rename, so a reader never sees half a file. */
async function writeAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.${randomUUID()}.tmp`;
  try {
    await writeFile(tmp, data, { flag: 'wx', mode: fileMode });
    await chmod(tmp, fileMode); // the mode above is filtered by the umask; this is not
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function readLedger(path: string): Promise<LedgerEntry | undefined> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  // Written atomically, so it is whole; if someone edited it by hand, it still means "sent".
  try {
    return JSON.parse(raw) as LedgerEntry;
  } catch {
    return { idempotencyKey: '', messageId: '', sentAt: '', transport: 'smtp' };
  }
}

const emailPattern = /^[^\s@<>()[\],;:"\\]+@[^\s@<>()[\],;:"\\]+$/;

// Codes that carry no SMTP reply but will fail the same way on every retry.
const permanentCodes = new Set([
  'EENVELOPE',
  'EAUTH',
  'ENOAUTH',
  'ECONFIG',
  'EREQUIRETLS',
  'EMAXRECIPIENTS',
  'EFILEACCESS',
  'EURLACCESS',
]);

function isPermanent(err: NodemailerError): boolean {
  if (typeof err.responseCode === 'number') {
    // RFC 5321: 5yz is permanent, 4yz transient; 503 is a session-state error a new connection fixes.
    return err.permanent ?? (err.responseCode >= 500 && err.responseCode < 600 && err.responseCode !== 503);
  }
  return err.code !== undefined && permanentCodes.has(err.code);
}

export function createEmailNotifier(deps: EmailNotifierDeps): EmailNotifier {
  const log = deps.log ?? ((msg, fields) => console.log(msg, fields ?? {}));
  const secrets = smtpSecrets(deps.smtpUrl);
  /** Belt and braces: whatever a library put into a message, the password does not leave. */
  const scrub = (s: string): string => secrets.reduce((acc, secret) => acc.split(secret).join('***'), s);
  const target = deps.smtpUrl === undefined ? undefined : scrub(redactUrl(deps.smtpUrl));

  const configError = deps.smtpUrl === undefined ? undefined : validateSmtpUrl(deps.smtpUrl);
  if (configError) log('email: invalid SMTP_URL, every send will fail', { error: configError });

  const smtp =
    deps.smtpUrl !== undefined && !configError
      ? nodemailer.createTransport({
          ...smtpTransportOptions(deps.smtpUrl),
          ...(deps.tls ? { tls: deps.tls } : {}),
          // Fail fast inside the activity; Temporal's retry policy does the waiting.
          connectionTimeout: 10_000,
          greetingTimeout: 10_000,
          socketTimeout: 30_000,
          dnsTimeout: 10_000,
        })
      : undefined;
  const composer = smtp
    ? undefined
    : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });

  // Two concurrent sends of one key (a retry overlapping a slow attempt) run one after the other,
  // so the second finds the first one's ledger entry.
  const inFlight = new Map<string, Promise<unknown>>();

  function permanent(message: string, details: Record<string, unknown> = {}): ApplicationFailure {
    return ApplicationFailure.nonRetryable(scrub(message), emailPermanentFailure, details);
  }

  function fromSmtpError(err: unknown): ApplicationFailure {
    const e = (err ?? {}) as NodemailerError;
    const codes = [e.code, e.originalCode, e.responseCode].filter((c) => c !== undefined).join(' ');
    // The server answered STARTTLS with an error (it offers none): say what to do about it.
    const noStartTls =
      e.code === 'ETLS' && e.command === 'STARTTLS' && typeof e.responseCode === 'number'
        ? `the server offers no STARTTLS, and TLS is required (use smtps:// if it speaks TLS on connect, ` +
          `or add ?tls=off to SMTP_URL to send in cleartext, for a local mail catcher only)`
        : undefined;
    const message = scrub(
      `SMTP send via ${target} failed${codes ? ` (${codes})` : ''}: ${noStartTls ?? e.message ?? String(err)}`,
    );
    const details = { code: e.code, responseCode: e.responseCode, command: e.command };
    return isPermanent(e)
      ? ApplicationFailure.nonRetryable(message, emailPermanentFailure, details)
      : ApplicationFailure.retryable(message, emailTransientFailure, details);
  }

  function validate(mail: OutgoingMail): void {
    if (!mail.idempotencyKey) throw permanent('email: idempotencyKey is empty');
    if (mail.to.length === 0) throw permanent(`email "${mail.subject}": no recipients`);
    const bad = mail.to.filter((r) => !emailPattern.test(r.email)).map((r) => r.email);
    if (bad.length > 0)
      throw permanent(
        `email "${mail.subject}": invalid recipient ${bad.map((b) => JSON.stringify(b)).join(', ')}`,
      );
  }

  function compose(mail: OutgoingMail, messageId: string): SendMailOptions {
    const headers = Object.fromEntries(
      Object.entries(mail.headers ?? {}).filter(([name]) => name.toLowerCase() !== 'message-id'),
    );
    return {
      from: deps.from,
      to: mail.to.map((r) => (r.name ? { name: r.name, address: r.email } : r.email)),
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      attachments: mail.attachments?.map((a) => ({
        filename: a.filename,
        content: a.content,
        contentType: a.contentType,
      })),
      headers,
      messageId,
    };
  }

  async function deliver(mail: OutgoingMail): Promise<SendResult> {
    validate(mail);
    const hash = keyHash(mail.idempotencyKey);
    const messageId = `<${hash}@incident-orchestrator>`;
    const ledgerPath = join(deps.ledgerDir, `${hash}.json`);
    const to = mail.to.map((r) => r.email);

    const previous = await readLedger(ledgerPath);
    if (previous) {
      log('email: already sent, skipped', { messageId, to, subject: mail.subject, sentAt: previous.sentAt });
      return {
        transport: previous.transport,
        messageId,
        duplicate: true,
        ...(previous.outboxPath ? { outboxPath: previous.outboxPath } : {}),
      };
    }
    if (configError) throw permanent(configError);
    // Before sending: a folder we cannot write must fail the attempt, not a delivered mail.
    await privateDir(deps.ledgerDir);

    let result: SendResult;
    if (smtp) {
      let info: SMTPSentMessageInfo;
      try {
        info = await smtp.sendMail(compose(mail, messageId));
      } catch (err) {
        const failure = fromSmtpError(err);
        log('email: send failed', {
          to,
          subject: mail.subject,
          error: failure.message,
          retryable: !failure.nonRetryable,
        });
        throw failure;
      }
      const rejected = info.rejected.map(String);
      result = { transport: 'smtp', messageId, duplicate: false, ...(rejected.length ? { rejected } : {}) };
      log('email: sent', {
        via: target,
        messageId,
        to,
        subject: mail.subject,
        ...(rejected.length ? { rejected } : {}),
      });
    } else {
      await privateDir(deps.outboxDir);
      const info = await composer!.sendMail(compose(mail, messageId));
      const outboxPath = join(deps.outboxDir, `${hash.slice(0, 16)}-${slug(mail.subject)}.eml`);
      await writeAtomic(outboxPath, info.message as Buffer);
      result = { transport: 'outbox', messageId, duplicate: false, outboxPath };
      log('email: written to outbox', { path: outboxPath, messageId, to, subject: mail.subject });
    }

    const entry: LedgerEntry = {
      idempotencyKey: mail.idempotencyKey,
      messageId,
      sentAt: new Date().toISOString(),
      transport: result.transport,
      ...(result.outboxPath ? { outboxPath: result.outboxPath } : {}),
    };
    try {
      await writeAtomic(ledgerPath, `${JSON.stringify(entry)}\n`);
    } catch (err) {
      // The mail went out: failing now would make Temporal retry and deliver it a second time.
      log('email: sent, but the ledger entry could not be written', { messageId, error: scrub(String(err)) });
    }
    return result;
  }

  return {
    async send(mail) {
      const hash = keyHash(mail.idempotencyKey);
      const before = inFlight.get(hash) ?? Promise.resolve();
      const run = before.catch(() => undefined).then(() => deliver(mail));
      inFlight.set(hash, run);
      try {
        return await run;
      } finally {
        if (inFlight.get(hash) === run) inFlight.delete(hash);
      }
    },
    close() {
      smtp?.close();
      composer?.close();
    },
  };
}

/** The password as written in the URL and decoded, for scrubbing messages. */
function smtpSecrets(url: string | undefined): string[] {
  if (!url) return [];
  const raw = /\/\/[^/?#@:]*:(.*)@/.exec(url)?.[1];
  if (!raw) return [];
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // keep the raw form only
  }
  return [...new Set([raw, decoded])].filter((s) => s.length > 0);
}

/** How the connection is protected: TLS on connect, STARTTLS (required), or none (asked for). */
export type SmtpTls = 'implicit' | 'starttls' | 'off';

/** The query parameters SMTP_URL may carry; anything else (nodemailer's own options) is refused. */
const smtpUrlParams = new Set(['tls']);

export function smtpTlsMode(url: string): SmtpTls {
  const parsed = new URL(url);
  if (parsed.protocol === 'smtps:') return 'implicit';
  return parsed.searchParams.get('tls') === 'off' ? 'off' : 'starttls';
}

/**
 * The transport options for a valid SMTP URL. The query string is ours, never handed to nodemailer
 * (which would take `?ignoreTLS=true` or `?tls.rejectUnauthorized=false` from it).
 */
function smtpTransportOptions(url: string) {
  const parsed = new URL(url);
  const mode = smtpTlsMode(url);
  parsed.search = '';
  return {
    url: parsed.toString(),
    secure: mode === 'implicit',
    requireTLS: mode === 'starttls',
    ignoreTLS: mode === 'off',
  };
}

/** Undefined when usable, otherwise why not (without the URL's credentials). */
function validateSmtpUrl(url: string): string | undefined {
  const hint =
    'expected smtp://[user:pass@]host[:port] (STARTTLS), smtps://… (TLS on connect) or smtp://host:port?tls=off (cleartext)';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `SMTP_URL is not a valid URL (${hint})`;
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') {
    return `SMTP_URL has scheme "${parsed.protocol}" (${hint})`;
  }
  if (!parsed.hostname) return `SMTP_URL has no host (${hint})`;
  const unknown = [...parsed.searchParams.keys()].filter((k) => !smtpUrlParams.has(k));
  if (unknown.length > 0)
    return `SMTP_URL has unknown parameter${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => JSON.stringify(k)).join(', ')} (only tls=off is accepted)`;
  const tls = parsed.searchParams.getAll('tls');
  if (tls.length > 1 || (tls.length === 1 && tls[0] !== 'off'))
    return `SMTP_URL: tls=${tls.join(',')} is not an option (tls=off allows cleartext; without it TLS is required)`;
  if (tls.length === 1 && parsed.protocol === 'smtps:')
    return 'SMTP_URL: smtps:// always uses TLS; tls=off contradicts it';
  return undefined;
}
