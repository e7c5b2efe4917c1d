/**
 * The record store: every incident's timeline, pages and delivery attempts, status messages,
 * reports, postmortems, follow-ups, changes, and the sent ledger shared by every worker. Writes are
 * idempotent (the key of an event is its incident and sequence; a retried write changes nothing);
 * reads assemble the views the API, the status page and the postmortem show.
 */
import type {
  DeliveryRecord,
  IncidentSnapshot,
  IncidentView,
  PageRecord,
  StatusMessage,
  StoredEvent,
  TimelineEvent,
} from '../domain/incident.js';
import type { Db } from './db.js';

/**
 * A valid RFC 3339 date-time as PostgreSQL reads it: in UTC (PostgreSQL refuses offsets beyond
 * ±15:59, which RFC 3339 allows up to ±23:59) and not before year 1 (it has no year 0).
 */
export function storeInstant(iso: string): string {
  return new Date(Math.max(Date.parse(iso), yearOne)).toISOString();
}
const yearOne = Date.parse('0001-01-01T00:00:00Z');

export interface RecordBatch {
  incident: IncidentSnapshot;
  runId: string;
  /** The highest sequence this batch's snapshot reflects. */
  version: number;
  events: StoredEvent[];
}

export interface IncidentFilter {
  service?: string;
  severity?: string;
  state?: string;
  open?: boolean;
  /** Words to find in the reason and the notes (PostgreSQL full-text search, `simple` config). */
  q?: string;
  /** Opened at or after / before (ISO-8601). */
  from?: string;
  to?: string;
  limit: number;
  offset?: number;
}

export interface IncidentSummary {
  id: string;
  service: string;
  severity: string;
  state: string;
  reason: string;
  openedAt: string;
  closedAt?: string;
  running: boolean;
}

export interface LedgerEntry {
  idempotencyKey: string;
  channel: string;
  messageId?: string;
  sentAt: string;
}

export interface StoredPostmortem {
  incidentId: string;
  workflowId: string;
  service: string;
  severity: string;
  state: string;
  ownerId: string;
  dueDate: string;
  overdueAt: string;
  completedAt?: string;
  url?: string;
  markdown: string;
  view: Record<string, unknown>;
  followUps?: {
    id: string;
    title: string;
    owner?: { id?: string };
    dueDate: string;
    recordedBy: string;
    recordedAt: string;
    remindedAt?: string;
  }[];
}

export interface SummaryReport {
  from: string;
  to: string;
  service?: string;
  incidents: number;
  /** Mean and median seconds from opened to first acknowledgement, over acknowledged incidents. */
  mttaSeconds?: number;
  medianTtaSeconds?: number;
  /** Mean seconds from opened to resolved, over resolved incidents. */
  mttrSeconds?: number;
  medianTtrSeconds?: number;
  /** Mean seconds from opened to the first public status message, over incidents that had one. */
  meanTimeToFirstMessageSeconds?: number;
  pagesPerPerson: { recipient: string; name: string; pages: number }[];
  incidentsPerService: { service: string; incidents: number }[];
  bySeverity: { severity: string; incidents: number }[];
}

const iso = (d: Date | string | null | undefined): string | undefined =>
  d === null || d === undefined ? undefined : new Date(d).toISOString();

/** The record's figures for `/metrics` (see `metricsSnapshot`). */
export interface RecordMetrics {
  open: Array<{ severity: string; state: string; count: number }>;
  deliveries: Array<{ channel: string; outcome: string; count: number }>;
  /** Per severity: acknowledged incidents, the sum of their times to acknowledge, cumulative bucket counts. */
  timeToAcknowledge: Array<{ severity: string; count: number; sumSeconds: number; buckets: number[] }>;
  escalationLatenessSeconds: number;
}

/** Seconds from opening to the first acknowledgement, per acknowledged incident. */
const ttaSql = `SELECT i.severity, extract(epoch FROM (min(t.at) - i.opened_at))::float8 AS s
  FROM incidents i JOIN timeline_events t ON t.incident_id = i.id AND t.kind = 'acknowledged'
  GROUP BY i.id, i.severity, i.opened_at`;

