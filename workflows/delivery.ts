/**
 * Hands mail off from a workflow that is finishing: the resolved notices go out from here, with
 * their own retries, so a closed incident does not stay open (refusing new reports) while a mail
 * server is down.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { OutgoingMail } from '../activities/notifiers/email.js';

const { sendEmail } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

export interface DeliveryResult {
  sent: string[];
  failed: { to: string; error: string }[];
}

export async function deliveryWorkflow(input: { mails: OutgoingMail[] }): Promise<DeliveryResult> {
  const result: DeliveryResult = { sent: [], failed: [] };
  await Promise.all(
    input.mails.map((m) =>
      sendEmail(m).then(
        () => result.sent.push(m.to.map((t) => t.email).join(', ')),
        (e: unknown) =>
          result.failed.push({ to: m.to.map((t) => t.email).join(', '), error: (e as Error).message }),
      ),
    ),
  );
  return result;
}
