/**
 * Hands mail off from a workflow that is finishing: the resolved notices go out from here, with
 * their own retries, so a closed incident does not stay open (refusing new reports) while a mail
 * server is down. They go through the one outbound port (`deliver`, kind email: the shared sent
 * ledger, the same mail under the same key); a run recorded before that (no 'deliver-everywhere'
 * marker) keeps calling `sendEmail`.
 */
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { failureMessage } from './failures.js';
import type { Delivery } from '../activities/deliver.js';
import type { OutgoingMail } from '../activities/notifiers/email.js';

const retrying = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
} as const;
const { sendEmail } = proxyActivities<Activities>(retrying);
const { deliver } = proxyActivities<Activities>(retrying);
const { appendIncidentEvents } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

export interface DeliveryResult {
  sent: string[];
  failed: { to: string; error: string }[];
}

export interface DeliveryInput {
  /** Mails as an older incident run handed them over (one recipient each for resolved notices). */
  mails: OutgoingMail[];
  /** What a newer run hands over: deliveries for the `deliver` activity. */
  deliveries?: Delivery[];
  /**
   * Where each delivery's outcome goes: the incident's record (its timeline and deliveries), under
   * `firstSeq + i` for delivery i, a range the closed incident never reaches.
   */
  record?: { incidentId: string; firstSeq: number };
}

/**
 * A mail of an older parent as a delivery: one recipient, the recipient's id the key's last part
 * (`…/resolved/<id>`). Anything else stays a mail.
 */
function asDelivery(m: OutgoingMail): Delivery | undefined {
  const recipientId = m.idempotencyKey.split('/').pop();
  const to = m.to[0];
  if (m.to.length !== 1 || !to || !recipientId || m.ackLink || m.html || m.attachments || m.headers)
    return undefined;
  const resolved = /\/resolved\/[^/]+$/.test(m.idempotencyKey);
  return {
    kind: 'email',
    idempotencyKey: m.idempotencyKey,
    to: to.email,
    recipient: { id: recipientId, name: to.name ?? to.email },
    page: {
      incidentId: '',
      title: m.subject,
      text: m.text,
      severity: '',
      service: '',
    },
    mail: { subject: m.subject, kind: resolved ? 'resolved' : 'notice' },
  };
}

export async function deliveryWorkflow(input: DeliveryInput): Promise<DeliveryResult> {
  const result: DeliveryResult = { sent: [], failed: [] };
  const viaDeliver = patched('deliver-everywhere');
  const deliveries: Delivery[] = [...(input.deliveries ?? [])];
  const mails: OutgoingMail[] = [];
  for (const m of input.mails) {
    const d = viaDeliver ? asDelivery(m) : undefined;
    if (d) deliveries.push(d);
    else mails.push(m);
  }
  /** The delivery's outcome in the incident's record, when the incident asked for it. */
  const outcome = async (i: number, d: Delivery, o: 'sent' | 'duplicate' | 'failed', why?: string) => {
    if (!input.record) return;
    const who = `${d.recipient.name} <${d.to}>`;
    await appendIncidentEvents({
      incidentId: input.record.incidentId,
      events: [
        {
          seq: input.record.firstSeq + i,
          at: new Date().toISOString(),
          actor: 'system',
          kind: 'resolved-notice',
          detail:
            o === 'failed'
              ? `resolved notice to ${who} could not be sent: ${why ?? 'unknown error'}`
              : `resolved notice sent to ${who} by email${o === 'duplicate' ? ' (already sent)' : ''}`,
          attempt: { channel: d.kind, recipientId: d.recipient.id, outcome: o },
          // The timeline already says it is on its way (and the postmortem draft has the timeline):
          // a sent notice is in the deliveries only; one that could not be sent is said in both.
          ...(o === 'failed' ? {} : { hidden: true }),
        },
      ],
    }).catch(() => undefined);
  };
  const done = (to: string) => () => result.sent.push(to);
  const failed = (to: string) => (e: unknown) => result.failed.push({ to, error: (e as Error).message });
  await Promise.all([
    ...mails.map((m) => {
      const to = m.to.map((t) => t.email).join(', ');
      return sendEmail(m).then(done(to), failed(to));
    }),
    ...deliveries.map((d, i) =>
      deliver(d).then(
        async (out) => {
          done(d.to)();
          await outcome(i, d, out.duplicate ? 'duplicate' : 'sent');
        },
        async (e: unknown) => {
          failed(d.to)(e);
          await outcome(i, d, 'failed', failureMessage(e));
        },
      ),
    ),
  ]);
  return result;
}
