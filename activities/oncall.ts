/**
 * Who is on call when a level pages: the schedule comes from the worker's configuration, its
 * overrides from the record store, and the instant from the workflow (its own clock, so a replay or a
 * retried activity evaluates the same moment). Evaluation is domain/oncall.ts.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../domain/config-schema.js';
import { whoIsOnCall, type OnCallNow } from '../domain/oncall.js';
import type { ScheduleRecords, StoredOverride } from '../store/schedules.js';

const DAY = 86_400_000;

export interface ResolveOnCallInput {
  /** Schedule ids (a level's `schedule:<id>` targets). */
  schedules: string[];
  /** The moment the level pages, UTC ISO-8601 (the workflow's time). */
  at: string;
}

export interface ResolveOnCallResult {
  onCall: OnCallNow[];
  /** False: the record store did not answer, so overrides were not applied. */
  overridesRead: boolean;
}

export function createOnCallActivities(deps: {
  config?: Pick<Config, 'contacts' | 'schedules'>;
  schedules?: ScheduleRecords;
  log?: (line: string) => void;
}) {
  return {
    /**
     * Per schedule: the person on call at `at` (with overrides), or nobody. A page is never held up
     * by the store: if the overrides cannot be read, the rotation alone answers (`overridesRead`).
     */
    async resolveOnCall(i: ResolveOnCallInput): Promise<ResolveOnCallResult> {
      const config = deps.config;
      if (!config) throw ApplicationFailure.nonRetryable('the worker was started without a configuration');
      const at = Date.parse(i.at);
      if (!Number.isFinite(at)) throw ApplicationFailure.nonRetryable(`at: not a time: ${i.at}`);
      let overrides = new Map<string, StoredOverride[]>();
      let overridesRead = true;
      if (deps.schedules) {
        try {
          overrides = await deps.schedules.overridesFor(i.schedules, at - 31 * DAY, at + 366 * DAY);
        } catch (e) {
          overridesRead = false;
          (deps.log ?? console.warn)(
            `on-call: overrides unreadable, paging by the rotation: ${(e as Error).message}`,
          );
        }
      }
      return { onCall: whoIsOnCall(config, i.schedules, (id) => overrides.get(id) ?? [], at), overridesRead };
    },
  };
}
