/**
 * Activities that write the record store (and read it back for the postmortem). Every write is
 * idempotent, so Temporal may retry them as often as it likes: while the store is down they keep
 * retrying, and once it is back every event is there exactly once.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { IncidentView, StoredEvent } from '../domain/incident.js';
import type { RecordBatch, Records, StoredPostmortem } from '../store/records.js';

export function createRecordActivities(records: Records | undefined) {
  const need = () => {
    if (!records)
      throw ApplicationFailure.nonRetryable('the worker was started without a record store (DATABASE_URL)');
    return records;
  };
  return {
    async recordIncident(batch: RecordBatch): Promise<{ inserted: number }> {
      return need().recordBatch(batch);
    },

    /** The incident for its postmortem: bounded (notes and reports beyond a few hundred are counted). */
    async loadIncidentDigest(i: { incidentId: string; maxEvents?: number }): Promise<IncidentView> {
      const view = await need().getIncidentDigest(i.incidentId, i.maxEvents);
      if (!view)
        throw ApplicationFailure.retryable(`incident ${i.incidentId} is not in the record store yet`);
      return view;
    },

    /** Events of an incident whose workflow closed (the resolved notices' outcomes); idempotent on seq. */
    async appendIncidentEvents(i: {
      incidentId: string;
      events: StoredEvent[];
    }): Promise<{ inserted: number }> {
      return need().appendEvents(i.incidentId, i.events);
    },

    async recordPostmortem(p: StoredPostmortem): Promise<void> {
      await need().recordPostmortem(p);
    },
  };
}
