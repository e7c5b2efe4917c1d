/**
 * Subscriber notices: when a status message is published, everyone subscribed to an affected
 * component gets it by email (or webhook), and again when the incident is resolved; confirmation
 * mails of new email subscriptions go out from here too (the API has no mail transport). A loop in
 * the worker reads the record store every few seconds (the workflow writes each status message
 * there), so no workflow changes; one worker at a time sends (an advisory lock). Every mail is
 * checked in the shared sent ledger before it is sent and written there right after, so a retry
 * (a failed send, a worker that died half-way) mails nobody twice; a notice is done when everyone
 * has it.
 */
import type { Config } from '../domain/config-schema.js';
import {
  affectedComponents,
  confirmationMail,
  subscriberNoticeMail,
  subscriberRecipients,
  type SubscriberRecipient,
} from '../domain/subscribers.js';
import type { OutgoingMail, SendResult } from '../activities/notifiers/email.js';
import type { SubscriberLinks } from '../activities/subscriber-links.js';
import type { Records } from '../store/records.js';
import type { DueNotice, SubscriberRecords } from '../store/subscribers.js';

export interface SubscriberNoticeDeps {
  config: () => Pick<Config, 'services'>;
  subscribers: SubscriberRecords;
  /** The shared sent ledger. */
  records: Pick<Records, 'ledgerGet' | 'ledgerPut'>;
  email: { send(mail: OutgoingMail): Promise<SendResult> };
  links: SubscriberLinks;
  publicBaseUrl: string;
  workerName?: string;
  /** Tests post to a local receiver; otherwise only https webhooks (parseWebhookUrl). */
  allowHttpWebhooks?: boolean;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface TickResult {
  sent: number;
  failed: number;
  notices: number;
  confirmations: number;
}

export function createSubscriberNotices(d: SubscriberNoticeDeps) {
  const log = d.log ?? ((l: string) => console.warn(l));
  const statusUrl = `${d.publicBaseUrl.replace(/\/+$/, '')}/status`;
  const componentName = (id: string) => d.config().services.find((s) => s.id === id)?.component ?? id;

  /** One send, once: the shared ledger first, the mail or post, then its ledger row. */
  async function once(
    key: string,
    channel: string,
    send: () => Promise<string | undefined>,
  ): Promise<boolean> {
    if (await d.records.ledgerGet(key)) return false;
    const messageId = await send();
    await d.records
      .ledgerPut({ idempotencyKey: key, channel, messageId, worker: d.workerName })
      .catch((e: unknown) =>
        log(`subscriber notice sent, but its ledger row was not written: ${(e as Error).message}`),
      );
    return true;
  }

  async function tell(n: DueNotice, r: SubscriberRecipient, resolved: boolean, lastMessage?: string) {
    const component = componentName(r.component);
    const unsubscribeUrl = d.links.unsubscribeUrl({
      component: r.component,
      kind: r.kind,
      address: r.address,
    });
    const noticeKey = resolved ? 'resolved' : n.notice;
    const key = `subscriber/${n.incidentId}/${noticeKey}/${r.kind}:${r.address}`;
    const mail = subscriberNoticeMail({
      component,
      state: n.state,
      message: resolved ? (n.message ?? lastMessage) : n.message,
      at: n.at,
      resolved,
      statusUrl,
      unsubscribeUrl,
    });
    if (r.kind === 'email')
      return once(key, 'subscriber-email', async () => {
        const sent = await d.email.send({
          idempotencyKey: key,
          to: [{ ...(r.name ? { name: r.name } : {}), email: r.address }],
          subject: mail.subject,
          text: mail.text,
          // RFC 8058 one-click unsubscribe (mail clients show an "Unsubscribe" button).
          headers: {
            'List-Unsubscribe': `<${unsubscribeUrl}>`,
            'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
          },
        });
        return sent.messageId;
      });
    return once(key, 'subscriber-webhook', async () => {
      const url = new URL(r.address);
      if (url.protocol !== 'https:' && !d.allowHttpWebhooks) throw new Error('webhook is not https');
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({
          type: resolved ? 'incident.resolved' : 'incident.status',
          component: { id: r.component, name: component },
          incident: n.incidentId,
          state: resolved ? 'resolved' : n.state,
          message: resolved ? (n.message ?? lastMessage ?? null) : (n.message ?? null),
          at: n.at,
          statusUrl,
          unsubscribeUrl,
        }),
        redirect: 'error',
        signal: AbortSignal.timeout(d.timeoutMs ?? 10_000),
      });
      await res.body?.cancel().catch(() => undefined);
      if (!res.ok) throw new Error(`webhook ${url.host} answered ${res.status}`);
      return undefined;
    });
  }

  async function notices(result: TickResult) {
    const services = d.config().services;
    for (const n of await d.subscribers.dueNotices()) {
      const components = affectedComponents(services, n.snapshot);
      const resolved = n.notice === 'resolved' || n.state === 'resolved';
      const [stored, unsubscribed] = await Promise.all([
        d.subscribers.active(components),
        d.subscribers.unsubscribed(components),
      ]);
      const recipients = subscriberRecipients(services, components, stored, unsubscribed);
      const last =
        n.notice === 'resolved' && !n.message ? await d.subscribers.lastMessage(n.incidentId) : undefined;
      let failed = 0;
      // A few at a time: 25 institutions get it within seconds, and the SMTP server is not flooded.
      for (let i = 0; i < recipients.length; i += 5)
        await Promise.all(
          recipients.slice(i, i + 5).map(async (r) => {
            try {
              if (await tell(n, r, resolved, last?.message)) result.sent++;
            } catch (e) {
              failed++;
              log(
                `subscriber notice ${n.incidentId}/${n.notice} to a ${r.kind} subscriber of ${r.component} not sent (tried again shortly): ${(e as Error).message}`,
              );
            }
          }),
        );
      result.failed += failed;
      if (failed > 0) continue;
      result.notices++;
      // A published "resolved" message is the resolution notice: the closing is not told again.
      await d.subscribers.noticeDone(n.incidentId, ...(resolved ? [n.notice, 'resolved'] : [n.notice]));
    }
  }

  async function confirmations(result: TickResult) {
    for (const s of await d.subscribers.confirmationsDue()) {
      const key = `subscribe-confirm/${s.id}/${s.requestedAt}`;
      const mail = confirmationMail({
        component: componentName(s.component),
        confirmUrl: d.links.confirmUrl(s.id),
        statusUrl,
      });
      try {
        await once(
          key,
          'subscriber-email',
          async () =>
            (
              await d.email.send({
                idempotencyKey: key,
                to: [{ email: s.address }],
                subject: mail.subject,
                text: mail.text,
              })
            ).messageId,
        );
        await d.subscribers.confirmationSent(s.id);
        result.confirmations++;
      } catch (e) {
        log(
          `subscription confirmation for ${s.component} not sent (tried again shortly): ${(e as Error).message}`,
        );
      }
    }
  }

  async function tick(): Promise<TickResult> {
    const result: TickResult = { sent: 0, failed: 0, notices: 0, confirmations: 0 };
    await d.subscribers.exclusively(async () => {
      await confirmations(result);
      await notices(result);
    });
    return result;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  return {
    tick,
    /** Looks every `everyMs` (default 5 s) until `stop()`. */
    start(everyMs = 5_000) {
      const run = () => {
        if (busy) return;
        busy = true;
        running = tick()
          .catch((e: unknown) => log(`subscriber notices: ${(e as Error).message} (tried again shortly)`))
          .finally(() => (busy = false));
      };
      run();
      timer = setInterval(run, everyMs);
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
