/**
 * The record store, the same suite against both deployments: a real PostgreSQL server (Debian's,
 * started by the test setup) and the embedded default (PGlite served over its socket, as `npm start`
 * runs it). Writes are idempotent, an older snapshot never overwrites a newer one, reads filter and
 * search, the summary report computes its figures, and a migration that fails changes nothing.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { createDatabase } from '../../scripts/postgres.js';
import { freePort as freePortForTests } from '../../scripts/dev-server.js';
import { migrate, MigrationError, migrationsDir, openDb, type Db } from '../../store/db.js';
import { createRecords, type RecordBatch, type Records } from '../../store/records.js';
import { startEmbeddedStore, type EmbeddedStore } from '../../store/embedded.js';
import type { IncidentSnapshot, StoredEvent } from '../../domain/incident.js';

const t0 = Date.parse('2026-11-30T09:49:00Z');
const at = (minutes: number) => new Date(t0 + minutes * 60_000).toISOString();

function snapshot(id: string, over: Partial<IncidentSnapshot> = {}): IncidentSnapshot {
  return {
    id,
    workflowId: `incident-${id.split('.')[0]}`,
    service: { id: id.split('.')[0]!, name: 'FS → Canvas integration', timezone: 'Europe/Oslo' },
    severity: 'P1',
    state: 'triggered',
    reason: 'institutions cannot fetch the XML export',
    source: 'customer',
    openedAt: at(0),
    escalationStep: 0,
    affected: [],
    openKeys: [],
    statusCount: 0,
    pagedCount: 1,
    ...over,
  };
}

const kari = { id: 'kari', name: 'Kari Nordmann', email: 'kari@test.local' };

function events(): StoredEvent[] {
  return [
    {
      seq: 1,
      at: at(0),
      actor: 'customer',
      kind: 'detected',
      detail: 'detected (P1): cannot fetch the export',
    },
    { seq: 2, at: at(0), actor: 'system', kind: 'verified', detail: 'taken on the reporter’s word' },
    {
      seq: 3,
      at: at(0),
      actor: 'system',
      kind: 'paged',
      detail: 'page to kari decided',
      hidden: true,
      page: { level: 1, cycle: 0, reason: 'initial', recipient: kari },
    },
    {
      seq: 4,
      at: at(1),
      actor: 'system',
      kind: 'paged',
      detail: 'level 1: paged Kari Nordmann <kari@test.local> by email',
      attempt: { channel: 'email', recipientId: 'kari', outcome: 'sent' },
    },
    {
      seq: 5,
      at: at(12),
      actor: 'kari',
      kind: 'acknowledged',
      detail: 'acknowledged by kari; escalation stopped',
    },
    { seq: 6, at: at(14), actor: 'kari', kind: 'note', detail: 'the firewall change blocked inbound SSH' },
    {
      seq: 7,
      at: at(30),
      actor: 'kari',
      kind: 'status',
      detail: 'status message published (identified): the cause is found',
      status: { state: 'identified', message: 'The cause is found.', author: 'kari' },
    },
    {
      seq: 8,
      at: at(31),
      actor: 'customer',
      kind: 'joined',
      detail: 'report from customer',
      hidden: true,
      report: { source: 'customer', actor: 'customer', reason: 'a second institution', contact: 'it@uni.no' },
    },
  ];
}

function suite(name: string, open: () => Promise<{ url: string; close(): Promise<void> }>) {
  describe(`record store on ${name}`, () => {
    let server: { url: string; close(): Promise<void> };
    let db: Db;
    let records: Records;
    beforeAll(async () => {
      server = await open();
      await migrate(server.url);
      // Applying them again is a no-op.
      expect(await migrate(server.url)).toEqual([]);
      db = openDb(server.url);
      records = createRecords(db);
    });
    afterAll(async () => {
      await db?.end();
      await server?.close();
    });

    it('writes a batch once however often it is retried, and assembles the view', async () => {
      const id = `svc-a.${crypto.randomUUID()}`;
      const batch: RecordBatch = {
        incident: snapshot(id, { state: 'acknowledged', acknowledgedBy: 'kari', acknowledgedAt: at(12) }),
        runId: 'run-1',
        version: 3,
        events: events(),
      };
      const first = await records.recordBatch(batch);
      expect(first.inserted).toBe(6); // hidden events are not timeline lines
      // A retried activity, and two at once: nothing doubles.
      await Promise.all([records.recordBatch(batch), records.recordBatch(batch)]);
      expect((await records.recordBatch(batch)).inserted).toBe(0);

      const view = (await records.getIncident(id))!;
      expect(view.state).toBe('acknowledged');
      expect(view.timeline.map((e) => e.kind)).toEqual([
        'detected',
        'verified',
        'paged',
        'acknowledged',
        'note',
        'status',
      ]);
      expect(view.status).toEqual([
        { at: at(30), state: 'identified', message: 'The cause is found.', author: 'kari' },
      ]);
      expect(view.paged).toEqual([{ at: at(0), level: 1, cycle: 0, reason: 'initial', recipient: kari }]);
      expect(await records.listReports(id)).toEqual([
        {
          at: at(31),
          source: 'customer',
          actor: 'customer',
          reason: 'a second institution',
          contact: 'it@uni.no',
        },
      ]);
      const attempts = await db.query(
        'SELECT outcome, recipient_id FROM delivery_attempts WHERE incident_id = $1',
        [id],
      );
      expect(attempts.rows).toEqual([{ outcome: 'sent', recipient_id: 'kari' }]);
    });

    it('never lets an older snapshot overwrite a newer one', async () => {
      const id = `svc-b.${crypto.randomUUID()}`;
      await records.recordBatch({
        incident: snapshot(id, { state: 'resolved', closedAt: at(60) }),
        runId: 'r',
        version: 9,
        events: [],
      });
      await records.recordBatch({
        incident: snapshot(id, { state: 'triggered' }),
        runId: 'r',
        version: 4,
        events: [],
      });
      expect((await records.getIncidentRow(id))?.state).toBe('resolved');
    });

    it('lists with filters, paging and text search over reason and notes', async () => {
      const svc = `svc-${randomBytes(3).toString('hex')}`;
      for (let i = 0; i < 5; i++) {
        const id = `${svc}.${crypto.randomUUID()}`;
        await records.recordBatch({
          incident: snapshot(id, {
            openedAt: at(i * 10),
            severity: i % 2 ? 'P2' : 'P1',
            reason: i === 3 ? 'export host unreachable' : `problem ${i}`,
            ...(i < 2 ? { state: 'resolved', closedAt: at(i * 10 + 5) } : {}),
          }),
          runId: 'r',
          version: 1,
          events:
            i === 4
              ? [
                  {
                    seq: 1,
                    at: at(41),
                    actor: 'ola',
                    kind: 'note',
                    detail: 'Operators reverted the firewall rule',
                  },
                ]
              : [],
        });
      }
      const all = await records.listIncidents({ service: svc, limit: 10 });
      expect(all.map((x) => x.reason)).toEqual([
        'problem 4',
        'export host unreachable',
        'problem 2',
        'problem 1',
        'problem 0',
      ]);
      expect((await records.listIncidents({ service: svc, open: true, limit: 10 })).length).toBe(3);
      expect((await records.listIncidents({ service: svc, severity: 'P2', limit: 10 })).length).toBe(2);
      expect(
        (await records.listIncidents({ service: svc, limit: 2, offset: 2 })).map((x) => x.reason),
      ).toEqual(['problem 2', 'problem 1']);
      expect(
        (await records.listIncidents({ service: svc, from: at(15), to: at(35), limit: 10 })).length,
      ).toBe(2);
      expect(
        (await records.listIncidents({ service: svc, q: 'unreachable', limit: 10 })).map((x) => x.reason),
      ).toEqual(['export host unreachable']);
      expect(
        (await records.listIncidents({ service: svc, q: 'firewall', limit: 10 })).map((x) => x.reason),
      ).toEqual(['problem 4']);
      // Hostile search text is only text.
      expect(
        await records.listIncidents({ service: svc, q: "'; DROP TABLE incidents; --", limit: 10 }),
      ).toEqual([]);
    });

    it('computes the summary report: MTTA, MTTR, time to first message, pages per person', async () => {
      const svc = `svc-${randomBytes(3).toString('hex')}`;
      const id = `${svc}.${crypto.randomUUID()}`;
      await records.recordBatch({
        incident: snapshot(id, { state: 'resolved', closedAt: at(90) }),
        runId: 'r',
        version: 1,
        events: events(),
      });
      const s = await records.summary({ from: at(-60), to: at(600), service: svc });
      expect(s).toMatchObject({
        incidents: 1,
        mttaSeconds: 12 * 60,
        mttrSeconds: 90 * 60,
        meanTimeToFirstMessageSeconds: 30 * 60,
        pagesPerPerson: [{ recipient: 'kari', name: 'Kari Nordmann', pages: 1 }],
        incidentsPerService: [{ service: svc, incidents: 1 }],
      });
    });

    it('a migration that fails stops with its message and leaves nothing half-way', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'bad-migrations-'));
      try {
        writeFileSync(
          path.join(dir, '9999999999999_broken.sql'),
          '-- Up Migration\nCREATE TABLE half_way (id int);\nALTER TABLE no_such_table ADD COLUMN x int;\n-- Down Migration\n',
        );
        // The real migrations first (already applied), then the broken one.
        for (const f of readdirSync(migrationsDir))
          copyFileSync(path.join(migrationsDir, f), path.join(dir, f));
        const c = new pg.Client({ connectionString: server.url });
        await c.connect();
        try {
          await expect(migrate(server.url, () => undefined, dir)).rejects.toThrow(MigrationError);
          await expect(migrate(server.url, () => undefined, dir)).rejects.toThrow(
            /migration failed.*no_such_table/s,
          );
          const t = await c.query("SELECT to_regclass('public.half_way') AS t");
          expect(t.rows[0].t).toBeNull();
        } finally {
          await c.end();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('says where it cannot connect, without the password', async () => {
      const port = await freePortForTests();
      await expect(migrate(`postgres://incidents:s3cret-pw@127.0.0.1:${port}/x`)).rejects.toThrow(
        /cannot connect to postgres:\/\/incidents:\*\*\*@127\.0\.0\.1/,
      );
      await expect(migrate(`postgres://incidents:s3cret-pw@127.0.0.1:${port}/x`)).rejects.not.toThrow(
        /s3cret/,
      );
    });
  });
}

suite('PostgreSQL (Debian, loopback)', async () => {
  const url = await createDatabase(inject('postgresUrl'), `t_${randomBytes(6).toString('hex')}`);
  return { url, close: async () => undefined };
});

suite('PGlite (embedded, as npm start runs it)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pglite-test-'));
  const store: EmbeddedStore = await startEmbeddedStore({ dataDir: dir, port: await freePortForTests() });
  return {
    url: store.url,
    close: async () => {
      await store.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('the embedded store (npm start)', () => {
  it('keeps PostgreSQL’s shared buffers small (they are RSS of start.js) and its records across a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pglite-buffers-'));
    try {
      for (const round of [1, 2]) {
        const store = await startEmbeddedStore({ dataDir: dir, port: await freePortForTests() });
        const client = new pg.Client({ connectionString: store.url });
        await client.connect();
        try {
          const shown = await client.query<{ shared_buffers: string }>('SHOW shared_buffers');
          expect(shown.rows[0]!.shared_buffers).toBe('16MB');
          if (round === 1)
            await client.query('CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$after restart$$)');
          else expect((await client.query('SELECT v FROM kept')).rows).toEqual([{ v: 'after restart' }]);
        } finally {
          await client.end();
          await store.stop();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
