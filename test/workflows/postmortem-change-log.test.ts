/**
 * The change log the postmortem reads, on a real dev server: bounded by continue-as-new, carrying what
 * it keeps; idempotent by change id; answering a postmortem's question by signal.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import type { changeLogWorkflow } from '../../workflows/change-log.js';
import {
  changesQuery,
  recordChangeUpdate,
  type ChangeRequest,
} from '../../workflows/postmortem-definitions.js';

describe('change log', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ config: testConfig().config });
  });
  afterAll(async () => {
    await h?.close();
  });

  const change = (n: number, at = `2026-05-22T0${n}:00:00.000Z`): ChangeRequest => ({
    id: `CHG-${n}`,
    who: 'netops',
    what: `change ${n}`,
    hosts: ['w3prod-datasync02'],
    services: [],
    at,
    recordedBy: 'kari',
  });

  it('continues as new after a bounded number of records, keeping every change', async () => {
    const workflowId = `change-log-test-${randomUUID()}`;
    const handle = await h.client.workflow.start<typeof changeLogWorkflow>('changeLogWorkflow', {
      taskQueue: h.taskQueue,
      workflowId,
      args: [{ maxRecordsPerRun: 3 }],
    });
    const firstRun = handle.firstExecutionRunId;
    for (let n = 1; n <= 7; n++) {
      // Each record goes to whichever run is current: the client follows continue-as-new.
      const recorded = await eventually(
        () =>
          h.client.workflow.getHandle(workflowId).executeUpdate(recordChangeUpdate, { args: [change(n)] }),
        15_000,
        `change ${n} recorded`,
      );
      expect(recorded).toMatchObject({ id: `CHG-${n}`, recordedBy: 'kari' });
    }
    const all = await eventually(async () => {
      const found = await h.client.workflow.getHandle(workflowId).query(changesQuery);
      return found.length === 7 ? found : undefined;
    });
    expect(all.map((c) => c.id)).toEqual(['CHG-1', 'CHG-2', 'CHG-3', 'CHG-4', 'CHG-5', 'CHG-6', 'CHG-7']);
    const current = await h.client.workflow.getHandle(workflowId).describe();
    expect(current.runId).not.toBe(firstRun);
    const first = await h.client.workflow.getHandle(workflowId, firstRun).describe();
    expect(first.status.name).toBe('CONTINUED_AS_NEW');
  });

  it('records a change id once, and rejects a change that names nothing', async () => {
    const workflowId = `change-log-test-${randomUUID()}`;
    const handle = await h.client.workflow.start<typeof changeLogWorkflow>('changeLogWorkflow', {
      taskQueue: h.taskQueue,
      workflowId,
      args: [{}],
    });
    const a = await handle.executeUpdate(recordChangeUpdate, { args: [change(1)] });
    const b = await handle.executeUpdate(recordChangeUpdate, { args: [{ ...change(1), what: 'again' }] });
    expect(b).toEqual(a);
    const rejected = await handle
      .executeUpdate(recordChangeUpdate, { args: [{ ...change(2), hosts: [] }] })
      .catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((rejected as WorkflowUpdateFailedError).cause?.message).toBe(
      'hosts: name at least one host or service',
    );
    expect((await handle.query(changesQuery, { targets: ['w3prod-datasync02.example.edu'] })).length).toBe(1);
    expect(await handle.query(changesQuery, { targets: ['w3prod-web01'] })).toEqual([]);
  });
});
