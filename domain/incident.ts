/**
 * The incident's shapes as the workflow, the API and the postmortem see them. Plain types only: this
 * module is imported by workflow code, so it must stay free of I/O and of runtime dependencies.
 */
import type { Check, Severity } from './config-schema.js';
import type { PostmortemSettings } from './postmortem.js';
import type { PersonOutcome, PlannedSend, Reach } from './notification-plan.js';
import type { RecoveryProof } from './recovery-facts.js';

export const incidentStates = [
  'verifying',
  'dismissed',
  'triggered',
  'acknowledged',
  'resolving',
  'resolved',
] as const;
export type IncidentState = (typeof incidentStates)[number];
export const closedStates: readonly IncidentState[] = ['dismissed', 'resolved'];

export const statusStates = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type StatusState = (typeof statusStates)[number];

export const timelineKinds = [
  'detected',
  'joined',
  'verify',
  'verified',
  'dismissed',
  'paged',
  'page-queued',
  'page-failed',
  'escalated',
  'acknowledged',
  'ack-timeout',
  'note',
  'status',
  'resolve-requested',
  'recovery-check',
  'resolved',
  'resolved-notice',
  'recovered',
  'comms-overdue',
  'on-call',
  'webhook',
  'webhook-failed',
  'postmortem',
  'severity',
  'responder',
  'snoozed',
  'merged',
] as const;
export type TimelineKind = (typeof timelineKinds)[number];

/** One line of the incident's timeline. `at` is UTC ISO-8601. */
export interface TimelineEvent {
  at: string;
  actor: string;
  kind: TimelineKind;
  detail: string;
}

export interface StatusMessage {
  at: string;
  state: StatusState;
  message: string;
  author: string;
}

/** A contact resolved from config, as a page goes to them. */
export interface Recipient {
  id: string;
  name: string;
  email: string;
  /** The contact's methods and notification rules; absent: a page is one email at once. */
  reach?: Reach;
}

/** One step of an escalation plan: who is told, then how long to wait for an acknowledgement. */
export interface EscalationStep {
  /** 1-based level in the policy; 0 for the final fallback. */
  level: number;
  /** 0 for the first pass through the chain, 1.. for repeats. */
  cycle: number;
  fallback: boolean;
  recipients: Recipient[];
  /**
   * Schedules (`schedule:<id>` targets) whose on-call person is looked up when this step pages (and
   * on each repeat), not when the incident opens. Absent: the step names fixed people only.
   */
  schedules?: string[];
  waitMs: number;
}

export interface PageRecord {
  at: string;
  level: number;
  cycle: number;
  recipient: Recipient;
  /** `added`: staff added them as a responder (level 0, cycle 0: outside the escalation chain). */
  reason: 'initial' | 'escalation' | 'ack-timeout' | 'fallback' | 'added' | 'snoozed';
}

/** A service touched by the incident (the service itself and everything that depends on it). */
export interface AffectedService {
  id: string;
  name: string;
  component?: string;
  subscribers: number;
  root: boolean;
}

export type DetectionSource = 'api' | 'probe' | 'event' | 'customer';

/** What opens (or joins) an incident. */
export interface Detection {
  /** Idempotency key: the same event delivered twice is recorded once. */
  eventId: string;
  source: DetectionSource;
  actor: string;
  reason: string;
  severity?: Severity;
  /** Skip verification: a person vouches for the problem, or a monitor already saw it fail N times. */
  skipVerify?: boolean;
  /**
   * What keeps the incident open on this report's behalf: a check id (`check:<id>`) or an inbound
   * event's dedup key (`event:<key>`). When every key an automatic report opened has recovered, the
   * incident resolves by itself.
   */
  key?: string;
  /** The service whose check or alert this is, when it joins an incident of what it depends on. */
  fromService?: string;
  /** How to reach a customer who reported it (staff-only: kept in the timeline, never published). */
  contact?: string;
  /**
   * A customer report's reporter, pseudonymous (a keyed hash of the client address, never the
   * address): a second report from another reporter corroborates an unverified incident.
   */
  reporter?: string;
  /** A monitor's report: when its first failing probe of this failure ran (UTC ISO-8601). */
  firstFailureAt?: string;
  /**
   * The rule `severity` brings from config (auto-publish, deadline, postmortem due), so a joining
   * report of a higher severity can raise the incident's (set by buildIncidentInput).
   */
  severityRule?: { autoPublish: boolean; postmortemDueDays: number; communicationDeadlineMs?: number };
}

