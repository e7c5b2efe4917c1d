/**
 * Each monitor's live probe state (table `monitor_status`): the probe loop writes a row after every
 * probe and when one starts; the API and the console read it. Kept apart from records.ts: one row per
 * check, overwritten in place, never part of an incident's record.
 */
import type { Db } from './db.js';

export interface MonitorStatusRow {
  checkId: string;
  /** The last finished probe (absent before the first one). */
  lastResult?: { ok: boolean; code: string; message: string; latencyMs: number; at: string };
  /** When the next probe starts; absent while one runs (see `probingSince`). */
  nextProbeAt?: string;
  probingSince?: string;
  health: 'healthy' | 'failing';
  /** Results in a row that disagree with `health` (failures while healthy, passes while failing). */
  streak: number;
  probes: number;
  updatedAt: string;
}

export type MonitorStatusWrite = Omit<MonitorStatusRow, 'updatedAt'> & { updatedAt?: string };

const iso = (d: unknown) => (d ? new Date(d as Date).toISOString() : undefined);

const fromRow = (r: Record<string, unknown>): MonitorStatusRow => ({
  checkId: r.check_id as string,
  ...(r.last_at
    ? {
        lastResult: {
          ok: r.last_ok as boolean,
          code: r.last_code as string,
          message: (r.last_detail as string) ?? '',
          latencyMs: (r.last_latency_ms as number) ?? 0,
          at: iso(r.last_at)!,
        },
      }
    : {}),
  ...(r.next_probe_at ? { nextProbeAt: iso(r.next_probe_at) } : {}),
  ...(r.probing_since ? { probingSince: iso(r.probing_since) } : {}),
  health: r.health as 'healthy' | 'failing',
  streak: r.streak as number,
  probes: Number(r.probes),
  updatedAt: iso(r.updated_at)!,
});

export function createMonitorStatus(db: Db) {
  /**
   * Many rows in one statement (a probe shard's batch), each with its own `updatedAt`; the same
   * rule as `put`: a row older than the stored one changes nothing.
   */
  async function putMany(rows: MonitorStatusWrite[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      const values: unknown[] = [];
      const tuples = chunk.map((s, j) => {
        const r = s.lastResult;
        values.push(
          s.checkId,
          r?.ok ?? null,
          r?.code ?? null,
          r ? r.message.slice(0, 2000) : null,
          r ? Math.round(r.latencyMs) : null,
          r?.at ?? null,
          s.nextProbeAt ?? null,
          s.probingSince ?? null,
          s.streak,
          s.health,
          s.probes,
          s.updatedAt ?? new Date().toISOString(),
        );
        const b = j * 12;
        return `($${b + 1}, $${b + 2}::boolean, $${b + 3}, $${b + 4}, $${b + 5}::integer, $${b + 6}::timestamptz, $${b + 7}::timestamptz, $${b + 8}::timestamptz, $${b + 9}::integer, $${b + 10}, $${b + 11}::bigint, $${b + 12}::timestamptz)`;
      });
      await db.query(
        `INSERT INTO monitor_status AS m (check_id, last_ok, last_code, last_detail, last_latency_ms, last_at,
           next_probe_at, probing_since, streak, health, probes, updated_at)
         VALUES ${tuples.join(', ')}
         ON CONFLICT (check_id) DO UPDATE SET
           last_ok = excluded.last_ok, last_code = excluded.last_code, last_detail = excluded.last_detail,
           last_latency_ms = excluded.last_latency_ms, last_at = excluded.last_at,
           next_probe_at = excluded.next_probe_at, probing_since = excluded.probing_since,
           streak = excluded.streak, health = excluded.health, probes = excluded.probes,
           updated_at = excluded.updated_at
         WHERE m.updated_at <= excluded.updated_at`,
        values,
      );
    }
  }

  return {
    /**
     * Writes the state as of `updatedAt` (default now). A write older than the stored one changes
     * nothing, so writes that arrive out of order (or from a loop that was replaced) never go back.
     */
    async put(s: MonitorStatusWrite): Promise<void> {
      await putMany([s]);
    },

    putMany,

    async getMany(checkIds: string[]): Promise<MonitorStatusRow[]> {
      if (checkIds.length === 0) return [];
      const r = await db.query('SELECT * FROM monitor_status WHERE check_id = ANY($1::text[])', [checkIds]);
      return r.rows.map((x) => fromRow(x as Record<string, unknown>));
    },

    /** Forgets removed checks: a check added again later starts from nothing, as its new monitor does. */
    async remove(checkIds: string[]): Promise<void> {
      if (checkIds.length === 0) return;
      await db.query('DELETE FROM monitor_status WHERE check_id = ANY($1::text[])', [checkIds]);
    },

    async get(checkId: string): Promise<MonitorStatusRow | undefined> {
      const r = await db.query('SELECT * FROM monitor_status WHERE check_id = $1', [checkId]);
      return r.rows[0] ? fromRow(r.rows[0] as Record<string, unknown>) : undefined;
    },

    /** Every check's row, by check id. */
    async all(): Promise<Map<string, MonitorStatusRow>> {
      const r = await db.query('SELECT * FROM monitor_status');
      return new Map(
        r.rows.map((x) => [(x as { check_id: string }).check_id, fromRow(x as Record<string, unknown>)]),
      );
    },
  };
}

export type MonitorStatus = ReturnType<typeof createMonitorStatus>;