/** Writes events (timeline lines, status messages, pages, attempts, reports); ones present stay. */
async function insertEvents(
  c: { query: Db['query'] },
  incidentId: string,
  runId: string,
  events: StoredEvent[],
): Promise<number> {
  let inserted = 0;
  const lines = events.filter((e) => !e.hidden);
  if (lines.length > 0) {
    const r = await c.query(
      `INSERT INTO timeline_events (incident_id, seq, run_id, at, actor, kind, detail)
       SELECT $1, e.seq, $2, e.at, e.actor, e.kind, e.detail
       FROM jsonb_to_recordset($3::jsonb) AS e(seq bigint, at timestamptz, actor text, kind text, detail text)
       ON CONFLICT DO NOTHING`,
      [
        incidentId,
        runId,
        JSON.stringify(lines.map(({ seq, at, actor, kind, detail }) => ({ seq, at, actor, kind, detail }))),
      ],
    );
    inserted = r.rowCount ?? 0;
  }
  const status = events.filter((e) => e.status);
  if (status.length > 0)
    await c.query(
      `INSERT INTO status_messages (incident_id, seq, at, state, message, author)
       SELECT $1, e.seq, e.at, e.state, e.message, e.author
       FROM jsonb_to_recordset($2::jsonb) AS e(seq bigint, at timestamptz, state text, message text, author text)
       ON CONFLICT DO NOTHING`,
      [incidentId, JSON.stringify(status.map((e) => ({ seq: e.seq, at: e.at, ...e.status })))],
    );
  const pages = events.filter((e) => e.page);
  if (pages.length > 0)
    await c.query(
      `INSERT INTO pages (incident_id, seq, at, level, cycle, reason, recipient_id, recipient)
       SELECT $1, e.seq, e.at, e.level, e.cycle, e.reason, e.recipient->>'id', e.recipient
       FROM jsonb_to_recordset($2::jsonb) AS e(seq bigint, at timestamptz, level int, cycle int, reason text, recipient jsonb)
       ON CONFLICT DO NOTHING`,
      [incidentId, JSON.stringify(pages.map((e) => ({ seq: e.seq, at: e.at, ...e.page })))],
    );
  const attempts = events.filter((e) => e.attempt);
  if (attempts.length > 0)
    await c.query(
      `INSERT INTO delivery_attempts (incident_id, seq, at, channel, recipient_id, outcome, detail, method, level, attempt)
       SELECT $1, e.seq, e.at, e.channel, e."recipientId", e.outcome, e.detail, e.method, e.level, e.attempt
       FROM jsonb_to_recordset($2::jsonb) AS e(seq bigint, at timestamptz, channel text, "recipientId" text, outcome text, detail text, method text, level int, attempt int)
       ON CONFLICT DO NOTHING`,
      [
        incidentId,
        JSON.stringify(attempts.map((e) => ({ seq: e.seq, at: e.at, detail: e.detail, ...e.attempt }))),
      ],
    );
  const reports = events.filter((e) => e.report);
  if (reports.length > 0)
    await c.query(
      `INSERT INTO reports (incident_id, seq, at, source, actor, reason, contact, from_service)
       SELECT $1, e.seq, e.at, e.source, e.actor, e.reason, e.contact, e."fromService"
       FROM jsonb_to_recordset($2::jsonb) AS e(seq bigint, at timestamptz, source text, actor text, reason text, contact text, "fromService" text)
       ON CONFLICT DO NOTHING`,
      [incidentId, JSON.stringify(reports.map((e) => ({ seq: e.seq, at: e.at, ...e.report })))],
    );
  return inserted;
}