/** A recovery of something that opened or joined an incident (a monitor, an external alert). */
export interface Recovery {
  eventId: string;
  key: string;
  actor: string;
  detail: string;
}

/** Everything the workflow needs, snapshotted from config when the incident opens. */
export interface IncidentInput {
  service: { id: string; name: string; component?: string; timezone: string };
  owner: Recipient;
  severity: Severity;
  autoPublish: boolean;
  postmortemDueDays: number;
  detection: Detection;
  affected: AffectedService[];
  checks: Check[];
  plan: EscalationStep[];
  acknowledgementTimeoutMs: number;
  verifyAttempts: number;
  verifyIntervalMs: number;
  recoveryPasses: number;
  recoveryIntervalMs: number;
  notifyResolved: boolean;
  /** Verified → a public status message is due within this time; unset: no deadline. */
  communicationDeadlineMs?: number;
  /** Paged in turn when the status message is overdue: the communications contact, then the owner. */
  communications?: Recipient[];
  /**
   * Chat webhooks of the teams involved, by id (team and position in its list): the worker looks the
   * URL up in its own config. Older inputs carry `url`/`urlEnv`, honoured only when configured.
   */
  webhooks?: {
    team: string;
    index?: number;
    format: 'json' | 'slack' | 'teams';
    url?: string;
    urlEnv?: string;
  }[];
  /** The postmortem's scheduling and follow-up settings (config `postmortem`). */
  postmortem?: PostmortemSettings;
  /** Every contact, so the postmortem can invite whoever acted (timeline actors are contact ids). */
  contacts?: Recipient[];
  /** Base URL of the API, for links in mail. */
  publicBaseUrl?: string;
  /** Set by continue-as-new: the decision state the previous run handed on. */
  resume?: IncidentResume;
}

/** What one run of a long-lived incident hands the next (continue-as-new). Bounded by construction. */
export interface IncidentResume {
  view: IncidentView;
  seq: number;
  version: number;
  seenEvents: string[];
  hadKeys: boolean;
  acknowledger?: Recipient;
  ackSeq: number;
  sendSeq: number;
  chatSeq: number;
  chatEnabled: boolean;
  /** When the acknowledgement runs out (acknowledged state). */
  ackDeadlineAt?: string;
  /** The communication deadline's progress, while no status message is published. */
  comms?: { index: number; dueAt: string };
  pagedRecipients: Recipient[];
  statusCount: number;
  pagedCount: number;
  /** Events not yet in the store: the next run writes them (same sequence, so exactly once). */
  outbox: StoredEvent[];
  /** Pages still being delivered: the next run carries on (same idempotency keys). */
  inflight: InflightPage[];
  /** People being paged by their notification rules: the next run carries on where they are. */
  reaching?: ReachJob[];
  /** Pages of a level not yet known to have reached someone (nobody reached → escalate at once). */
  rounds?: PageRound[];
  runs: number;
}

/** One person paged by their notification rules: what goes out, and how each send stands. */
export interface ReachJob {
  /** Idempotency base (workflow, run, page, person): each send adds its method and delay. */
  key: string;
  /** The page round (send sequence) this is part of. */
  seq: number;
  recipient: { id: string; name: string; email: string };
  level: number;
  /** How the timeline names the step: `level 1:`, `level 2 (repeat 1):`, `final fallback:`. */
  what: string;
  title: string;
  /** The page mail's text (email); push and SMS carry `short`. */
  text: string;
  short: string;
  plan: PlannedSend[];
  /**
   * An added responder: their rules run on after an acknowledgement (help was asked for), until the
   * incident closes. Absent: a level's page, whose rules stop once someone acknowledges.
   */
  untilClosed?: boolean;
  /** No one-click acknowledge link (an added responder's page once someone has acknowledged). */
  ackLink?: false;
}

/** How each person of one level's page stands: decided once someone is reached or nobody can be. */
export interface PageRound {
  seq: number;
  stepIndex: number;
  level: number;
  what: string;
  people: Record<string, PersonOutcome>;
}

export interface InflightPage {
  key: string;
  to: Recipient;
  subject: string;
  text: string;
  onSent: string;
  ackLink: boolean;
}

