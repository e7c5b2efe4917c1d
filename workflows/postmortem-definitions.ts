/**
 * Names shared by the postmortem and change-log workflows and their callers (API, tests): updates,
 * queries, signals, workflow ids. Importing this from Node code is safe: it only defines names.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ChangeEvent, ChangeFilter } from '../domain/changes.js';
import type { Recipient } from '../domain/incident.js';
import type { FollowUp, MeetingInfo } from '../domain/postmortem.js';

/** Failure types the postmortem rejects updates with, beyond the incident's `InvalidRequest`. */
export const postmortemRejection = {
  completed: 'PostmortemCompleted',
  /** No follow-up with that id. */
  unknownFollowUp: 'UnknownFollowUp',
  /** The follow-up was marked done already. */
  followUpDone: 'FollowUpDone',
  /** The meeting was cancelled already. */
  meetingCancelled: 'MeetingCancelled',
} as const;

export const postmortemStates = ['due', 'completed'] as const;
export type PostmortemState = (typeof postmortemStates)[number];

/** What the API reads: the state, the schedule, the follow-ups and the draft as it stands. */
export interface PostmortemView {
  incidentId: string;
  workflowId: string;
  service: { id: string; name: string };
  severity: string;
  state: PostmortemState;
  owner: Recipient;
  /** Local date in the service's time zone. */
  dueDate: string;
  /** UTC ISO-8601: the end of the due date. */
  overdueAt: string;
  /** UTC ISO-8601: when the level above is told (overdueAt + overdueAfter). */
  escalateAt: string;
  escalatedTo?: Recipient[];
  escalatedAt?: string;
  meeting: MeetingInfo;
  remindersSent: number;
  nextReminderAt?: string;
  followUps: FollowUp[];
  completedAt?: string;
  completedBy?: string;
  url?: string;
  /** The draft, rendered from the record as it stands (with recorded follow-ups). */
  markdown: string;
}

/** What visibility (`GET /api/postmortems`) shows without querying each workflow. */
export interface PostmortemMemo {
  incidentId: string;
  service: string;
  severity: string;
  owner: Recipient;
  dueDate: string;
  overdueAt: string;
  state: PostmortemState;
  meetingStart: string;
  completedAt?: string;
  url?: string;
}

export interface CompleteRequest {
  actor: string;
  url: string;
}

export interface FollowUpRequest {
  actor: string;
  title: string;
  owner: Recipient;
  /** `YYYY-MM-DD`, not before today in the service's time zone. */
  dueDate: string;
}

export interface FollowUpDoneRequest {
  actor: string;
  /** The follow-up's id (`f1`, `f2`, …). */
  id: string;
}

/**
 * What the completion update answers: small on purpose (an update's result is kept in the history;
 * the whole view, draft included, is the query's job).
 */
export interface CompletedResult {
  completedAt: string;
  completedBy: string;
  url: string;
}

export const postmortemQuery = defineQuery<PostmortemView>('postmortem');
/** Older workers answered the whole PostmortemView; callers read only these fields either way. */
export const completePostmortemUpdate = defineUpdate<CompletedResult, [CompleteRequest]>(
  'completePostmortem',
);
export const addFollowUpUpdate = defineUpdate<FollowUp, [FollowUpRequest]>('addFollowUp');
export interface MoveMeetingRequest {
  actor: string;
  /** UTC ISO-8601, in the future. */
  start: string;
  /** Default: the meeting's current length. */
  durationMinutes?: number;
}

export interface CancelMeetingRequest {
  actor: string;
  reason: string;
}

/** Moves the meeting: everyone invited gets the updated invitation (same UID, SEQUENCE + 1). */
export const moveMeetingUpdate = defineUpdate<MeetingInfo, [MoveMeetingRequest]>('moveMeeting');
/** Calls the meeting off: everyone invited gets METHOD:CANCEL (SEQUENCE + 1). */
export const cancelMeetingUpdate = defineUpdate<MeetingInfo, [CancelMeetingRequest]>('cancelMeeting');
/** Marks one follow-up done: it is not reminded any more, and the draft says who did it and when. */
export const completeFollowUpUpdate = defineUpdate<FollowUp, [FollowUpDoneRequest]>('completeFollowUp');

/** The postmortem of an incident: one per incident, by construction. */
export function postmortemWorkflowId(incidentId: string): string {
  return `postmortem-${incidentId}`;
}

// ---- change log ---------------------------------------------------------------------------------

export type ChangeRequest = Omit<ChangeEvent, 'recordedAt'>;

/** A workflow asks the change log for changes; the answer comes back as `changesReplySignal`. */
export interface ChangesRequest extends ChangeFilter {
  requestId: string;
  replyTo: string;
}

export interface ChangesReply {
  requestId: string;
  changes: ChangeEvent[];
}

export const recordChangeUpdate = defineUpdate<ChangeEvent, [ChangeRequest]>('recordChange');
export const changesQuery = defineQuery<ChangeEvent[], [ChangeFilter?]>('changes');
export const changesRequestSignal = defineSignal<[ChangesRequest]>('changesRequest');
export const changesReplySignal = defineSignal<[ChangesReply]>('changesReply');

/**
 * One change log per task queue: deployments that share a namespace keep their changes apart, and
 * the log is served by the same workers as the postmortems that read it.
 */
export function changeLogWorkflowId(taskQueue: string): string {
  return `change-log-${taskQueue}`;
}
