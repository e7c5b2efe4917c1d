/**
 * Where the worker's activities get secrets: only from the worker's own configuration file, by id.
 * Workflow input is not trusted with secrets: anyone who can start a workflow writes its input, so
 * an environment variable name taken from it (`urlEnv: ACK_LINK_SECRET`, `passwordEnv:
 * SESSION_SECRET`) would read any secret of the worker process. Here a check's credentials come
 * from the configured check with the same id (host, port and pinned key included), and a webhook's
 * URL from the configured webhook with the same team and position. Anything not configured gets an
 * error that names no value.
 */
import type { Check, Config } from '../domain/config-schema.js';
import type { ProbeResult } from '../domain/incident.js';

export interface WebhookRef {
  /** Team and position in its `webhooks` list: the webhook's id in the configuration. */
  team?: string;
  index?: number;
  format: string;
  /** Older incidents carry these instead; honoured only when this worker's config names the same. */
  url?: string;
  urlEnv?: string;
}

export interface SecretResolver {
  /**
   * The check to probe: a check that authenticates is replaced by the configured check of the same
   * id, or refused (`ok: false`, code `auth-config`) when there is none. A check without
   * credentials is probed as given.
   */
  checkToRun<C extends Check>(check: C): { check: C } | { refused: ProbeResult };
  /**
   * The configured webhook's URL and, when it has `secretEnv`, its Standard Webhooks signing secret;
   * or why there is none (a message that names no value).
   */
  webhookUrl(ref: WebhookRef): { url: string; signingSecret?: string } | { error: string };
}

export function createSecretResolver(o: {
  config?: Config;
  env: Record<string, string | undefined>;
}): SecretResolver {
  const checks = new Map((o.config?.checks ?? []).map((c) => [c.id, c]));
  const teams = new Map((o.config?.teams ?? []).map((t) => [t.id, t]));
  const fromConfig = (w: { url?: string; urlEnv?: string }) =>
    w.url ?? (w.urlEnv !== undefined ? o.env[w.urlEnv] : undefined);
  const withSecret = (w: { secretEnv?: string }, url: string) => {
    if (w.secretEnv === undefined) return { url };
    const signingSecret = o.env[w.secretEnv];
    if (!signingSecret)
      return { error: `the webhook's signing secret ${w.secretEnv} is not set; nothing was posted` };
    return { url, signingSecret };
  };
  return {
    checkToRun(check) {
      if (!('auth' in check) || check.auth === undefined) return { check };
      const configured = checks.get(check.id);
      if (!configured || configured.kind !== check.kind)
        return {
          refused: {
            ok: false,
            latencyMs: 0,
            code: 'auth-config',
            message: `check "${check.id}" is not in this worker's configuration: its credentials are not used`,
          },
        };
      return { check: configured as typeof check };
    },
    webhookUrl(ref) {
      if (ref.team !== undefined && ref.index !== undefined) {
        const w = teams.get(ref.team)?.webhooks[ref.index];
        if (!w || w.format !== ref.format)
          return {
            error: `team ${ref.team} has no ${ref.format} webhook #${ref.index + 1} in this worker's configuration`,
          };
        const url = fromConfig(w);
        if (!url)
          return {
            error: `team ${ref.team}'s ${ref.format} webhook has no URL (${w.urlEnv ?? 'url'} is not set)`,
          };
        return withSecret(w, url);
      }
      // An incident declared before webhooks were referenced by id: its url/urlEnv must be one the
      // configuration names for a webhook of that format.
      const w = [...teams.values()]
        .flatMap((t) => t.webhooks)
        .find(
          (x) =>
            x.format === ref.format &&
            (ref.urlEnv !== undefined ? x.urlEnv === ref.urlEnv : ref.url !== undefined && x.url === ref.url),
        );
      if (!w) return { error: "this webhook is not in this worker's configuration; nothing was posted" };
      const url = fromConfig(w);
      if (!url) return { error: `the ${ref.format} webhook has no URL (${w.urlEnv ?? 'url'} is not set)` };
      return withSecret(w, url);
    },
  };
}
