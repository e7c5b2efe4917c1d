/**
 * A real SMTP server (the `smtp-server` package) listening on several ports — one per worker, so the
 * test knows which worker a mail came from — that records every message and can hold its answer to
 * one DATA: the message is complete on the server (recorded, it counts as received) but the client
 * waits for the 250 until the test releases it. That is how a drill stops a worker at an exact point
 * of a send.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface HeldMail {
  /** The port it arrived on (see `ports`). */
  port: number;
  to: string[];
  subject: string;
  text: string;
  messageId: string;
  receivedAt: Date;
}

export interface Hold {
  mail: HeldMail;
  /** Answer the held DATA with 250: the sender now knows its mail was accepted. */
  release(): void;
}

export interface HoldingSmtpServer {
  ports: number[];
  /** `smtp://127.0.0.1:<port>?tls=off` per port (no STARTTLS offered). */
  urls: string[];
  messages: HeldMail[];
  /** The next message is recorded, and its DATA is answered only when the hold is released. */
  holdNext(timeoutMs?: number): Promise<Hold>;
  waitForCount(pred: (m: HeldMail) => boolean, n: number, timeoutMs?: number): Promise<HeldMail[]>;
  close(): Promise<void>;
}

export async function startHoldingSmtpServer(o: { listeners: number }): Promise<HoldingSmtpServer> {
  const messages: HeldMail[] = [];
  const listeners = new Set<() => void>();
  let hold: ((h: Hold) => void) | undefined;
  const servers: SMTPServer[] = [];
  const ports: number[] = [];

  const create = (port: () => number) =>
    new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      closeTimeout: 200,
      onData(stream, session, cb) {
        simpleParser(stream).then(
          (parsed) => {
            const mail: HeldMail = {
              port: port(),
              to: session.envelope.rcptTo.map((a) => a.address),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              messageId: parsed.messageId ?? '',
              receivedAt: new Date(),
            };
            messages.push(mail);
            for (const l of listeners) l();
            const h = hold;
            hold = undefined;
            if (h) h({ mail, release: () => cb() });
            else cb();
          },
          (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
        );
      },
    });

  for (let i = 0; i < o.listeners; i++) {
    let port = 0;
    const s = create(() => port);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        s.server.off('error', reject);
        resolve();
      });
    });
    port = (s.server.address() as AddressInfo).port;
    servers.push(s);
    ports.push(port);
  }

  const waitForCount = (pred: (m: HeldMail) => boolean, n: number, timeoutMs = 10_000) =>
    new Promise<HeldMail[]>((resolve, reject) => {
      const check = () => {
        const found = messages.filter(pred);
        if (found.length < n) return false;
        done();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `holding SMTP server: no ${n} matching mail(s) within ${timeoutMs} ms; received: ` +
              JSON.stringify(messages.map((m) => m.subject)),
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      if (!check()) listeners.add(check);
    });

  return {
    ports,
    urls: ports.map((p) => `smtp://127.0.0.1:${p}?tls=off`),
    messages,
    holdNext: (timeoutMs = 30_000) =>
      new Promise<Hold>((resolve, reject) => {
        const timer = setTimeout(() => {
          hold = undefined;
          reject(new Error(`holding SMTP server: no message to hold within ${timeoutMs} ms`));
        }, timeoutMs);
        hold = (h) => {
          clearTimeout(timer);
          resolve(h);
        };
      }),
    waitForCount,
    async close() {
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
