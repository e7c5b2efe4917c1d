/**
 * The embedded record store for `npm start`: PGlite (PostgreSQL compiled to WebAssembly, an npm
 * package — nothing to install) with its data in a folder, served on a loopback port by
 * pglite-socket's multiplexing server, so the worker and the API connect to it with the same `pg`
 * driver and SQL they use against a real PostgreSQL server.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedStore {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startEmbeddedStore(o: {
  dataDir: string;
  port: number;
  host?: string;
}): Promise<EmbeddedStore> {
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const db = await PGlite.create({ dataDir: o.dataDir });
  const host = o.host ?? '127.0.0.1';
  const server = new PGLiteSocketServer({ db, port: o.port, host, maxConnections: 64 });
  await server.start();
  return {
    url: `postgres://postgres@${host}:${o.port}/postgres?sslmode=disable`,
    port: o.port,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
