/** Running `temporal server start-dev` the same way for `npm start`, the tests and the drills. */
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import type Long from 'long';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export function devServerArgs(port: number, dbFile?: string, uiPort?: number): string[] {
  return [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    ...(uiPort ? ['--ui-port', String(uiPort)] : ['--headless']),
    '--log-level',
    'error',
    ...(dbFile ? ['--db-filename', dbFile] : []),
    '--search-attribute',
    'IncidentService=Keyword',
    '--search-attribute',
    'IncidentSeverity=Keyword',
    '--search-attribute',
    'IncidentState=Keyword',
    '--dynamic-config-value',
    'frontend.enableUpdateWorkflowExecution=true',
    '--dynamic-config-value',
    'frontend.enableExecuteMultiOperation=true',
    // Temporal's default allows 10 updates in flight per workflow; a burst of acknowledgements and
    // notes on one incident would wait or fail beyond that (the API also queues per incident).
    '--dynamic-config-value',
    'history.maxInFlightUpdates=100',
  ];
}

export async function waitForTemporal(address: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const c = await Connection.connect({ address, connectTimeout: 1000 });
      await c.healthService.check({});
      await c.close();
      return;
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  throw new Error(`Temporal dev server at ${address} did not become ready: ${(last as Error)?.message}`);
}

/**
 * Workflow histories are for debugging (the record is in the store), so they are kept for a set
 * time: `HISTORY_RETENTION_DAYS`, default 7 (the dev server's own default is 24 h).
 */
export const defaultRetentionDays = 7;

export async function setRetention(address: string, days: number, namespace = 'default'): Promise<void> {
  const c = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    await c.workflowService.updateNamespace({
      namespace,
      // protobufjs takes a plain number for an int64 field; the generated type names `Long`.
      config: { workflowExecutionRetentionTtl: { seconds: (days * 24 * 3600) as unknown as Long } },
    });
  } finally {
    await c.close();
  }
}

export async function getRetentionSeconds(address: string, namespace = 'default'): Promise<number> {
  const c = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    const d = await c.workflowService.describeNamespace({ namespace });
    return Number(d.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
  } finally {
    await c.close();
  }
}
