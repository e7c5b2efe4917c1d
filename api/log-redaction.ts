/**
 * Some credentials travel in URL paths (a heartbeat check's token, a signed acknowledge link): the
 * request log shows those paths with the secret part replaced.
 */
const secretPaths: RegExp[] = [/^(\/api\/heartbeats\/)[^/?#]+/, /^(\/ack\/)[^/?#]+/];

export function redactPath(url: string): string {
  for (const re of secretPaths) if (re.test(url)) return url.replace(re, '$1[redacted]');
  return url;
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
