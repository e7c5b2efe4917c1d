/**
 * On-call overrides in the record store (table `schedule_overrides`): made through the API, read by
 * the worker at page time and by the API's schedule views. Kept apart from records.ts: overrides are
 * their own resource with their own lifecycle (created, listed, deleted).
 */
import { randomUUID } from 'node:crypto';
import type { Override } from '../domain/schedule.js';
import type { Db } from './db.js';

/** An override as stored: the domain's `Override` plus its schedule and who made it. */
export interface StoredOverride extends Override {
  id: string;
  scheduleId: string;
  createdBy: string;
  createdAt: string;
}

export interface NewOverride {
  scheduleId: string;
  from: string;
  until: string;
  by: string;
  replaces?: string;
  createdBy: string;
}

const iso = (d: Date | string) => new Date(d).toISOString();

const row = (r: Record<string, unknown>): StoredOverride => ({
  id: r.id as string,
  scheduleId: r.schedule_id as string,
  from: iso(r.from_at as Date),
  until: iso(r.until_at as Date),
  by: r.by_contact as string,
  ...(r.replaces ? { replaces: r.replaces as string } : {}),
  createdBy: r.created_by as string,
  createdAt: iso(r.created_at as Date),
});

export function createScheduleRecords(db: Db) {
  return {
    async addOverride(o: NewOverride): Promise<StoredOverride> {
      const r = await db.query(
        `INSERT INTO schedule_overrides (id, schedule_id, from_at, until_at, by_contact, replaces, created_by)
         VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING *`,
        [`ovr-${randomUUID()}`, o.scheduleId, o.from, o.until, o.by, o.replaces ?? null, o.createdBy],
      );
      return row(r.rows[0] as Record<string, unknown>);
    },

    /** Whether it existed (deleted now). */
    async deleteOverride(scheduleId: string, id: string): Promise<boolean> {
      const r = await db.query('DELETE FROM schedule_overrides WHERE schedule_id = $1 AND id = $2', [
        scheduleId,
        id,
      ]);
      return (r.rowCount ?? 0) > 0;
    },

    /**
     * The overrides of some schedules that overlap `[fromMs, toMs)`, oldest first (where two overlap,
     * the later one wins, as domain/schedule.ts reads the list).
     */
    async overridesFor(
      scheduleIds: readonly string[],
      fromMs: number,
      toMs: number,
    ): Promise<Map<string, StoredOverride[]>> {
      const out = new Map<string, StoredOverride[]>(scheduleIds.map((id) => [id, []]));
      if (scheduleIds.length === 0) return out;
      const r = await db.query(
        `SELECT * FROM schedule_overrides
         WHERE schedule_id = ANY($1) AND until_at > $2 AND from_at < $3
         ORDER BY created_at, id`,
        [scheduleIds, new Date(fromMs).toISOString(), new Date(toMs).toISOString()],
      );
      for (const x of r.rows as Record<string, unknown>[]) out.get(x.schedule_id as string)?.push(row(x));
      return out;
    },

    /**
     * Claims a notice in the shared sent ledger: true for the one caller that may send it (every
     * worker may look for due notices at the same time).
     */
    async claimNotice(key: string, worker?: string): Promise<boolean> {
      const r = await db.query(
        `INSERT INTO sent_ledger (idempotency_key, channel, worker) VALUES ($1, 'handoff-notice', $2)
         ON CONFLICT DO NOTHING`,
        [key, worker ?? null],
      );
      return (r.rowCount ?? 0) > 0;
    },

    /** Gives a claim back after a failed send, so the next look sends it. */
    async releaseNotice(key: string): Promise<void> {
      await db.query(`DELETE FROM sent_ledger WHERE idempotency_key = $1 AND channel = 'handoff-notice'`, [
        key,
      ]);
    },
  };
}

export type ScheduleRecords = ReturnType<typeof createScheduleRecords>;
