/**
 * Maintenance notices: when a maintenance window (config `maintenance`, fixed or recurring) starts
 * and when it ends, everyone subscribed on the status page to a component it covers is told, by
 * email or webhook. A loop in the worker looks once a minute; a start or end up to 15 minutes old
 * still goes out (a worker that restarted meanwhile), older ones are let go. One worker at a time
 * sends (the subscribers' advisory lock), and every notice is checked in the shared sent ledger
 * first, so nobody is told twice.
 */
import type { Config } from '../domain/config-schema.js';
import {
  allOccurrences,
  coveredComponents,
  defaultMaintenanceZone,
  windowId,
  type Occurrence,
} from '../domain/maintenance.js';
import { subscriberRecipients, type SubscriberRecipient } from '../domain/subscribers.js';
import { formatLocal } from '../domain/schedule.js';
import type { OutgoingMail, SendResult } from '../activities/notifiers/email.js';
import type { SubscriberLinks } from '../activities/subscriber-links.js';
import type { Records } from '../store/records.js';
import type { SubscriberRecords } from '../store/subscribers.js';

const lateMs = 15 * 60_000;

export interface MaintenanceNoticeDeps {
  config: () => Pick<Config, 'services' | 'checks' | 'maintenance'>;
  subscribers: Pick<SubscriberRecords, 'active' | 'unsubscribed' | 'exclusively'>;
  records: Pick<Records, 'ledgerGet' | 'ledgerPut'>;
  email: { send(mail: OutgoingMail): Promise<SendResult> };
  links: Pick<SubscriberLinks, 'unsubscribeUrl'>;
  publicBaseUrl: string;
  workerName?: string;
  allowHttpWebhooks?: boolean;
  log?: (line: string) => void;
}

export interface MaintenanceNotice {
  key: string;
  event: 'started' | 'ended';
  component: string;
  to: string;
}

export function createMaintenanceNotices(d: MaintenanceNoticeDeps) {
  const log = d.log ?? ((l: string) => console.warn(l));
  const statusUrl = `${d.publicBaseUrl.replace(/\/+$/, '')}/status`;

  async function tell(
    o: Occurrence,
    event: 'started' | 'ended',
    r: SubscriberRecipient,
    componentName: string,
    timeZone: string,
  ): Promise<boolean> {
    const key = `maintenance/${o.key}/${event}/${r.kind}:${r.address}`;
    if (await d.records.ledgerGet(key)) return false;
    const unsubscribeUrl = d.links.unsubscribeUrl({
      component: r.component,
      kind: r.kind,
      address: r.address,
    });
    const period = `${formatLocal(o.start, timeZone)}–${formatLocal(o.end, timeZone)} (${timeZone})`;
    let messageId: string | undefined;
    if (r.kind === 'email') {
      const sent = await d.email.send({
        idempotencyKey: key,
        to: [{ ...(r.name ? { name: r.name } : {}), email: r.address }],
        subject:
          event === 'started'
            ? `[Maintenance] ${componentName}: ${o.reason}`
            : `[Maintenance completed] ${componentName}`,
        text: [
          event === 'started'
            ? `Planned maintenance of ${componentName} has started: ${o.reason}.`
            : `Planned maintenance of ${componentName} is over: ${o.reason}.`,
          `Window: ${period}.`,
          event === 'started' ? 'The service may be unavailable until it ends.' : '',
          '',
          `Status page: ${statusUrl}`,
          '',
          '--',
          `You get this because you subscribed to ${componentName} on the status page.`,
          `Unsubscribe: ${unsubscribeUrl}`,
          '',
        ].join('\n'),
        headers: {
          'List-Unsubscribe': `<${unsubscribeUrl}>`,
          'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        },
      });
      messageId = sent.messageId;
    } else {
      const url = new URL(r.address);
      if (url.protocol !== 'https:' && !d.allowHttpWebhooks) throw new Error('webhook is not https');
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({
          type: event === 'started' ? 'maintenance.started' : 'maintenance.ended',
          component: { id: r.component, name: componentName },
          maintenance: o.windowId,
          reason: o.reason,
          from: new Date(o.start).toISOString(),
          until: new Date(o.end).toISOString(),
          statusUrl,
          unsubscribeUrl,
        }),
        redirect: 'error',
        signal: AbortSignal.timeout(10_000),
      });
      await res.body?.cancel().catch(() => undefined);
      if (!res.ok) throw new Error(`webhook ${url.host} answered ${res.status}`);
    }
    await d.records
      .ledgerPut({ idempotencyKey: key, channel: `maintenance-${r.kind}`, messageId, worker: d.workerName })
      .catch((e: unknown) =>
        log(`maintenance notice sent, but its ledger row was not written: ${(e as Error).message}`),
      );
    return true;
  }

  /** Sends every notice due at `now`: windows that started or ended in the last 15 minutes. */
  async function tick(now: number): Promise<MaintenanceNotice[]> {
    const config = d.config();
    if (config.maintenance.length === 0) return [];
    const sent: MaintenanceNotice[] = [];
    await d.subscribers.exclusively(async () => {
      for (const o of allOccurrences(config.maintenance, now - lateMs - 7 * 86_400_000, now + 1)) {
        const entry = config.maintenance.find((m, i) => windowId(m, i) === o.windowId);
        const timeZone = entry?.timeZone ?? defaultMaintenanceZone;
        for (const [event, at] of [
          ['started', o.start],
          ['ended', o.end],
        ] as const) {
          if (at > now || now - at > lateMs) continue;
          const components = coveredComponents(config, o);
          if (components.length === 0) continue;
          const [stored, unsubscribed] = await Promise.all([
            d.subscribers.active(components),
            d.subscribers.unsubscribed(components),
          ]);
          for (const r of subscriberRecipients(config.services, components, stored, unsubscribed)) {
            const name = config.services.find((s) => s.id === r.component)?.component ?? r.component;
            try {
              if (await tell(o, event, r, name, timeZone))
                sent.push({ key: o.key, event, component: r.component, to: r.address });
            } catch (e) {
              log(
                `maintenance notice ${o.key}/${event} to a ${r.kind} subscriber of ${r.component} not sent (tried again in a minute): ${(e as Error).message}`,
              );
            }
          }
        }
      }
    });
    return sent;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  return {
    tick,
    /** Looks every `everyMs` (default a minute) until `stop()`. */
    start(everyMs = 60_000) {
      const run = () => {
        running = tick(Date.now()).catch((e: unknown) =>
          log(`maintenance notices: ${(e as Error).message} (tried again in a minute)`),
        );
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
