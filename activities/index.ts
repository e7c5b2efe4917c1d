/**
 * The worker's activities, built from their dependencies (samples-typescript's createActivities
 * pattern). Workflow code imports this module as types only.
 */
import { heartbeat } from '@temporalio/activity';
import type { Check } from '../domain/config-schema.js';
import type { ProbeResult } from '../domain/incident.js';
import { insertAckUrl } from '../domain/templates.js';
import type { AckLinks } from './ack-links.js';
import { runProbe } from './probes/index.js';
import type { OutgoingMail, SendResult } from './notifiers/email.js';
import { mailKindOf, renderMailHtml } from './notifiers/mail-html.js';
import { createMonitorActivities } from './monitor.js';
import { createWebhookNotifier } from './notifiers/webhook.js';
import { createIncidentActivities } from './incidents.js';
import type { IncidentClientOptions } from '../client/incidents.js';
import type { Records } from '../store/records.js';
import { createRecordActivities } from './records.js';
import { createOnCallActivities } from './oncall.js';
import { createScheduleRecords } from '../store/schedules.js';
import { createSecretResolver, type SecretResolver } from './secrets.js';
import type { Config } from '../domain/config-schema.js';
import { createDeliverActivity } from './deliver.js';
import { createChannels } from './notifiers/registry.js';
import { redactUrls } from '../domain/redact.js';

export interface CheckResult {
  checkId: string;
  kind: Check['kind'];
  service: string;
  result: ProbeResult;
}

export interface ActivityDeps {
  email: { send(mail: OutgoingMail): Promise<SendResult> };
  /**
   * Where the variables the worker's own config names (privateKeyEnv, passwordEnv, urlEnv) are
   * looked up. Never indexed by a name from workflow input (see secrets.ts).
   */
  env: Record<string, string | undefined>;
  /** The worker's configuration: the only source of secret names (default: `incidents.config`). */
  config?: Config;
  /** How monitors open and recover incidents (a Temporal client and the configuration). */
  incidents?: IncidentClientOptions;
  /** Signs one-click acknowledge links (ACK_LINK_SECRET); without it, page mails carry none. */
  ackLinks?: Pick<AckLinks, 'url'> & Partial<Pick<AckLinks, 'receiptUrl'>>;
  /** The record store: timelines, pages, postmortems, and the sent ledger every worker shares. */
  records?: Records;
  /** Names this worker in the sent ledger (host and pid). */
  workerName?: string;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/** The resolver built from the worker's own config and environment. */
export function secretResolverOf(deps: Pick<ActivityDeps, 'env' | 'config' | 'incidents'>): SecretResolver {
  return createSecretResolver({ config: deps.config ?? deps.incidents?.config, env: deps.env });
}

/**
 * Every activity's failure, as Temporal records it (the workflow writes it to the timeline, the
 * worker logs it), with the URLs in its message redacted (domain/redact.ts): webhook and API URLs
 * carry tokens, whatever library put them into the message.
 */
function redactingFailures<T extends Record<string, unknown>>(activities: T): T {
  const scrub = (e: unknown, depth = 0) => {
    if (!(e instanceof Error) || depth > 5) return;
    e.message = redactUrls(e.message);
    if (e.stack) e.stack = redactUrls(e.stack);
    scrub(e.cause, depth + 1);
  };
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities))
    out[name] =
      typeof fn === 'function'
        ? async (...args: unknown[]) => {
            try {
              return await (fn as (...a: unknown[]) => unknown)(...args);
            } catch (e) {
              scrub(e);
              throw e;
            }
          }
        : fn;
  return out as T;
}

export function createActivities(deps: ActivityDeps) {
  return redactingFailures(createActivitiesUnredacted(deps));
}

function createActivitiesUnredacted(deps: ActivityDeps) {
  const secrets = secretResolverOf(deps);
  return {
    ...createMonitorActivities({ env: deps.env, secrets }),
    ...createWebhookNotifier({ secrets }),
    // The one outbound port for pages: every channel, each send in the shared sent ledger.
    ...createDeliverActivity({
      channels: () =>
        createChannels({
          settings: (deps.config ?? deps.incidents?.config)?.channels ?? {},
          env: deps.env,
          email: deps.email,
          publicBaseUrl: deps.incidents?.publicBaseUrl,
        }),
      records: deps.records,
      ackLinks: deps.ackLinks,
      workerName: deps.workerName,
      log: deps.log,
    }),
    ...createIncidentActivities(deps.incidents),
    ...createRecordActivities(deps.records),
    // Schedules from the worker's config, overrides from the record store.
    ...createOnCallActivities({
      config: deps.incidents?.config,
      schedules: deps.records ? createScheduleRecords(deps.records.db) : undefined,
    }),
    /** Runs every given check at once; a probe never throws, it reports why it failed. */
    async runChecks(checks: Check[]): Promise<CheckResult[]> {
      heartbeat();
      return Promise.all(
        checks.map(async (check) => {
          const run = secrets.checkToRun(check);
          return {
            checkId: check.id,
            kind: check.kind,
            service: check.service,
            result: 'refused' in run ? run.refused : await runProbe(run.check, { env: deps.env }),
          };
        }),
      );
    },

    /**
     * Sends one mail. Idempotent on `mail.idempotencyKey`: a retried activity does not send twice.
     * A page (`mail.ackLink`) gets its signed one-click acknowledge link here, never in the workflow.
     * Every mail gets its HTML part here too, rendered from its text (activities/notifiers/mail-html.ts).
     */
    async sendEmail(mail: OutgoingMail): Promise<SendResult> {
      const { ackLink, ...rest } = mail;
      const records = deps.records;
      const log = deps.log ?? ((m, f) => console.warn(m, f ?? ''));
      // The shared ledger first: another worker may have sent it before it died. If the store is
      // down, the page still goes (never delayed by the store); the local ledger guards this host.
      let ledgerUp = !!records;
      if (records) {
        try {
          const previous = await records.ledgerGet(mail.idempotencyKey);
          if (previous) return { transport: 'smtp', messageId: previous.messageId ?? '', duplicate: true };
        } catch (e) {
          ledgerUp = false;
          log('email: the shared sent ledger is unreachable; sending with this host’s ledger only', {
            error: (e as Error).message,
          });
        }
      }
      const ackUrl =
        ackLink && deps.ackLinks ? deps.ackLinks.url(ackLink.incidentId, ackLink.recipientId) : undefined;
      const text = ackUrl ? insertAckUrl(rest.text, ackUrl) : rest.text;
      // Multipart: the HTML part says what the text says (activities/notifiers/mail-html.ts).
      const html =
        rest.html ?? renderMailHtml({ kind: mailKindOf(mail), subject: rest.subject, text, ackUrl });
      const result = await deps.email.send({ ...rest, text, html });
      if (records) {
        // Also after a local-ledger hit: a page sent while the store was down gets its shared row now.
        try {
          await records.ledgerPut({
            idempotencyKey: mail.idempotencyKey,
            channel: 'email',
            messageId: result.messageId,
            worker: deps.workerName,
          });
        } catch (e) {
          // Sent: failing now would make Temporal retry and send it again.
          log('email: sent, but the shared ledger entry could not be written', {
            error: (e as Error).message,
            ledgerUp,
          });
        }
      }
      return result;
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
