/**
 * The change log: a long-lived workflow (one per task queue) that records change events from
 * change-management tools and answers which changes touched which hosts and services when. Temporal is
 * the store: no database. It stays bounded — changes older than the retention are dropped, and it
 * continues as new, carrying what it keeps, before its history grows long.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { filterChanges, pruneChanges, type ChangeEvent } from '../domain/changes.js';
import { rejection } from './definitions.js';
import {
  changesQuery,
  changesReplySignal,
  changesRequestSignal,
  recordChangeUpdate,
  type ChangeRequest,
} from './postmortem-definitions.js';

export interface ChangeLogInput {
  /** Carried over from the previous run. */
  changes?: ChangeEvent[];
  /** Changes made longer ago are dropped. Default 30 days. */
  retentionMs?: number;
  /** At most this many are kept, the newest. Default 5000. */
  maxEntries?: number;
  /** Continue as new after this many recorded changes (or when Temporal suggests it). Default 500. */
  maxRecordsPerRun?: number;
}

const invalid = (message: string) => ApplicationFailure.nonRetryable(message, rejection.invalid);

export async function changeLogWorkflow(input: ChangeLogInput = {}): Promise<void> {
  const retentionMs = input.retentionMs ?? 30 * 86_400_000;
  const maxEntries = input.maxEntries ?? 5000;
  const maxRecordsPerRun = input.maxRecordsPerRun ?? 500;
  const bounds = { retentionMs, maxEntries };
  let changes = pruneChanges(input.changes ?? [], Date.now(), bounds);
  let recorded = 0;

  setHandler(changesQuery, (filter) => filterChanges(changes, filter ?? {}));

  setHandler(
    recordChangeUpdate,
    (req: ChangeRequest) => {
      const seen = changes.find((c) => c.id === req.id);
      if (seen) return seen;
      const entry: ChangeEvent = { ...req, recordedAt: new Date().toISOString() };
      changes = pruneChanges([...changes, entry], Date.now(), bounds);
      recorded++;
      return entry;
    },
    {
      validator: (req: ChangeRequest) => {
        if (!req.id) throw invalid('id: must not be empty');
        if (!req.what?.trim()) throw invalid('what: must not be empty');
        if (!req.who?.trim()) throw invalid('who: must not be empty');
        if (Number.isNaN(Date.parse(req.at))) throw invalid('at: not an ISO-8601 date-time');
        if ((req.hosts?.length ?? 0) + (req.services?.length ?? 0) === 0)
          throw invalid('hosts: name at least one host or service');
      },
    },
  );

  setHandler(changesRequestSignal, async (req) => {
    const found = filterChanges(changes, req);
    try {
      await getExternalWorkflowHandle(req.replyTo).signal(changesReplySignal, {
        requestId: req.requestId,
        changes: found,
      });
    } catch {
      // The asker is gone: nobody is waiting for the answer.
    }
  });

  await condition(() => recorded >= maxRecordsPerRun || workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof changeLogWorkflow>({ ...input, changes });
}
