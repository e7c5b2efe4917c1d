import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { HttpCheck } from '../../domain/config-schema.js';
import { ProbeError, errnoOf, errorMessage, hostPort, networkError, timed, withDeadline } from './common.js';
import type { Probe } from './types.js';
import { redactUrl } from '../../domain/redact.js';

const maxBodyBytes = 1024 * 1024;
const maxRedirects = 5;
const userAgent = 'incident-orchestrator-probe';

/** What the probe needs of a response, whichever client fetched it. */
interface Answer {
  status: number;
  statusText: string;
  /** Up to `maxBytes` of the body, decoded as UTF-8. */
  text(maxBytes: number): Promise<string>;
  /** Releases the connection without reading the body. */
  discard(): void;
}

const tlsCodes = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'HOSTNAME_MISMATCH',
]);

function isTlsCode(code: string): boolean {
  return tlsCodes.has(code) || /^ERR_(TLS|SSL)_/.test(code) || code.includes('CERT');
}

/** The URL as shown in messages (timeline, logs): scheme and host only, see domain/redact.ts. */
function shown(url: URL): string {
  return redactUrl(url.href);
}

/** The innermost message of an error chain (fetch wraps the interesting part in `cause`). */
function innerMessage(err: unknown): string {
  let e = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return errorMessage(e);
}

function requestError(err: unknown, url: URL, method: string): ProbeError {
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const where = hostPort(host, port);
  const code = errnoOf(err);
  if (code && isTlsCode(code)) {
    return new ProbeError(
      'tls-error',
      `the TLS connection to ${where} failed: ${innerMessage(err)} (${code})`,
    );
  }
  if (code === 'UND_ERR_SOCKET') {
    return new ProbeError(
      'closed',
      `${where} closed the connection before answering ${method} ${shown(url)}`,
    );
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new ProbeError('timeout', `${where} did not answer ${method} ${shown(url)} in time`);
  }
  const net = networkError(err, host, port);
  if (net) return net;
  if (code === undefined && !(err instanceof Error && err.cause)) throw err; // not a network failure: a bug or bad config
  return new ProbeError('network', `${method} ${shown(url)} failed: ${innerMessage(err)}`);
}

async function viaFetch(url: URL, method: string, follow: boolean, signal: AbortSignal): Promise<Answer> {
  const res = await fetch(url, {
    method,
    signal,
    redirect: follow ? 'follow' : 'manual',
    headers: { 'user-agent': userAgent },
  });
  return {
    status: res.status,
    statusText: res.statusText,
    async text(maxBytes) {
      if (!res.body) return '';
      const chunks: Buffer[] = [];
      let size = 0;
      const reader = res.body.getReader();
      try {
        while (size < maxBytes) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(Buffer.from(value));
          size += value.byteLength;
        }
      } finally {
        reader.cancel().catch(() => undefined);
      }
      return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
    },
    discard() {
      res.body?.cancel().catch(() => undefined);
    },
  };
}

/** node:http(s) without certificate verification (`tlsVerify: false`); follows redirects itself. */
async function viaNodeInsecure(
  start: URL,
  method: string,
  follow: boolean,
  signal: AbortSignal,
): Promise<Answer> {
  let url = start;
  for (let hop = 0; ; hop++) {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const options = { method, signal, agent: false as const, headers: { 'user-agent': userAgent } };
      const req =
        url.protocol === 'https:'
          ? https.request(url, { ...options, rejectUnauthorized: false }, resolve)
          : http.request(url, options, resolve);
      req.on('error', reject);
      req.end();
    });
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (follow && status >= 300 && status < 400 && location && hop < maxRedirects) {
      res.destroy();
      url = new URL(location, url);
      continue;
    }
    return {
      status,
      statusText: res.statusMessage ?? '',
      async text(maxBytes) {
        const chunks: Buffer[] = [];
        let size = 0;
        try {
          for await (const chunk of res) {
            chunks.push(chunk as Buffer);
            size += (chunk as Buffer).length;
            if (size >= maxBytes) break;
          }
        } finally {
          res.destroy();
        }
        return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
      },
      discard() {
        res.destroy();
      },
    };
  }
}

/**
 * HTTP(S): sends `method` to `url`, expects `expectStatus` and, if set, `bodyContains` in the body.
 * Certificates are verified unless `tlsVerify` is false. Redirects are followed unless a 3xx status is
 * what the check expects.
 */
export const httpProbe: Probe<HttpCheck> = {
  kind: 'http',
  run: (check, ctx) =>
    timed(async () => {
      const url = new URL(check.url);
      const what = `${check.method} ${shown(url)}`;
      const follow = check.expectStatus < 300 || check.expectStatus >= 400;
      const insecure = !check.tlsVerify && url.protocol === 'https:';
      return withDeadline(
        ctx,
        (limit) => `no complete answer to ${what} within ${limit}`,
        async (signal) => {
          let answer: Answer;
          try {
            answer = insecure
              ? await viaNodeInsecure(url, check.method, follow, signal)
              : await viaFetch(url, check.method, follow, signal);
          } catch (err) {
            throw requestError(err, url, check.method);
          }
          const got = `${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}`;
          if (answer.status !== check.expectStatus) {
            answer.discard();
            throw new ProbeError(
              'unexpected-status',
              `${what} answered ${got}, expected ${check.expectStatus}`,
            );
          }
          if (check.bodyContains === undefined) {
            answer.discard();
            return `${what} answered ${got}`;
          }
          let body: string;
          try {
            body = await answer.text(maxBodyBytes);
          } catch (err) {
            throw requestError(err, url, check.method);
          }
          if (!body.includes(check.bodyContains)) {
            throw new ProbeError(
              'body-mismatch',
              `${what} answered ${got}, but the body does not contain "${check.bodyContains}"`,
            );
          }
          return `${what} answered ${got} with "${check.bodyContains}" in the body`;
        },
      );
    }),
};
