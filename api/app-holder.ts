/**
 * Config without restarts for the API: the routes read the configuration when they are built, so a
 * new configuration builds a new app, and the one HTTP server hands each request to the app in force.
 * Requests already running finish on the app they started on; the old app is closed a little later.
 * A configuration the app cannot be built from is refused, and the app in force stays.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../domain/config-schema.js';

export interface AppHolder {
  /** The HTTP server to listen on; it serves whichever app is in force. */
  server: Server;
  current(): FastifyInstance;
  /** Builds an app from `next` and puts it in force (throws, keeping the old one, if it cannot be built). */
  apply(next: Config): Promise<void>;
  /** Stops listening and closes the app in force (and any still draining). */
  close(): Promise<void>;
}

export async function createAppHolder(o: {
  config: Config;
  build: (config: Config) => Promise<FastifyInstance>;
  /** How long an old app keeps serving the requests it already has (default 30 s). */
  drainMs?: number;
}): Promise<AppHolder> {
  let app = await o.build(o.config);
  await app.ready();
  const draining = new Set<FastifyInstance>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => app.routing(req, res));
  // What Fastify sets on its own server, so slow clients are cut off the same way.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 72_000;

  const retire = (old: FastifyInstance) => {
    draining.add(old);
    const t = setTimeout(() => {
      draining.delete(old);
      void old.close().catch(() => undefined);
    }, o.drainMs ?? 30_000);
    t.unref();
  };

  return {
    server,
    current: () => app,
    async apply(next) {
      const built = await o.build(next);
      try {
        await built.ready();
      } catch (e) {
        await built.close().catch(() => undefined);
        throw e;
      }
      const old = app;
      app = built;
      retire(old);
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      await Promise.all([app, ...draining].map((a) => a.close().catch(() => undefined)));
      draining.clear();
    },
  };
}
