import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { simpleParser } from 'mailparser';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmailNotifier, redactUrl } from '../../../activities/notifiers/email.js';
import type { EmailNotifier, OutgoingMail } from '../../../activities/notifiers/email.js';
import { startSmtpServer } from '../../helpers/smtp-server.js';
import type { TestSmtpServer } from '../../helpers/smtp-server.js';

let smtp: TestSmtpServer;
let dir: string;
let logs: { msg: string; fields?: Record<string, unknown> }[];
const notifiers: EmailNotifier[] = [];
let seq = 0;

beforeAll(async () => {
  smtp = await startSmtpServer();
});
afterAll(async () => {
  await smtp.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'email-notifier-'));
  logs = [];
});
afterEach(async () => {
  for (const n of notifiers.splice(0)) n.close();
  await smtp.accept();
  await rm(dir, { recursive: true, force: true });
});

/** `null`: no SMTP_URL, outbox mode. */
function notifier(smtpUrl: string | null = smtp.url, tls?: { ca: string }): EmailNotifier {
  const n = createEmailNotifier({
    smtpUrl: smtpUrl ?? undefined,
    ...(tls ? { tls } : {}),
    outboxDir: join(dir, 'outbox'),
    ledgerDir: join(dir, 'ledger'),
    from: 'Incident Orchestrator <incidents@example.test>',
    log: (msg, fields) => logs.push({ msg, fields }),
  });
  notifiers.push(n);
  return n;
}

function mail(overrides: Partial<OutgoingMail> = {}): OutgoingMail {
  seq += 1;
  return {
    idempotencyKey: `incident-fs-canvas/page/level-1/cycle-0/anna/${seq}-${Math.random()}`,
    to: [{ name: 'Anna Ås', email: 'anna@example.test' }],
    subject: `[P1] FS → Canvas integration: DOWN — level 1 page #${seq}`,
    text: 'The student-system → Canvas integration is down.',
    attachments: [
      { filename: 'postmortem-inc-1.md', content: '# Postmortem\n', contentType: 'text/markdown' },
    ],
    headers: { 'X-Incident-Id': 'inc-1' },
    ...overrides,
  };
}

