/**
 * Status page subscriptions in the record store (tables `subscriptions`, `subscriber_notices`):
 * made by anyone through the status page or `POST /api/subscriptions`, confirmed (email, double
 * opt-in) and ended through signed links; read by the worker's subscriber notices, which also keep
 * here which status messages and resolutions subscribers have been told about.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from './db.js';

export type SubscriptionKind = 'email' | 'webhook';

export interface Subscription {
  id: string;
  component: string;
  kind: SubscriptionKind;
  address: string;
  createdAt: string;
  confirmedAt?: string;
  unsubscribedAt?: string;
}

/** A status message or a resolution subscribers have not been told about yet. */
export interface DueNotice {
  incidentId: string;
  /** `status:<seq>` or `resolved`. */
  notice: string;
  at: string;
  state: string;
  message?: string;
  /** The incident as the store holds it (service, affected services, reason). */
  snapshot: {
    service: { id: string; name: string; component?: string };
    affected?: { id: string }[];
    state: string;
  };
}

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : undefined);

const row = (r: Record<string, unknown>): Subscription => ({
  id: r.id as string,
  component: r.component as string,
  kind: r.kind as SubscriptionKind,
  address: r.address as string,
  createdAt: iso(r.created_at as Date)!,
  ...(r.confirmed_at ? { confirmedAt: iso(r.confirmed_at as Date) } : {}),
  ...(r.unsubscribed_at ? { unsubscribedAt: iso(r.unsubscribed_at as Date) } : {}),
});

/** How long after a confirmation mail another may be asked for the same address (no mail bombing). */
export const confirmationResendMs = 60 * 60_000;

