/**
 * Some credentials travel in URL paths (a heartbeat check's token, a signed acknowledge link, a
 * calendar feed link): the request log shows those paths with the secret part replaced. Query
 * strings are never logged (a search, a `next=` or a key a client put there): only `?[redacted]`.
 */
const secretPaths: RegExp[] = [
  /^(\/api\/heartbeats\/)[^/?#]+/,
  /^(\/ack\/)[^/?#]+/,
  /^(\/api\/oncall\/calendar\/)[^/?#]+/,
];

export function redactPath(url: string): string {
  const q = url.search(/[?#]/);
  let path = q === -1 ? url : url.slice(0, q);
  for (const re of secretPaths) if (re.test(path)) path = path.replace(re, '$1[redacted]');
  return q === -1 ? path : `${path}?[redacted]`;
}

/** Fastify logger options: no credentials in headers or paths. */
export function loggerOptions(level: string) {
  return {
    level,
    redact: ['req.headers.authorization', 'req.headers.cookie'],
    serializers: {
      req(req: { method: string; url: string; ip?: string }) {
        return { method: req.method, url: redactPath(req.url), remoteAddress: req.ip };
      },
    },
  };
}