const ledgerFiles = async () => readdir(join(dir, 'ledger')).catch(() => [] as string[]);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('email notifier over SMTP', () => {
  it('delivers the mail with subject, recipients, attachment, headers and a Message-ID from the key', async () => {
    const m = mail({
      to: [{ name: 'Anna Ås', email: 'anna@example.test' }, { email: 'ops@example.test' }],
    });
    const result = await notifier().send(m);

    expect(result).toEqual({
      transport: 'smtp',
      messageId: `<${sha(m.idempotencyKey)}@incident-orchestrator>`,
      duplicate: false,
    });
    const got = await smtp.waitFor((r) => r.subject === m.subject);
    expect(got.to).toEqual(['anna@example.test', 'ops@example.test']);
    expect(got.messageId).toBe(result.messageId);
    expect(got.text.trim()).toBe(m.text);
    expect(got.headers['x-incident-id']).toBe('inc-1');
    expect(got.headers['to']).toContain('anna@example.test');
    expect(got.attachments).toHaveLength(1);
    expect(got.attachments[0]!.filename).toBe('postmortem-inc-1.md');
    expect(got.attachments[0]!.contentType).toBe('text/markdown');
    expect(got.attachments[0]!.content.toString('utf8')).toBe('# Postmortem\n');
    expect(logs.filter((l) => l.msg === 'email: sent')).toHaveLength(1);
  });

  it('sends a key once: the second send is a no-op that reports duplicate', async () => {
    const n = notifier();
    const m = mail();
    const first = await n.send(m);
    const second = await n.send(m);
    // A new notifier (a worker restart) reads the same ledger.
    const third = await notifier().send(m);

    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ ...first, duplicate: true });
    expect(third).toEqual({ ...first, duplicate: true });
    expect(smtp.messages.filter((r) => r.subject === m.subject)).toHaveLength(1);

    const files = await ledgerFiles();
    expect(files).toEqual([`${sha(m.idempotencyKey)}.json`]);
    const entry = JSON.parse(await readFile(join(dir, 'ledger', files[0]!), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(entry).toMatchObject({
      messageId: first.messageId,
      transport: 'smtp',
      idempotencyKey: m.idempotencyKey,
    });
    expect(Number.isNaN(Date.parse(String(entry['sentAt'])))).toBe(false);
  });

  it('delivers once when two sends of the same key overlap', async () => {
    const n = notifier();
    const m = mail();
    const results = await Promise.all([n.send(m), n.send(m), n.send(m)]);
    expect(results.map((r) => r.duplicate).sort()).toEqual([false, true, true]);
    expect(smtp.messages.filter((r) => r.subject === m.subject)).toHaveLength(1);
  });

  it('throws a retryable failure while the server refuses connections, records nothing, and delivers once on retry', async () => {
    const n = notifier();
    const m = mail();
    await smtp.refuse();

    const err = await failure(n.send(m));
    expect(err.type).toBe('EmailTransientFailure');
    expect(err.nonRetryable).toBe(false);
    expect(err.message).toContain(redactUrl(smtp.url)); // host and port; the query only as `?…`
    expect(await ledgerFiles()).toEqual([]);

    await smtp.accept();
    const retry = await n.send(m);
    expect(retry.duplicate).toBe(false);
    expect((await n.send(m)).duplicate).toBe(true);
    expect(smtp.messages.filter((r) => r.subject === m.subject)).toHaveLength(1);
  });

  it.each([
    { code: 550, at: 'data' as const, type: 'EmailPermanentFailure', nonRetryable: true },
    { code: 554, at: 'data' as const, type: 'EmailPermanentFailure', nonRetryable: true },
    { code: 550, at: 'rcpt' as const, type: 'EmailPermanentFailure', nonRetryable: true },
    { code: 451, at: 'data' as const, type: 'EmailTransientFailure', nonRetryable: false },
    { code: 452, at: 'rcpt' as const, type: 'EmailTransientFailure', nonRetryable: false },
  ])('maps an SMTP $code at $at to $type', async ({ code, at, type, nonRetryable }) => {
    const n = notifier();
    const m = mail();
    smtp.rejectNext(code, `rejected by test (${code})`, at);

    const err = await failure(n.send(m));
    expect(err.type).toBe(type);
    expect(err.nonRetryable).toBe(nonRetryable);
    expect(err.message).toContain(String(code));
    expect(await ledgerFiles()).toEqual([]);
    expect(smtp.messages.filter((r) => r.subject === m.subject)).toHaveLength(0);
  });

  it.each([
    ['a malformed address', [{ email: 'not-an-address' }]],
    ['an address with a space', [{ email: 'anna @example.test' }]],
    ['no recipients', []],
  ])('rejects %s as permanent without contacting the server', async (_label, to) => {
    const before = smtp.messages.length;
    const err = await failure(notifier().send(mail({ to })));
    expect(err.type).toBe('EmailPermanentFailure');
    expect(err.nonRetryable).toBe(true);
    expect(smtp.messages.length).toBe(before);
  });

  it.each(['not a url', 'http://mail.example.test', 'smtp://'])(
    'treats SMTP_URL %j as a permanent failure',
    async (url) => {
      const err = await failure(notifier(url).send(mail()));
      expect(err.type).toBe('EmailPermanentFailure');
      expect(err.nonRetryable).toBe(true);
      expect(err.message).toContain('SMTP_URL');
    },
  );
});

describe('test SMTP server', () => {
  it('names the subjects it received when waitFor times out', async () => {
    const m = mail();
    await notifier().send(m);
    const err = await smtp.waitFor((r) => r.subject === 'never sent', 50).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('received so far');
    expect((err as Error).message).toContain(JSON.stringify(m.subject));
  });
});