export function createRecords(db: Db) {
  return {
    db,

    /** Writes one batch in one transaction. Events already present are left as they are. */
    async recordBatch(b: RecordBatch): Promise<{ inserted: number }> {
      const c = await db.connect();
      try {
        await c.query('BEGIN');
        const s = b.incident;
        await c.query(
          `INSERT INTO incidents (id, workflow_id, run_id, service, severity, state, reason, source, opened_at, closed_at, snapshot, version)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)
           ON CONFLICT (id) DO UPDATE SET run_id = EXCLUDED.run_id, severity = EXCLUDED.severity, state = EXCLUDED.state,
             reason = EXCLUDED.reason, closed_at = EXCLUDED.closed_at, snapshot = EXCLUDED.snapshot,
             version = EXCLUDED.version, updated_at = now()
           WHERE incidents.version <= EXCLUDED.version`,
          [
            s.id,
            s.workflowId,
            b.runId,
            s.service.id,
            s.severity,
            s.state,
            s.reason,
            s.source,
            s.openedAt,
            s.closedAt ?? null,
            JSON.stringify(s),
            b.version,
          ],
        );
        const inserted = await insertEvents(c, s.id, b.runId, b.events);
        await c.query('COMMIT');
        return { inserted };
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    },

    /**
     * Adds events to an incident after its workflow closed (the resolved notices' outcomes, sent by
     * the hand-off workflow): lines and attempts only, the snapshot stays. Idempotent on `seq`.
     */
    async appendEvents(incidentId: string, events: StoredEvent[]): Promise<{ inserted: number }> {
      const c = await db.connect();
      try {
        await c.query('BEGIN');
        const r = await c.query<{ run_id: string }>('SELECT run_id FROM incidents WHERE id = $1', [
          incidentId,
        ]);
        const runId = r.rows[0]?.run_id;
        if (!runId) throw new Error(`incident ${incidentId} is not in the record store`);
        const inserted = await insertEvents(c, incidentId, runId, events);
        await c.query('COMMIT');
        return { inserted };
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    },

    /** The id of a service's newest incident. */
    async latestIncidentId(service: string): Promise<string | undefined> {
      const r = await db.query<{ id: string }>(
        'SELECT id FROM incidents WHERE service = $1 ORDER BY opened_at DESC, id LIMIT 1',
        [service],
      );
      return r.rows[0]?.id;
    },

    /** The incident's row (state, times) without its timeline. */
    async getIncidentRow(
      id: string,
    ): Promise<{ state: string; closedAt?: string; runId: string } | undefined> {
      const r = await db.query('SELECT state, closed_at, run_id FROM incidents WHERE id = $1', [id]);
      const x = r.rows[0];
      return x
        ? { state: x.state, runId: x.run_id, ...(x.closed_at ? { closedAt: iso(x.closed_at) } : {}) }
        : undefined;
    },

    /** The whole incident as the API shows it; undefined when the store has never heard of it. */
    async getIncident(id: string): Promise<IncidentView | undefined> {
      const r = await db.query<{ snapshot: IncidentSnapshot }>(
        'SELECT snapshot FROM incidents WHERE id = $1',
        [id],
      );
      const row = r.rows[0];
      if (!row) return undefined;
      const [timeline, status, paged, deliveries] = await Promise.all([
        db.query(
          'SELECT seq, at, actor, kind, detail FROM timeline_events WHERE incident_id = $1 ORDER BY seq',
          [id],
        ),
        db.query(
          'SELECT at, state, message, author FROM status_messages WHERE incident_id = $1 ORDER BY seq',
          [id],
        ),
        db.query(
          'SELECT at, level, cycle, reason, recipient FROM pages WHERE incident_id = $1 ORDER BY seq',
          [id],
        ),
        db.query(
          `SELECT at, channel, recipient_id, outcome, detail, method, level, attempt
           FROM delivery_attempts WHERE incident_id = $1 ORDER BY seq`,
          [id],
        ),
      ]);
      return {
        ...assemble(row.snapshot, timeline.rows, status.rows, paged.rows),
        deliveries: deliveries.rows.map(deliveryOf),
      };
    },

    /**
     * The incident with at most `maxEvents` timeline events (for the postmortem draft): every event
     * but notes, joined reports and delivery noise first, then as many of those as fit; a line says
     * how many were left out.
     */
    async getIncidentDigest(id: string, maxEvents = 400): Promise<IncidentView | undefined> {
      const r = await db.query<{ snapshot: IncidentSnapshot }>(
        'SELECT snapshot FROM incidents WHERE id = $1',
        [id],
      );
      const row = r.rows[0];
      if (!row) return undefined;
      const noisy = ['note', 'joined', 'page-failed', 'webhook', 'webhook-failed', 'acknowledged'];
      const [total, timeline, status, paged] = await Promise.all([
        db.query<{ n: string }>('SELECT count(*) AS n FROM timeline_events WHERE incident_id = $1', [id]),
        db.query(
          `(SELECT seq, at, actor, kind, detail FROM timeline_events WHERE incident_id = $1 AND NOT (kind = ANY($2)) ORDER BY seq LIMIT $3)
           UNION ALL
           (SELECT seq, at, actor, kind, left(detail, 1000) FROM timeline_events WHERE incident_id = $1 AND kind = ANY($2) ORDER BY seq LIMIT $3)
           ORDER BY seq`,
          [id, noisy, maxEvents],
        ),
        db.query(
          'SELECT at, state, message, author FROM status_messages WHERE incident_id = $1 ORDER BY seq LIMIT 200',
          [id],
        ),
        db.query(
          'SELECT at, level, cycle, reason, recipient FROM pages WHERE incident_id = $1 ORDER BY seq LIMIT 500',
          [id],
        ),
      ]);
      let rows = timeline.rows as { seq: string; kind: string }[];
      if (rows.length > maxEvents) {
        const important = rows.filter((e) => !noisy.includes(e.kind));
        const room = Math.max(0, maxEvents - important.length);
        const keep = new Set(rows.filter((e) => noisy.includes(e.kind)).slice(0, room));
        rows = rows.filter((e) => !noisy.includes(e.kind) || keep.has(e));
      }
      const view = assemble(row.snapshot, rows, status.rows, paged.rows);
      const left = Number(total.rows[0]!.n) - rows.length;
      if (left > 0)
        view.timeline.push({
          at: view.closedAt ?? view.timeline[view.timeline.length - 1]?.at ?? view.openedAt,
          actor: 'system',
          kind: 'note',
          detail: `${left} more timeline event(s) (notes, reports, acknowledgements) are in the incident's full record`,
        });
      return view;
    },

    async listIncidents(f: IncidentFilter): Promise<IncidentSummary[]> {
      const where: string[] = [];
      const args: unknown[] = [];
      const arg = (v: unknown) => {
        args.push(v);
        return `$${args.length}`;
      };
      if (f.service) where.push(`service = ${arg(f.service)}`);
      if (f.severity) where.push(`severity = ${arg(f.severity)}`);
      if (f.state) where.push(`state = ${arg(f.state)}`);
      if (f.open === true) where.push('closed_at IS NULL');
      if (f.open === false) where.push('closed_at IS NOT NULL');
      if (f.from) where.push(`opened_at >= ${arg(storeInstant(f.from))}`);
      if (f.to) where.push(`opened_at < ${arg(storeInstant(f.to))}`);
      if (f.q) {
        const q = arg(f.q);
        where.push(
          `(to_tsvector('simple', reason) @@ plainto_tsquery('simple', ${q}) OR reason ILIKE '%' || ${q} || '%'
            OR EXISTS (SELECT 1 FROM timeline_events t WHERE t.incident_id = incidents.id AND t.kind = 'note'
                       AND to_tsvector('simple', t.detail) @@ plainto_tsquery('simple', ${q})))`,
        );
      }
      const sql =
        `SELECT id, service, severity, state, reason, opened_at, closed_at FROM incidents` +
        (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
        ` ORDER BY opened_at DESC, id LIMIT ${arg(f.limit)} OFFSET ${arg(f.offset ?? 0)}`;
      const r = await db.query(sql, args);
      return r.rows.map((x) => ({
        id: x.id,
        service: x.service,
        severity: x.severity,
        state: x.state,
        reason: x.reason,
        openedAt: iso(x.opened_at)!,
        ...(x.closed_at ? { closedAt: iso(x.closed_at) } : {}),
        running: !x.closed_at,
      }));
    },

    /**
     * What the public page needs: open incidents with a published message and those closed since
     * `since`, each with its messages.
     */
    async boardIncidents(since: string, services: string[]): Promise<IncidentView[]> {
      const r = await db.query<{ snapshot: IncidentSnapshot; messages: StatusMessage[] }>(
        `SELECT i.snapshot,
                (SELECT json_agg(json_build_object('at', m.at, 'state', m.state, 'message', m.message, 'author', m.author) ORDER BY m.seq)
                   FROM status_messages m WHERE m.incident_id = i.id) AS messages
           FROM incidents i
          WHERE i.service = ANY($2)
            AND (i.closed_at IS NULL OR i.closed_at >= $1)
            AND EXISTS (SELECT 1 FROM status_messages m WHERE m.incident_id = i.id)
          ORDER BY i.opened_at DESC
          LIMIT 1000`,
        [since, services],
      );
      return r.rows.map((x) =>
        assemble(
          x.snapshot,
          [],
          (x.messages ?? []).map((m) => ({ ...m, at: iso(m.at)! })),
          [],
        ),
      );
    },

    async ledgerGet(key: string): Promise<LedgerEntry | undefined> {
      const r = await db.query(
        'SELECT idempotency_key, channel, message_id, sent_at FROM sent_ledger WHERE idempotency_key = $1',
        [key],
      );
      const x = r.rows[0];
      return x
        ? {
            idempotencyKey: x.idempotency_key,
            channel: x.channel,
            messageId: x.message_id ?? undefined,
            sentAt: iso(x.sent_at)!,
          }
        : undefined;
    },

    async ledgerPut(e: Omit<LedgerEntry, 'sentAt'> & { worker?: string }): Promise<void> {
      await db.query(
        'INSERT INTO sent_ledger (idempotency_key, channel, message_id, worker) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING',
        [e.idempotencyKey, e.channel, e.messageId ?? null, e.worker ?? null],
      );
    },

    /** Every report that joined the incident, in order. */
    async listReports(
      incidentId: string,
    ): Promise<{ at: string; source: string; actor: string; reason: string; contact?: string }[]> {
      const r = await db.query(
        'SELECT at, source, actor, reason, contact FROM reports WHERE incident_id = $1 ORDER BY seq',
        [incidentId],
      );
      return r.rows.map((x) => ({
        at: iso(x.at)!,
        source: x.source,
        actor: x.actor,
        reason: x.reason,
        ...(x.contact ? { contact: x.contact } : {}),
      }));
    },

    async countReports(incidentId: string): Promise<number> {
      const r = await db.query<{ n: string }>('SELECT count(*) AS n FROM reports WHERE incident_id = $1', [
        incidentId,
      ]);
      return Number(r.rows[0]!.n);
    },

    async recordPostmortem(p: StoredPostmortem): Promise<void> {
      const c = await db.connect();
      try {
        await c.query('BEGIN');
        await c.query(
          `INSERT INTO postmortems (incident_id, workflow_id, service, severity, state, owner_id, due_date, overdue_at, completed_at, url, markdown, view)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)
           ON CONFLICT (incident_id) DO UPDATE SET state = EXCLUDED.state, completed_at = EXCLUDED.completed_at,
             url = EXCLUDED.url, markdown = EXCLUDED.markdown, view = EXCLUDED.view, updated_at = now()`,
          [
            p.incidentId,
            p.workflowId,
            p.service,
            p.severity,
            p.state,
            p.ownerId,
            p.dueDate,
            p.overdueAt,
            p.completedAt ?? null,
            p.url ?? null,
            p.markdown,
            JSON.stringify(p.view),
          ],
        );
        for (const f of p.followUps ?? [])
          await c.query(
            `INSERT INTO follow_ups (incident_id, id, title, owner_id, due_date, recorded_by, recorded_at, reminded_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
             ON CONFLICT (incident_id, id) DO UPDATE SET reminded_at = EXCLUDED.reminded_at`,
            [
              p.incidentId,
              f.id,
              f.title,
              f.owner?.id ?? null,
              f.dueDate,
              f.recordedBy,
              f.recordedAt,
              f.remindedAt ?? null,
            ],
          );
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    },

    async getPostmortem(incidentId: string): Promise<Record<string, unknown> | undefined> {
      const r = await db.query<{ view: Record<string, unknown> }>(
        'SELECT view FROM postmortems WHERE incident_id = $1',
        [incidentId],
      );
      return r.rows[0]?.view;
    },

    async listPostmortems(f: { state?: 'due' | 'overdue' | 'completed'; limit: number }) {
      const where =
        f.state === 'completed'
          ? "WHERE state = 'completed'"
          : f.state === 'overdue'
            ? "WHERE state <> 'completed' AND overdue_at < now()"
            : f.state === 'due'
              ? "WHERE state <> 'completed'"
              : '';
      const r = await db.query<{ view: Record<string, unknown> }>(
        `SELECT view FROM postmortems ${where} ORDER BY due_date DESC, incident_id LIMIT $1`,
        [f.limit],
      );
      return r.rows.map((x) => x.view);
    },

    async recordChange(id: string, at: string, event: unknown): Promise<void> {
      await db.query('INSERT INTO changes (id, at, event) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING', [
        id,
        at,
        JSON.stringify(event),
      ]);
    },

    async summary(f: { from: string; to: string; service?: string }): Promise<SummaryReport> {
      const args: unknown[] = [storeInstant(f.from), storeInstant(f.to)];
      let svc = '';
      if (f.service) {
        args.push(f.service);
        svc = ' AND i.service = $3';
      }
      const base = `FROM incidents i WHERE i.opened_at >= $1 AND i.opened_at < $2 AND i.state <> 'dismissed'${svc}`;
      const [times, people, services, severities] = await Promise.all([
        db.query(
          `SELECT count(*) AS n,
             avg(extract(epoch FROM (ack.at - i.opened_at))) AS mtta,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM (ack.at - i.opened_at))) AS tta50,
             avg(extract(epoch FROM (i.closed_at - i.opened_at))) FILTER (WHERE i.state = 'resolved') AS mttr,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM (i.closed_at - i.opened_at))) FILTER (WHERE i.state = 'resolved') AS ttr50,
             avg(extract(epoch FROM (msg.at - i.opened_at))) AS ttfm
           FROM incidents i
           LEFT JOIN LATERAL (SELECT min(t.at) AS at FROM timeline_events t WHERE t.incident_id = i.id AND t.kind = 'acknowledged') ack ON true
           LEFT JOIN LATERAL (SELECT min(m.at) AS at FROM status_messages m WHERE m.incident_id = i.id) msg ON true
           WHERE i.opened_at >= $1 AND i.opened_at < $2 AND i.state <> 'dismissed'${svc}`,
          args,
        ),
        db.query(
          `SELECT p.recipient_id, max(p.recipient->>'name') AS name, count(*) AS n
             FROM pages p JOIN incidents i ON i.id = p.incident_id
            WHERE i.opened_at >= $1 AND i.opened_at < $2 AND i.state <> 'dismissed'${svc}
            GROUP BY p.recipient_id ORDER BY n DESC, p.recipient_id`,
          args,
        ),
        db.query(
          `SELECT i.service, count(*) AS n ${base} GROUP BY i.service ORDER BY n DESC, i.service`,
          args,
        ),
        db.query(`SELECT i.severity, count(*) AS n ${base} GROUP BY i.severity ORDER BY i.severity`, args),
      ]);
      const t = times.rows[0]!;
      const num = (v: unknown) => (v === null || v === undefined ? undefined : Math.round(Number(v)));
      return {
        from: f.from,
        to: f.to,
        ...(f.service ? { service: f.service } : {}),
        incidents: Number(t.n),
        mttaSeconds: num(t.mtta),
        medianTtaSeconds: num(t.tta50),
        mttrSeconds: num(t.mttr),
        medianTtrSeconds: num(t.ttr50),
        meanTimeToFirstMessageSeconds: num(t.ttfm),
        pagesPerPerson: people.rows.map((x) => ({
          recipient: x.recipient_id,
          name: x.name,
          pages: Number(x.n),
        })),
        incidentsPerService: services.rows.map((x) => ({ service: x.service, incidents: Number(x.n) })),
        bySeverity: severities.rows.map((x) => ({ severity: x.severity, incidents: Number(x.n) })),
      };
    },

    /** Ends a console session (a logout); rows past their expiry are dropped on the way. */
    async endSession(id: string, expiresAt: Date): Promise<void> {
      await db.query('DELETE FROM ended_sessions WHERE expires_at < now()');
      await db.query(
        'INSERT INTO ended_sessions (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING',
        [id, expiresAt],
      );
    },

    async isSessionEnded(id: string): Promise<boolean> {
      const r = await db.query('SELECT 1 FROM ended_sessions WHERE id = $1', [id]);
      return (r.rowCount ?? 0) > 0;
    },

    /**
     * What `/metrics` shows of the record (the whole deployment, not one process): open incidents by
     * severity and state, delivery attempts by channel and outcome, time to acknowledge in the
     * given buckets (seconds, by severity) and how far past due the most overdue escalation is.
     */
    async metricsSnapshot(buckets: readonly number[]): Promise<RecordMetrics> {
      const [open, deliveries, tta, ttaBuckets, late] = await Promise.all([
        db.query(
          'SELECT severity, state, count(*) AS n FROM incidents WHERE closed_at IS NULL GROUP BY severity, state',
        ),
        db.query('SELECT channel, outcome, count(*) AS n FROM delivery_attempts GROUP BY channel, outcome'),
        db.query(
          `WITH tta AS (${ttaSql}) SELECT severity, count(*) AS n, coalesce(sum(s), 0) AS total FROM tta GROUP BY severity`,
        ),
        db.query(
          `WITH tta AS (${ttaSql})
           SELECT severity, le, count(*) FILTER (WHERE s <= le) AS n
             FROM tta CROSS JOIN unnest($1::float8[]) AS le GROUP BY severity, le`,
          [buckets],
        ),
        db.query(
          `SELECT coalesce(max(extract(epoch FROM (now() - (snapshot->>'nextEscalationAt')::timestamptz))), 0) AS s
             FROM incidents
            WHERE closed_at IS NULL AND state = 'triggered' AND snapshot ? 'nextEscalationAt'`,
        ),
      ]);
      const byLe = new Map<string, Map<number, number>>();
      for (const r of ttaBuckets.rows) {
        const m = byLe.get(r.severity) ?? new Map<number, number>();
        m.set(Number(r.le), Number(r.n));
        byLe.set(r.severity, m);
      }
      return {
        open: open.rows.map((r) => ({ severity: r.severity, state: r.state, count: Number(r.n) })),
        deliveries: deliveries.rows.map((r) => ({
          channel: r.channel,
          outcome: r.outcome,
          count: Number(r.n),
        })),
        timeToAcknowledge: tta.rows.map((r) => ({
          severity: r.severity,
          count: Number(r.n),
          sumSeconds: Number(r.total),
          buckets: buckets.map((le) => byLe.get(r.severity)?.get(le) ?? 0),
        })),
        escalationLatenessSeconds: Math.max(0, Number(late.rows[0]?.s ?? 0)),
      };
    },

    async ping(): Promise<boolean> {
      try {
        await db.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
  };
}

export type Records = ReturnType<typeof createRecords>;

function deliveryOf(d: Record<string, unknown>): DeliveryRecord {
  return {
    at: iso(d.at as string)!,
    channel: d.channel as string,
    outcome: d.outcome as DeliveryRecord['outcome'],
    detail: d.detail as string,
    ...(d.recipient_id ? { recipientId: d.recipient_id as string } : {}),
    ...(d.method ? { method: d.method as string } : {}),
    ...(d.level !== null && d.level !== undefined ? { level: Number(d.level) } : {}),
    ...(d.attempt !== null && d.attempt !== undefined ? { attempt: Number(d.attempt) } : {}),
  };
}

function assemble(
  snapshot: IncidentSnapshot,
  timeline: Record<string, unknown>[],
  status: Record<string, unknown>[],
  paged: Record<string, unknown>[],
): IncidentView {
  const { statusCount: _s, pagedCount: _p, lastStatus: _l, ...rest } = snapshot;
  return {
    ...rest,
    timeline: timeline.map((e): TimelineEvent => ({
      at: iso(e.at as string)!,
      actor: e.actor as string,
      kind: e.kind as TimelineEvent['kind'],
      detail: e.detail as string,
    })),
    status: status.map((m): StatusMessage => ({
      at: iso(m.at as string)!,
      state: m.state as StatusMessage['state'],
      message: m.message as string,
      author: m.author as string,
    })),
    paged: paged.map((p): PageRecord => ({
      at: iso(p.at as string)!,
      level: Number(p.level),
      cycle: Number(p.cycle),
      reason: p.reason as PageRecord['reason'],
      recipient: p.recipient as PageRecord['recipient'],
    })),
  };
}
