/**
 * The one outbound port: `deliver` sends one page to one person on one method, whatever the channel.
 * Idempotent on `idempotencyKey` through the shared sent ledger (store/records.ts): a key already in
 * the ledger delivers nothing and resolves `duplicate: true`; a send is written there after it went
 * out. The signed acknowledge link is made here, so its secret never enters workflow history.
 * Failures follow the Notifier contract (non-retryable = permanent: the workflow moves on to the
 * person's next method at once).
 */
import type { ChannelKind } from '../domain/channels.js';
import type { Records } from '../store/records.js';
import type { AckLinks } from './ack-links.js';
import type { ChannelMessage, ChannelNotifier, ChannelResult } from './notifiers/types.js';

export interface Delivery extends Omit<ChannelMessage, 'ackUrl' | 'receiptUrl'> {
  kind: ChannelKind;
  /** Add the signed one-time acknowledge link for this recipient. */
  ackLink?: boolean;
}

export interface DeliveryOutcome extends ChannelResult {
  kind: ChannelKind;
}

export interface DeliverDeps {
  /** The channels, built from the worker's current config (read at each call: a reload applies). */
  channels: () => Record<ChannelKind, ChannelNotifier>;
  records?: Pick<Records, 'ledgerGet' | 'ledgerPut'>;
  ackLinks?: Pick<AckLinks, 'url'> & Partial<Pick<AckLinks, 'receiptUrl'>>;
  workerName?: string;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export function createDeliverActivity(deps: DeliverDeps) {
  const log = deps.log ?? ((m, f) => console.warn(m, f ?? ''));
  return {
    async deliver(d: Delivery): Promise<DeliveryOutcome> {
      const { kind, ackLink, ...message } = d;
      if (deps.records) {
        try {
          const previous = await deps.records.ledgerGet(d.idempotencyKey);
          if (previous)
            return { kind, messageId: previous.messageId ?? '', duplicate: true, status: 'accepted' };
        } catch (e) {
          // The page still goes: a store outage never holds a page back.
          log('deliver: the shared sent ledger is unreachable; sending anyway', {
            error: (e as Error).message,
          });
        }
      }
      const ackUrl =
        ackLink && deps.ackLinks ? deps.ackLinks.url(d.page.incidentId, d.recipient.id) : undefined;
      let receiptUrl: string | undefined;
      try {
        receiptUrl = deps.ackLinks?.receiptUrl?.(d.page.incidentId, d.recipient.id, kind);
      } catch {
        // An id the link cannot carry: the page goes without a receipt link.
      }
      const result = await deps.channels()[kind].send({
        ...message,
        ...(ackUrl ? { ackUrl } : {}),
        ...(receiptUrl ? { receiptUrl } : {}),
      });
      if (deps.records) {
        try {
          await deps.records.ledgerPut({
            idempotencyKey: d.idempotencyKey,
            channel: kind,
            messageId: result.messageId,
            worker: deps.workerName,
          });
        } catch (e) {
          // Sent: failing now would make Temporal retry and send it again.
          log('deliver: sent, but the shared ledger entry could not be written', {
            error: (e as Error).message,
          });
        }
      }
      return { ...result, kind };
    },
  };
}