describe('no password leaves the notifier', () => {
  it('redacts the password when the server is unreachable', async () => {
    const url = `smtp://user:s3cret@127.0.0.1:${await closedPort()}`;
    const err = await failure(notifier(url).send(mail()));
    expect(err.nonRetryable).toBe(false);
    expect(err.message).toContain('smtp://user:***@127.0.0.1:');
    for (const text of [err.message, err.stack ?? '', JSON.stringify(err.details), JSON.stringify(logs)]) {
      expect(text).not.toContain('s3cret');
    }
  });

  it('redacts an encoded password in permanent failures from a real server', async () => {
    const url = smtp.url.replace('smtp://', 'smtp://user:s3cr%40t@');
    smtp.rejectNext(550, 'mailbox unavailable');
    const err = await failure(notifier(url).send(mail()));
    expect(err.nonRetryable).toBe(true);
    for (const text of [err.message, JSON.stringify(err.details), JSON.stringify(logs)]) {
      expect(text).not.toContain('s3cr');
    }
  });

  it('authenticates and delivers with credentials in the URL', async () => {
    const m = mail();
    await notifier(smtp.url.replace('smtp://', 'smtp://user:s3cret@')).send(m);
    await smtp.waitFor((r) => r.subject === m.subject);
    expect(JSON.stringify(logs)).not.toContain('s3cret');
  });

  it.each([
    ['smtp://user:s3cret@mail.example.test:587', 'smtp://user:***@mail.example.test:587'],
    ['smtps://u%40x:p%2Fa@ss@host', 'smtps://u%40x:***@host'],
    ['smtp://mail.example.test:25', 'smtp://mail.example.test:25'],
    ['smtp://apikey@mail.example.test', 'smtp://apikey@mail.example.test'],
  ])('redactUrl(%j) = %j', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});

describe('email notifier in outbox mode', () => {
  it('writes a parseable .eml named after the key, and is idempotent', async () => {
    const n = notifier(null);
    const m = mail({ html: '<p>The integration is <b>down</b>.</p>' });
    const first = await n.send(m);
    const second = await n.send(m);

    const hash = sha(m.idempotencyKey);
    expect(first).toMatchObject({
      transport: 'outbox',
      duplicate: false,
      messageId: `<${hash}@incident-orchestrator>`,
    });
    expect(first.outboxPath).toMatch(
      new RegExp(`/${hash.slice(0, 16)}-p1-fs-canvas-integration-down-level-1-page-\\d+\\.eml$`),
    );
    expect(second).toEqual({ ...first, duplicate: true });
    expect(await readdir(join(dir, 'outbox'))).toHaveLength(1);
    expect(logs.filter((l) => l.msg === 'email: written to outbox')).toEqual([
      expect.objectContaining({ fields: expect.objectContaining({ path: first.outboxPath }) }),
    ]);

    const raw = await readFile(first.outboxPath!);
    expect(raw.toString('latin1')).toContain('\r\n');
    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe(m.subject);
    expect(parsed.messageId).toBe(first.messageId);
    expect(parsed.text?.trim()).toBe(m.text);
    expect(parsed.html).toContain('<b>down</b>');
    expect(parsed.from?.text).toContain('incidents@example.test');
    const to = Array.isArray(parsed.to) ? parsed.to : [parsed.to];
    expect(to.flatMap((a) => a?.value.map((v) => v.address))).toEqual(['anna@example.test']);
    expect(parsed.attachments.map((a) => [a.filename, a.content.toString('utf8')])).toEqual([
      ['postmortem-inc-1.md', '# Postmortem\n'],
    ]);
    expect(parsed.headers.get('x-incident-id')).toBe('inc-1');
  });

  it('derives the same file name from the same key, with no timestamp in it', async () => {
    const m = mail();
    const a = await notifier(null).send(m);
    await rm(join(dir, 'ledger'), { recursive: true });
    const b = await notifier(null).send(m);
    expect(b.duplicate).toBe(false);
    expect(b.outboxPath).toBe(a.outboxPath);
  });
});

describe('SMTP requires TLS unless the URL says tls=off (M2)', () => {
  let tlsServer: TestSmtpServer;
  let cert: { key: string; cert: string };
  const plainUrl = () => smtp.url.replace('?tls=off', '');

  beforeAll(async () => {
    const d = await mkdtemp(join(tmpdir(), 'smtp-cert-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
        '-keyout',
        join(d, 'key.pem'),
        '-out',
        join(d, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    cert = {
      key: await readFile(join(d, 'key.pem'), 'utf8'),
      cert: await readFile(join(d, 'cert.pem'), 'utf8'),
    };
    await rm(d, { recursive: true, force: true });
    tlsServer = await startSmtpServer({ tls: cert });
  });
  afterAll(async () => {
    await tlsServer?.close();
  });

  it('refuses a server without STARTTLS with a clear, permanent error, and sends nothing (not even AUTH)', async () => {
    const m = mail();
    const url = plainUrl().replace('smtp://', 'smtp://user:s3cret@');
    const err = await failure(notifier(url).send(m));
    expect(err.type).toBe('EmailPermanentFailure');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(/offers no STARTTLS, and TLS is required/);
    expect(err.message).toMatch(/\?tls=off/);
    expect(err.message).not.toContain('s3cret');
    expect(smtp.messages.filter((r) => r.subject === m.subject)).toEqual([]);
    expect(await ledgerFiles()).toEqual([]);
  });

  it('sends in cleartext only when the URL opts out with ?tls=off', async () => {
    const m = mail();
    await notifier(`${plainUrl()}?tls=off`).send(m);
    const got = await smtp.waitFor((r) => r.subject === m.subject);
    expect(got.secure).toBe(false);
  });

  it('upgrades with STARTTLS (certificate verified) and authenticates over TLS', async () => {
    const m = mail();
    const url = tlsServer.url.replace('smtp://', 'smtp://user:s3cret@');
    await notifier(url, { ca: cert.cert }).send(m);
    const got = await tlsServer.waitFor((r) => r.subject === m.subject);
    expect(got.secure).toBe(true);
    expect(got.user).toBe('user');
  });

  it('does not trust an unknown certificate', async () => {
    const err = await failure(notifier(tlsServer.url).send(mail()));
    expect(err.message).toMatch(/self-signed|certificate/i);
  });

  it.each([
    ['smtp://mail.example.test:587?ignoreTLS=true', /unknown parameter "ignoreTLS"/],
    [
      'smtp://mail.example.test:587?tls.rejectUnauthorized=false',
      /unknown parameter "tls.rejectUnauthorized"/,
    ],
    ['smtp://mail.example.test:587?tls=maybe', /tls=maybe is not an option/],
    ['smtps://mail.example.test:465?tls=off', /contradicts/],
  ])('refuses %s before connecting', async (url, why) => {
    const err = await failure(notifier(url).send(mail()));
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(why);
  });
});

describe('files under DATA_DIR are private (L9)', () => {
  const modeOf = async (p: string) => (await stat(p)).mode & 0o777;
  let umask: number;
  beforeEach(() => {
    umask = process.umask(0o002); // a permissive umask, as a shared host may have
  });
  afterEach(() => {
    process.umask(umask);
  });

  it('writes the outbox .eml and the ledger entry as 0600, in folders (and a new DATA_DIR) of 0700', async () => {
    const dataDir = join(dir, 'data');
    const n = createEmailNotifier({
      outboxDir: join(dataDir, 'outbox'),
      ledgerDir: join(dataDir, 'sent'),
      from: 'Incident Orchestrator <incidents@example.test>',
      log: () => undefined,
    });
    notifiers.push(n);
    const r = await n.send(mail());
    expect(await modeOf(dataDir)).toBe(0o700);
    expect(await modeOf(join(dataDir, 'outbox'))).toBe(0o700);
    expect(await modeOf(join(dataDir, 'sent'))).toBe(0o700);
    expect(await modeOf(r.outboxPath!)).toBe(0o600);
    const [entry] = await readdir(join(dataDir, 'sent'));
    expect(await modeOf(join(dataDir, 'sent', entry!))).toBe(0o600);
  });

  it('tightens an existing 0755 outbox folder, and writes the SMTP ledger entry as 0600', async () => {
    await mkdir(join(dir, 'ledger'), { mode: 0o755 });
    await chmod(join(dir, 'ledger'), 0o755);
    await notifier().send(mail());
    expect(await modeOf(join(dir, 'ledger'))).toBe(0o700);
    const [entry] = await readdir(join(dir, 'ledger'));
    expect(await modeOf(join(dir, 'ledger', entry!))).toBe(0o600);
  });
});
