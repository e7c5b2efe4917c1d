/**
 * The API's view of postmortems and change events: every Temporal call their routes make goes through
 * here, with a deadline, and Temporal's errors mapped to HTTP in one place (api/errors.ts), plus the
 * postmortem's own "already completed" → 409.
 */
import { randomUUID } from 'node:crypto';
import {
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ChangeEvent, ChangeFilter } from '../domain/changes.js';
import type { Config } from '../domain/config-schema.js';
import type { FollowUp, MeetingInfo } from '../domain/postmortem.js';
import { contactById } from '../domain/model.js';
import { incidentId, parseIncidentId } from '../workflows/definitions.js';
import type { changeLogWorkflow } from '../workflows/change-log.js';
import type { postmortemWorkflow } from '../workflows/postmortem.js';
import {
  addFollowUpUpdate,
  changeLogWorkflowId,
  changesQuery,
  cancelMeetingUpdate,
  completeFollowUpUpdate,
  moveMeetingUpdate,
  completePostmortemUpdate,
  postmortemQuery,
  postmortemRejection,
  postmortemWorkflowId,
  recordChangeUpdate,
  type PostmortemMemo,
  type PostmortemView,
} from '../workflows/postmortem-definitions.js';
import { fromTemporal, HttpError, notFound } from './errors.js';
import type { Records } from '../store/records.js';

const storeDown = (e: unknown) =>
  new HttpError(503, 'store_unavailable', `the record store did not answer: ${(e as Error).message}`);

export interface PostmortemServiceOptions {
  client: Client;
  config: Config;
  /** The worker's task queue: the change log is started there. */
  taskQueue: string;
  /** Milliseconds each Temporal call may take before the API gives up with 503. */
  callTimeoutMs?: number;
  /** Postmortems are read from the record store (they outlive Temporal's retention). */
  records?: Pick<Records, 'getPostmortem' | 'listPostmortems' | 'recordChange' | 'latestIncidentId'>;
}

export const postmortemListStates = ['due', 'overdue', 'completed'] as const;
export type PostmortemListState = (typeof postmortemListStates)[number];

export interface PostmortemSummary extends PostmortemMemo {
  /** Open and past the end of its due date. */
  overdue: boolean;
  running: boolean;
}

export interface ChangeInput {
  id?: string;
  who?: string;
  what: string;
  hosts?: string[];
  services?: string[];
  at: string;
}

