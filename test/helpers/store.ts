/** A fresh, migrated record store for one test file, on the run's PostgreSQL server. */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createDatabase } from '../../scripts/postgres.js';
import { migrate, openDb, type Db } from '../../store/db.js';
import { createRecords, type Records } from '../../store/records.js';

export interface TestStore {
  url: string;
  db: Db;
  records: Records;
  close(): Promise<void>;
}

export async function freshStore(): Promise<TestStore> {
  const url = await createDatabase(inject('postgresUrl'), `t_${randomBytes(6).toString('hex')}`);
  await migrate(url);
  const db = openDb(url);
  return { url, db, records: createRecords(db), close: () => db.end() };
}
