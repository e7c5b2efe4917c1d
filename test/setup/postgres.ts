/**
 * Vitest global setup: one real PostgreSQL server (Debian's package) for the whole run, on a
 * loopback port. Each test file creates its own database on it (test/helpers/store.ts).
 */
import type { TestProject } from 'vitest/node';
import { startPostgres, type PostgresServer } from '../../scripts/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

let server: PostgresServer | undefined;

export default async function setup(project: TestProject) {
  server = await startPostgres();
  project.provide('postgresUrl', server.url);
  return async () => {
    await server?.stop();
  };
}
