/**
 * A stand-in for a hosted service (ntfy.sh, an SMS gateway, Slack, Teams, Mattermost, a webhook
 * receiver): a real HTTP server on 127.0.0.1 that records every request exactly as it arrived and
 * answers with what the test scripts, the service's documented bodies and errors.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface HttpService {
  url: string;
  requests: RecordedRequest[];
  /** The answer to every following request (until changed). */
  answer(a: Answer): void;
  close(): Promise<void>;
}

export async function startHttpService(first: Answer = { status: 200, body: 'ok' }): Promise<HttpService> {
  let current = first;
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(current.status, { 'content-type': 'text/plain', ...current.headers });
      res.end(current.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer: (a) => {
      current = a;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
