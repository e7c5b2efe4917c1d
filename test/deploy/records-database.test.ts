/**
 * docker-compose's PostgreSQL init script (deploy/postgres/10-records-database.sh), run against a real
 * PostgreSQL server the way the official image runs docker-entrypoint-initdb.d: the record store gets
 * its own database and login role, with the password from RECORDS_DB_PASSWORD.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const script = path.join(root, 'deploy/postgres/10-records-database.sh');
// Quotes and a backslash: the password must reach PostgreSQL as a literal, not as SQL.
const password = `it's-a-\\-secret-${Date.now()}`;

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const connect = async (user: string, pass: string, database: string) => {
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user, password: pass, database });
  await c.connect();
  return c;
};

describe('deploy/postgres/10-records-database.sh', () => {
  it('refuses to run without RECORDS_DB_PASSWORD, saying so', () => {
    const r = server.runInitScript(script, { RECORDS_DB_PASSWORD: '' });
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/RECORDS_DB_PASSWORD is not set/);
  });

  it('creates the database incidents, owned by the login role incidents with that password', async () => {
    const r = server.runInitScript(script, { RECORDS_DB_PASSWORD: password });
    expect(r.status, r.output).toBe(0);
    const c = await connect('incidents', password, 'incidents');
    try {
      const who = await c.query('SELECT current_user AS u, current_database() AS d');
      expect(who.rows[0]).toEqual({ u: 'incidents', d: 'incidents' });
      await c.query('CREATE TABLE probe_records (id int PRIMARY KEY)');
      await c.query('INSERT INTO probe_records VALUES (1)');
      const role = await c.query(
        "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = 'incidents'",
      );
      expect(role.rows[0]).toEqual({ rolsuper: false, rolcreatedb: false, rolcreaterole: false });
    } finally {
      await c.end();
    }
  });

  it('refuses a wrong password over TCP (scram-sha-256, as in the image)', async () => {
    await expect(connect('incidents', 'wrong-password', 'incidents')).rejects.toThrow(
      /password authentication failed/,
    );
  });

  it('is idempotent: a second run keeps the data and sets the (new) password', async () => {
    const next = `${password}-rotated`;
    const r = server.runInitScript(script, { RECORDS_DB_PASSWORD: next });
    expect(r.status, r.output).toBe(0);
    const c = await connect('incidents', next, 'incidents');
    try {
      expect((await c.query('SELECT id FROM probe_records')).rows).toEqual([{ id: 1 }]);
    } finally {
      await c.end();
    }
    await expect(connect('incidents', password, 'incidents')).rejects.toThrow(/password authentication/);
  });
});
