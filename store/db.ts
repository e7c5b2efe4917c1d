/**
 * The record store's connection and migrations. One SQL dialect (PostgreSQL) for both deployments:
 * a real PostgreSQL server in production, PGlite (embedded, see embedded.ts) under `npm start`.
 * Migrations are node-pg-migrate's, applied at start, each in its own transaction.
 */
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runner } from 'node-pg-migrate';

export const migrationsDir = fileURLToPath(new URL('./migrations', import.meta.url));

export type Db = pg.Pool;

export interface OpenOptions {
  /** Connections in the pool (default 10). */
  max?: number;
  /** How long a query may wait for a connection (ms, default 5,000). */
  connectTimeoutMs?: number;
  /** Per-statement deadline (ms, default 10,000): a stalled store becomes an error, not a hang. */
  statementTimeoutMs?: number;
}

/** A pool on `DATABASE_URL`. Errors of idle connections (a restarted server) are logged, not fatal. */
export function openDb(url: string, o: OpenOptions = {}): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: o.max ?? 10,
    connectionTimeoutMillis: o.connectTimeoutMs ?? 5_000,
    query_timeout: o.statementTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'incident-orchestrator',
  });
  pool.on('error', (e) => console.warn(`record store: idle connection closed (${e.message})`));
  return pool;
}

export class MigrationError extends Error {}

/**
 * Applies every pending migration. A migration that fails is rolled back whole (each runs in its own
 * transaction) and start-up stops with a message naming it.
 */
export async function migrate(
  url: string,
  log: (line: string) => void = () => undefined,
  dir: string = migrationsDir,
): Promise<string[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (e) {
    throw new MigrationError(`record store: cannot connect to ${redactDbUrl(url)}: ${(e as Error).message}`);
  }
  try {
    const applied = await runner({
      dbClient: client,
      dir,
      direction: 'up',
      migrationsTable: 'pgmigrations',
      checkOrder: true,
      // Each migration is its own transaction: a failure leaves the schema at the last good one.
      singleTransaction: false,
      log: () => undefined,
      logger: { debug: () => undefined, info: () => undefined, warn: log, error: log },
    });
    for (const m of applied) log(`record store: applied migration ${m.name}`);
    return applied.map((m) => m.name);
  } catch (e) {
    throw new MigrationError(
      `record store: migration failed, nothing of it was applied: ${(e as Error).message}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The URL with its password replaced by `***`; safe to log. */
export function redactDbUrl(url: string): string {
  return url.replace(/\/\/([^/?#@:]*):[^@]*@/, '//$1:***@');
}

/**
 * `DATABASE_URL` → a migrated pool, waiting (with a line every 10 s) for the server to accept
 * connections; a failed migration stops start-up with its message.
 */
export async function openRecordStore(url: string | undefined, log: (line: string) => void): Promise<Db> {
  if (!url)
    throw new MigrationError(
      'DATABASE_URL is not set: the record store (PostgreSQL) is required; `npm start` provides an embedded one',
    );
  for (let attempt = 1; ; attempt++) {
    try {
      await migrate(url, log);
      break;
    } catch (e) {
      const message = (e as Error).message;
      // Not up yet, or another process (a second worker, the API) is applying the migrations now.
      if (!/cannot connect|Another migration is already running/.test(message)) throw e;
      if (attempt === 1 || attempt % 10 === 0)
        log(`waiting for the record store at ${redactDbUrl(url)} (${message})`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  return openDb(url);
}
