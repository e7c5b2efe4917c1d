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
import { createMonitorActivities } from './monitor.js';
import { createWebhookNotifier } from './notifiers/webhook.js';
import { createIncidentActivities } from './incidents.js';
import type { IncidentClientOptions } from '../client/incidents.js';

export interface CheckResult {
  checkId: string;
  kind: Check['kind'];
  service: string;
  result: ProbeResult;
}

export interface ActivityDeps {
  email: { send(mail: OutgoingMail): Promise<SendResult> };
  /** Where probes look up secrets named in the config (privateKeyEnv, passwordEnv). */
  env: Record<string, string | undefined>;
  /** How monitors open and recover incidents (a Temporal client and the configuration). */
  incidents?: IncidentClientOptions;
  /** Signs one-click acknowledge links (ACK_LINK_SECRET); without it, page mails carry none. */
  ackLinks?: Pick<AckLinks, 'url'>;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createMonitorActivities({ env: deps.env }),
    ...createWebhookNotifier({ env: deps.env }),
    ...createIncidentActivities(deps.incidents),
    /** Runs every given check at once; a probe never throws, it reports why it failed. */
    async runChecks(checks: Check[]): Promise<CheckResult[]> {
      heartbeat();
      return Promise.all(
        checks.map(async (check) => ({
          checkId: check.id,
          kind: check.kind,
          service: check.service,
          result: await runProbe(check, { env: deps.env }),
        })),
      );
    },

    /**
     * Sends one mail. Idempotent on `mail.idempotencyKey`: a retried activity does not send twice.
     * A page (`mail.ackLink`) gets its signed one-click acknowledge link here, never in the workflow.
     */
    async sendEmail(mail: OutgoingMail): Promise<SendResult> {
      const { ackLink, ...rest } = mail;
      if (!ackLink || !deps.ackLinks) return deps.email.send(rest);
      const url = deps.ackLinks.url(ackLink.incidentId, ackLink.recipientId);
      return deps.email.send({ ...rest, text: insertAckUrl(rest.text, url) });
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
