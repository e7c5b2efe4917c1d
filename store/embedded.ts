/**
 * The embedded record store for `npm start`: PGlite (PostgreSQL compiled to WebAssembly, an npm
 * package — nothing to install) with its data in a folder, served on a loopback port by
 * pglite-socket's multiplexing server, so the worker and the API connect to it with the same `pg`
 * driver and SQL they use against a real PostgreSQL server.
 */
import { mkdirSync } from 'node:fs';
import v8 from 'node:v8';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** The embedded store's shared_buffers (PostgreSQL's default is 128MB). */
export const embeddedSharedBuffers = '16MB';

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
  // PostgreSQL compiled to WebAssembly is a large module, and V8 compiles all of it twice: at once
  // with its baseline compiler (Liftoff), then again, optimised, in the background. The optimised
  // copy costs ~60 MiB of RSS and seconds of CPU at start, and a team's record store does not need
  // its speed: Liftoff only (issue #15). The flag is read when a module is compiled, so it applies
  // to every module this process compiles from here on: PGlite's, just below, and Node's own HTTP
  // parser of `fetch` (undici's llhttp) if that is first used later (start.js only polls /readyz).
  v8.setFlagsFromString('--liftoff-only');
  const db = await PGlite.create({
    dataDir: o.dataDir,
    // PostgreSQL's default 128 MB of shared buffers lives inside PGlite's WebAssembly memory, so it
    // is RSS of `npm start`'s own process; the record store of one team needs far less (the files
    // stay in the OS page cache either way). 16 MB: 371 → 249 MiB at start, issue #15.
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${embeddedSharedBuffers}`],
  });
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