export function createSubscriberRecords(db: Db) {
  return {
    /**
     * Records a subscription. An email is pending until confirmed: a new or unconfirmed (or ended)
     * one asks for a confirmation mail, at most once an hour per address and component. A webhook is
     * active at once. `state` says what happened.
     */
    async subscribe(s: {
      component: string;
      kind: SubscriptionKind;
      address: string;
    }): Promise<{ subscription: Subscription; state: 'confirmation_due' | 'active' | 'already' }> {
      const r = await db.query(
        `INSERT INTO subscriptions (id, component, kind, address, confirmation_requested_at, confirmed_at)
         VALUES ($1, $2, $3, $4, CASE WHEN $3 = 'email' THEN now() END, CASE WHEN $3 = 'webhook' THEN now() END)
         ON CONFLICT (component, kind, address) DO UPDATE SET
           confirmation_requested_at = CASE
             WHEN subscriptions.kind = 'email'
                  AND (subscriptions.confirmed_at IS NULL OR subscriptions.unsubscribed_at IS NOT NULL)
                  AND (subscriptions.confirmation_sent_at IS NULL OR subscriptions.confirmation_sent_at < now() - $5::interval)
             THEN now() ELSE subscriptions.confirmation_requested_at END,
           confirmed_at = CASE WHEN subscriptions.kind = 'webhook' THEN now() ELSE subscriptions.confirmed_at END,
           unsubscribed_at = CASE WHEN subscriptions.kind = 'webhook' THEN NULL ELSE subscriptions.unsubscribed_at END
         RETURNING *, (xmax = 0) AS inserted`,
        [randomUUID(), s.component, s.kind, s.address, `${confirmationResendMs / 1000} seconds`],
      );
      const sub = row(r.rows[0]);
      if (s.kind === 'webhook') return { subscription: sub, state: 'active' };
      if (sub.confirmedAt && !sub.unsubscribedAt) return { subscription: sub, state: 'already' };
      return { subscription: sub, state: 'confirmation_due' };
    },

    async get(id: string): Promise<Subscription | undefined> {
      const r = await db.query('SELECT * FROM subscriptions WHERE id = $1', [id]);
      return r.rows[0] ? row(r.rows[0]) : undefined;
    },

    /** Email subscriptions whose confirmation mail is due. */
    async confirmationsDue(limit = 50): Promise<(Subscription & { requestedAt: string })[]> {
      const r = await db.query(
        `SELECT * FROM subscriptions
         WHERE kind = 'email' AND confirmation_requested_at IS NOT NULL
           AND (confirmation_sent_at IS NULL OR confirmation_sent_at < confirmation_requested_at)
         ORDER BY confirmation_requested_at LIMIT $1`,
        [limit],
      );
      return r.rows.map((x) => ({ ...row(x), requestedAt: iso(x.confirmation_requested_at as Date)! }));
    },

    async confirmationSent(id: string): Promise<void> {
      await db.query('UPDATE subscriptions SET confirmation_sent_at = now() WHERE id = $1', [id]);
    },

    /** The confirmation link was used: the subscription is active (again). */
    async confirm(id: string): Promise<Subscription | undefined> {
      const r = await db.query(
        `UPDATE subscriptions SET confirmed_at = coalesce(CASE WHEN unsubscribed_at IS NULL THEN confirmed_at END, now()),
           unsubscribed_at = NULL
         WHERE id = $1 RETURNING *`,
        [id],
      );
      return r.rows[0] ? row(r.rows[0]) : undefined;
    },

    /**
     * Ends the subscription of an address to a component; for a config subscriber (not stored) a row
     * is made that keeps the address from being notified. True when it was active before.
     */
    async unsubscribe(s: { component: string; kind: SubscriptionKind; address: string }): Promise<boolean> {
      const r = await db.query(
        `INSERT INTO subscriptions (id, component, kind, address, unsubscribed_at)
         VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (component, kind, address) DO UPDATE SET
           unsubscribed_at = coalesce(subscriptions.unsubscribed_at, now())
         RETURNING (xmax = 0) AS inserted, unsubscribed_at`,
        [randomUUID(), s.component, s.kind, s.address],
      );
      return Boolean(r.rows[0]);
    },

    /** Confirmed, active subscriptions to any of the components. */
    async active(components: string[]): Promise<Subscription[]> {
      if (components.length === 0) return [];
      const r = await db.query(
        `SELECT * FROM subscriptions WHERE component = ANY($1) AND confirmed_at IS NOT NULL AND unsubscribed_at IS NULL
         ORDER BY created_at`,
        [components],
      );
      return r.rows.map(row);
    },

    /** Addresses that unsubscribed from any of the components (config subscribers among them). */
    async unsubscribed(components: string[]): Promise<Set<string>> {
      if (components.length === 0) return new Set();
      const r = await db.query(
        `SELECT component, kind, address FROM subscriptions WHERE component = ANY($1) AND unsubscribed_at IS NOT NULL`,
        [components],
      );
      return new Set(r.rows.map((x) => `${x.component}\n${x.kind}\n${x.address}`));
    },

    /**
     * Status messages of the last two days and resolutions (closed as resolved, after a published
     * message) that subscribers have not been told about, oldest first.
     */
    async dueNotices(limit = 20): Promise<DueNotice[]> {
      const r = await db.query(
        `SELECT * FROM (
           SELECT m.incident_id, 'status:' || m.seq AS notice, m.at, m.state, m.message, i.snapshot
           FROM status_messages m JOIN incidents i ON i.id = m.incident_id
           WHERE m.at > now() - interval '2 days'
             AND NOT EXISTS (SELECT 1 FROM subscriber_notices n WHERE n.incident_id = m.incident_id AND n.notice = 'status:' || m.seq)
           UNION ALL
           SELECT i.id, 'resolved', i.closed_at, i.state, NULL, i.snapshot
           FROM incidents i
           WHERE i.closed_at IS NOT NULL AND i.state = 'resolved' AND i.closed_at > now() - interval '2 days'
             AND EXISTS (SELECT 1 FROM status_messages m WHERE m.incident_id = i.id)
             AND NOT EXISTS (SELECT 1 FROM subscriber_notices n WHERE n.incident_id = i.id AND n.notice = 'resolved')
         ) due ORDER BY at LIMIT $1`,
        [limit],
      );
      return r.rows.map((x) => ({
        incidentId: x.incident_id as string,
        notice: x.notice as string,
        at: iso(x.at as Date)!,
        state: x.state as string,
        ...(x.message ? { message: x.message as string } : {}),
        snapshot: x.snapshot as DueNotice['snapshot'],
      }));
    },

    /** Every subscriber has been told (their mails are in the sent ledger). */
    async noticeDone(incidentId: string, ...notices: string[]): Promise<void> {
      await db.query(
        `INSERT INTO subscriber_notices (incident_id, notice) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`,
        [incidentId, notices],
      );
    },

    /** The latest published message of an incident (quoted in the resolution notice). */
    async lastMessage(incidentId: string): Promise<{ state: string; message: string } | undefined> {
      const r = await db.query(
        'SELECT state, message FROM status_messages WHERE incident_id = $1 ORDER BY seq DESC LIMIT 1',
        [incidentId],
      );
      return r.rows[0] ? { state: r.rows[0].state, message: r.rows[0].message } : undefined;
    },

    /** One dispatcher at a time across workers (a session-level advisory lock on one connection). */
    async exclusively<T>(fn: () => Promise<T>): Promise<T | undefined> {
      const c = await db.connect();
      try {
        const got = await c.query("SELECT pg_try_advisory_lock(hashtext('subscriber-notices')) AS ok");
        if (!got.rows[0]?.ok) return undefined;
        try {
          return await fn();
        } finally {
          await c.query("SELECT pg_advisory_unlock(hashtext('subscriber-notices'))").catch(() => undefined);
        }
      } finally {
        c.release();
      }
    },
  };
}

export type SubscriberRecords = ReturnType<typeof createSubscriberRecords>;