export interface IncidentView {
  id: string;
  workflowId: string;
  service: IncidentInput['service'];
  severity: Severity;
  state: IncidentState;
  reason: string;
  source: DetectionSource;
  openedAt: string;
  verifiedAt?: string;
  acknowledgedAt?: string;
  acknowledgedBy?: string;
  resolveRequestedAt?: string;
  resolvedAt?: string;
  closedAt?: string;
  /** Index into the escalation plan of the step last notified; -1 before the first page. */
  escalationStep: number;
  nextEscalationAt?: string;
  /** The last step of the escalation plan has been paged: nobody further is paged automatically. */
  nobodyFurther?: boolean;
  /** Snoozed until (UTC ISO), by whom: then it is triggered and paged again unless resolved. */
  snoozedUntil?: string;
  snoozedBy?: string;
  /** Who the next escalation step pages (names), while one follows. */
  nextEscalationTo?: string[];
  /** What proved the recovery, once resolved (see domain/recovery-facts.ts). */
  recoveryProof?: RecoveryProof;
  /** Recovery probe rounds the incident ran (the timeline in the view keeps only the last few). */
  recoveryRounds?: number;
  /** The first failing probe of the monitor that opened it (monitor-detected incidents). */
  firstProbeFailureAt?: string;
  affected: AffectedService[];
  /** The draft status message waiting for staff to publish or approve it (communication deadline). */
  statusDraft?: string;
  communicationDueAt?: string;
  /** Reports from customers (the public form): how many, and when the first arrived. */
  customerReports?: number;
  firstCustomerReportAt?: string;
  /** Reports that joined, per source (the store keeps every one; the timeline lists the first few). */
  reportCounts?: Record<string, number>;
  /** Runs of the workflow so far (continue-as-new keeps long incidents' histories bounded). */
  runs?: number;
  /** Keys (checks, alert dedup keys) still failing; automatic resolution waits for all of them. */
  openKeys: string[];
  paged: PageRecord[];
  status: StatusMessage[];
  timeline: TimelineEvent[];
  /** Merged by staff into this incident (domain/merge.ts): it closed without a postmortem of its own. */
  mergedInto?: string;
  /** Incidents merged into this one, oldest first. */
  merged?: { id: string; serviceId: string; serviceName: string; at: string; by: string }[];
  /** Every delivery attempt, oldest first (read from the record store; the workflow keeps none). */
  deliveries?: DeliveryRecord[];
}

/** The probe result every probe kind returns. */
export interface ProbeResult {
  ok: boolean;
  latencyMs: number;
  /** Machine-readable: `ok`, `timeout`, `refused`, `hostkey-mismatch`, `dns`, ... */
  code: string;
  message: string;
}

/**
 * What the workflow holds and writes to the record store as the incident's row: the view without its
 * unbounded parts (timeline, pages, status messages), which go to the store as events.
 */
export type IncidentSnapshot = Omit<IncidentView, 'timeline' | 'paged' | 'status' | 'deliveries'> & {
  statusCount: number;
  lastStatus?: StatusMessage;
  pagedCount: number;
};

/** One timeline event as the workflow hands it to the store, with what else it records. */
export interface StoredEvent extends TimelineEvent {
  /** Per incident, from 1, carried across continue-as-new: with the incident id, the event's key. */
  seq: number;
  status?: Omit<StatusMessage, 'at'>;
  page?: Omit<PageRecord, 'at'>;
  attempt?: DeliveryAttempt;
  /** A report that joined (every one is kept in `reports`). */
  report?: { source: DetectionSource; actor: string; reason: string; contact?: string; fromService?: string };
  /** Not a timeline line (a page decided, a report: stored in their own tables only). */
  hidden?: boolean;
}

/**
 * One attempt to deliver a page or notice. Pages by notification rules record `queued` (the send
 * is due), then `accepted` (the service took it) or `delivered` (the channel says it reached the
 * person), or `failed` with its reason; pages without rules record `sent`, `duplicate` or `failed`.
 */
export interface DeliveryAttempt {
  channel: string;
  recipientId?: string;
  outcome: 'queued' | 'accepted' | 'delivered' | 'sent' | 'duplicate' | 'failed';
  /** The person's method (`push`, `phone`, `email`), for pages by notification rules. */
  method?: string;
  /** The level that paged (0: the final fallback). */
  level?: number;
  /** 1 for the first try of this send. */
  attempt?: number;
}

/** A delivery attempt as the API lists it (GET /api/incidents/:id `deliveries`). */
export interface DeliveryRecord extends DeliveryAttempt {
  at: string;
  detail: string;
}

/** What an update answers: small, so history stays small however many updates arrive. */
export interface UpdateResult {
  id: string;
  state: IncidentState;
  /** The sequence of the event the update recorded (0 when it recorded none). */
  seq: number;
}
