/**
 * The worker's activities, built from their dependencies (samples-typescript's createActivities
 * pattern). Workflow code imports this module as types only.
 */
import { heartbeat } from '@temporalio/activity';
import type { Check } from '../domain/config-schema.js';
import type { ProbeResult } from '../domain/incident.js';
import { runProbe } from './probes/index.js';
import type { OutgoingMail, SendResult } from './notifiers/email.js';

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
}

export function createActivities(deps: ActivityDeps) {
  return {
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

    /** Sends one mail. Idempotent on `mail.idempotencyKey`: a retried activity does not send twice. */
    async sendEmail(mail: OutgoingMail): Promise<SendResult> {
      return deps.email.send(mail);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