export function createPostmortemService(o: PostmortemServiceOptions) {
  const timeout = o.callTimeoutMs ?? 8000;
  const toHttp = (e: unknown, what: string): HttpError => {
    if (
      e instanceof WorkflowUpdateFailedError &&
      e.cause instanceof ApplicationFailure &&
      e.cause.type === postmortemRejection.completed
    )
      return new HttpError(409, 'postmortem_completed', e.cause.message);
    if (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure) {
      if (e.cause.type === postmortemRejection.unknownFollowUp)
        return new HttpError(404, 'not_found', e.cause.message);
      if (e.cause.type === postmortemRejection.followUpDone)
        return new HttpError(409, 'follow_up_done', e.cause.message);
      if (e.cause.type === postmortemRejection.meetingCancelled)
        return new HttpError(409, 'meeting_cancelled', e.cause.message);
    }
    return fromTemporal(e, what);
  };
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await o.client.withDeadline(Date.now() + timeout, fn);
    } catch (e) {
      throw toHttp(e, what);
    }
  };

  /** `<service>.<runId>` as is; a bare service id means its latest incident. */
  const resolveIncident = async (id: string): Promise<string> => {
    const parsed = parseIncidentId(id);
    if (!parsed) throw notFound(`incident "${id}"`);
    if (parsed.runId) return id;
    const latest = await o.records?.latestIncidentId(id).catch(() => undefined);
    if (latest) return latest;
    const d = await call(`incident "${id}"`, () => o.client.workflow.getHandle(parsed.workflowId).describe());
    return incidentId(id, d.runId);
  };

  const handleFor = async (id: string): Promise<WorkflowHandle<typeof postmortemWorkflow>> =>
    o.client.workflow.getHandle(postmortemWorkflowId(await resolveIncident(id)));

  const what = (id: string) => `postmortem of incident "${id}" (there is one once the incident is resolved)`;

  /** An update on a finished postmortem is "not found" to Temporal; to the caller it is closed. */
  const update = async <A>(id: string, run: (h: WorkflowHandle<typeof postmortemWorkflow>) => Promise<A>) => {
    const h = await handleFor(id);
    try {
      return await call(what(id), () => run(h));
    } catch (e) {
      if (e instanceof HttpError && e.statusCode === 404) {
        const closed = await call(what(id), async () => {
          const d = await h.describe();
          return d.status.name !== 'RUNNING' ? d : undefined;
        }).catch(() => undefined);
        if (closed)
          throw new HttpError(409, 'postmortem_completed', `the postmortem of ${id} is completed and closed`);
      }
      throw e;
    }
  };

  const changeLog = (): WorkflowHandle<typeof changeLogWorkflow> =>
    o.client.workflow.getHandle(changeLogWorkflowId(o.taskQueue));

  return {
    /**
     * A running postmortem answers itself (reminders sent, follow-ups reminded: live), within 2 s;
     * a finished one, one whose history Temporal has dropped, or any while Temporal stalls, comes from
     * the record store.
     */
    async get(id: string): Promise<PostmortemView> {
      const full = parseIncidentId(id)?.runId
        ? id
        : await o.records?.latestIncidentId(id).catch(() => undefined);
      const stored = async () =>
        o.records && full
          ? ((await o.records.getPostmortem(full).catch((e: unknown) => {
              throw storeDown(e);
            })) as unknown as PostmortemView | undefined)
          : undefined;
      try {
        const h = await handleFor(id);
        return await o.client.withDeadline(Date.now() + Math.min(timeout, 2_000), async () => {
          const d = await h.describe();
          if (d.status.name !== 'RUNNING') throw notFound(what(id));
          return h.query(postmortemQuery);
        });
      } catch (e) {
        const fromStore = await stored();
        if (fromStore) return fromStore;
        if (e instanceof HttpError) throw e;
        throw toHttp(e, what(id));
      }
    },

    /** Marks it done; answers the whole view (read after the update, whose own result is small). */
    async complete(id: string, actor: string, url: string): Promise<PostmortemView> {
      await update(id, (h) => h.executeUpdate(completePostmortemUpdate, { args: [{ actor, url }] }));
      return this.get(id);
    },

    /** Moves the postmortem meeting; everyone invited gets the updated invitation. */
    moveMeeting: (
      id: string,
      actor: string,
      req: { start: string; durationMinutes?: number },
    ): Promise<MeetingInfo> =>
      update(id, (h) => h.executeUpdate(moveMeetingUpdate, { args: [{ actor, ...req }] })),

    /** Calls the meeting off; everyone invited gets METHOD:CANCEL. */
    cancelMeeting: (id: string, actor: string, reason: string): Promise<MeetingInfo> =>
      update(id, (h) => h.executeUpdate(cancelMeetingUpdate, { args: [{ actor, reason }] })),

    /** Marks one follow-up done (404 unknown id, 409 done already or the postmortem closed). */
    completeFollowUp: (id: string, actor: string, followUpId: string): Promise<FollowUp> =>
      update(id, (h) => h.executeUpdate(completeFollowUpUpdate, { args: [{ actor, id: followUpId }] })),

    async addFollowUp(
      id: string,
      actor: string,
      req: { title: string; owner: string; dueDate: string },
    ): Promise<FollowUp> {
      const owner = contactById(o.config, req.owner);
      if (!owner) throw new HttpError(400, 'invalid_request', `owner: unknown contact "${req.owner}"`);
      return update(id, (h) =>
        h.executeUpdate(addFollowUpUpdate, {
          args: [{ actor, title: req.title, owner, dueDate: req.dueDate }],
        }),
      );
    },

    /** Postmortems of this deployment, newest first: from the store, else from visibility (their memo). */
    async list(filter: { state?: PostmortemListState; limit: number }): Promise<PostmortemSummary[]> {
      if (o.records) {
        const rows = await o.records.listPostmortems(filter).catch((e: unknown) => {
          throw storeDown(e);
        });
        const now = Date.now();
        return rows.map((r) => {
          const v = r as unknown as PostmortemView;
          const overdue = v.state === 'due' && now >= Date.parse(v.overdueAt);
          return {
            incidentId: v.incidentId,
            service: v.service.id,
            severity: v.severity,
            owner: v.owner,
            dueDate: v.dueDate,
            overdueAt: v.overdueAt,
            state: v.state,
            meetingStart: v.meeting.start,
            ...(v.completedAt ? { completedAt: v.completedAt } : {}),
            ...(v.url ? { url: v.url } : {}),
            overdue,
            running: v.state === 'due',
          };
        });
      }
      const clauses = [
        "WorkflowType = 'postmortemWorkflow'",
        `TaskQueue = '${o.taskQueue.replace(/'/g, '')}'`,
      ];
      if (filter.state === 'due' || filter.state === 'overdue') clauses.push("ExecutionStatus = 'Running'");
      const query = clauses.join(' AND ');
      return call('postmortems', async () => {
        const out: PostmortemSummary[] = [];
        const now = Date.now();
        for await (const w of o.client.workflow.list({ query, pageSize: Math.min(filter.limit, 200) })) {
          const memo = w.memo as Partial<PostmortemMemo> | undefined;
          if (!memo?.incidentId || !memo.state) continue;
          const overdue = memo.state === 'due' && !!memo.overdueAt && now >= Date.parse(memo.overdueAt);
          const item = { ...(memo as PostmortemMemo), overdue, running: w.status.name === 'RUNNING' };
          const keep =
            filter.state === undefined ||
            (filter.state === 'due' && memo.state === 'due') ||
            (filter.state === 'overdue' && overdue) ||
            (filter.state === 'completed' && memo.state === 'completed');
          if (keep) out.push(item);
          if (out.length >= filter.limit) break;
        }
        return out;
      });
    },

    /** Records a change (idempotent by `id`), starting the change log if it is not running yet. */
    async recordChange(actor: string, c: ChangeInput): Promise<ChangeEvent> {
      const req = {
        id: c.id ?? randomUUID(),
        who: c.who ?? actor,
        what: c.what,
        hosts: c.hosts ?? [],
        services: c.services ?? [],
        at: new Date(c.at).toISOString(),
        recordedBy: actor,
      };
      const op = new WithStartWorkflowOperation('changeLogWorkflow', {
        workflowId: changeLogWorkflowId(o.taskQueue),
        taskQueue: o.taskQueue,
        args: [{}],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      const recorded = await call('change log', () =>
        o.client.workflow.executeUpdateWithStart(recordChangeUpdate, {
          args: [req],
          updateId: `change-${req.id}`,
          startWorkflowOperation: op,
        }),
      );
      await o.records?.recordChange(recorded.id, recorded.at, recorded).catch(() => undefined);
      return recorded;
    },

    async listChanges(filter: ChangeFilter): Promise<ChangeEvent[]> {
      try {
        return await call('change log', () => changeLog().query(changesQuery, filter));
      } catch (e) {
        // Nothing recorded yet: there is no change log.
        if (e instanceof HttpError && e.statusCode === 404) return [];
        throw e;
      }
    },
  };
}

export type PostmortemService = ReturnType<typeof createPostmortemService>;
