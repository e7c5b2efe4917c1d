/**
 * A hand-built IncidentView of the seed incident (the data-sync host's SSH blocked, the student-system
 * → Canvas integration down for 25 institutions), as the workflow would have recorded it had this
 * project existed. Tests override what they need.
 */
import type {
  AffectedService,
  IncidentView,
  PageRecord,
  Recipient,
  StatusMessage,
  TimelineEvent,
} from '../../domain/incident.js';

export const people = {
  owner: { id: 'kari', name: 'Kari Nordmann', email: 'kari@uni.example' },
  security: { id: 'sikkerhet', name: 'Security mailbox', email: 'security@uni.example' },
  productOwner: { id: 'ola', name: 'Ola Hansen', email: 'ola@uni.example' },
  serviceDesk: { id: 'per', name: 'Per Berg', email: 'per@uni.example' },
} satisfies Record<string, Recipient>;

export const affected: AffectedService[] = [
  {
    id: 'fs-canvas',
    name: 'FS → Canvas integration',
    component: 'student-system → Canvas integration',
    subscribers: 25,
    root: true,
  },
  { id: 'canvas-enrolment', name: 'Canvas enrolment reports', subscribers: 12, root: false },
];

export const ev = (
  at: string,
  actor: string,
  kind: TimelineEvent['kind'],
  detail: string,
): TimelineEvent => ({
  at,
  actor,
  kind,
  detail,
});

export const page = (
  at: string,
  recipient: Recipient,
  level: number,
  reason: PageRecord['reason'] = level === 1 ? 'initial' : 'escalation',
  cycle = 0,
): PageRecord => ({ at, recipient, level, cycle, reason });

const refused = 'ssh-datasync: FAIL refused — connect ECONNREFUSED 10.20.30.40:22 (3ms)';

export const seedPages: PageRecord[] = [
  page('2022-06-14T07:10:41.000Z', people.owner, 1),
  page('2022-06-14T07:25:41.000Z', people.security, 2),
  page('2022-06-14T07:40:41.000Z', people.productOwner, 3),
];

export const seedStatus: StatusMessage[] = [
  {
    at: '2022-06-14T07:10:42.000Z',
    state: 'investigating',
    message: 'We are investigating a problem with the student-system → Canvas integration.',
    author: 'system',
  },
  {
    at: '2022-06-14T07:45:00.000Z',
    state: 'identified',
    message: 'Inbound SSH to the data-sync host is blocked.',
    author: 'ola',
  },
  {
    at: '2022-06-14T09:11:01.000Z',
    state: 'resolved',
    message: 'The integration works again.',
    author: 'system',
  },
];

export const seedTimeline: TimelineEvent[] = [
  ev('2022-06-14T07:10:00.000Z', 'monitor:ssh-datasync', 'detected', refused),
  ev('2022-06-14T07:10:20.000Z', 'system', 'verify', refused),
  ev(
    '2022-06-14T07:10:40.000Z',
    'system',
    'verified',
    'ssh-datasync: FAIL timeout — handshake timed out after 10s (10000ms)',
  ),
  ev('2022-06-14T07:10:41.000Z', 'system', 'paged', 'level 1: Kari Nordmann <kari@uni.example>'),
  ev('2022-06-14T07:10:42.000Z', 'system', 'status', 'investigating: We are investigating a problem'),
  ev('2022-06-14T07:25:41.000Z', 'system', 'escalated', 'level 2: Security mailbox <security@uni.example>'),
  ev('2022-06-14T07:25:41.000Z', 'system', 'paged', 'level 2: Security mailbox'),
  ev('2022-06-14T07:40:41.000Z', 'system', 'escalated', 'level 3: Ola Hansen'),
  ev('2022-06-14T07:40:41.000Z', 'system', 'paged', 'level 3: Ola Hansen'),
  ev('2022-06-14T07:42:00.000Z', 'ola', 'acknowledged', 'via email link'),
  ev(
    '2022-06-14T07:45:00.000Z',
    'ola',
    'status',
    'identified: Inbound SSH to the data-sync host is blocked.',
  ),
  ev(
    '2022-06-14T08:05:00.000Z',
    'ola',
    'note',
    'Operators: firewall change | inbound SSH blocked\nrollback started',
  ),
  ev('2022-06-14T09:10:00.000Z', 'ola', 'resolve-requested', 'firewall rule reverted'),
  ev('2022-06-14T09:10:30.000Z', 'system', 'recovery-check', 'ssh-datasync: ok (41ms)'),
  ev('2022-06-14T09:11:00.000Z', 'system', 'recovery-check', 'ssh-datasync: ok (39ms)'),
  ev('2022-06-14T09:11:00.000Z', 'system', 'resolved', '2 recovery checks passed in a row'),
  ev('2022-06-14T09:11:01.000Z', 'system', 'status', 'resolved: The integration works again.'),
  ev('2022-06-14T09:11:02.000Z', 'system', 'resolved-notice', 'sent to 3 people'),
];

/** The resolved seed incident; pass overrides for the state a test needs. */
export function buildIncidentView(overrides: Partial<IncidentView> = {}): IncidentView {
  return {
    id: 'inc-20220614-datasync',
    workflowId: 'incident/fs-canvas',
    openKeys: [],
    service: {
      id: 'fs-canvas',
      name: 'FS → Canvas integration',
      component: 'student-system → Canvas integration',
      timezone: 'Europe/Oslo',
    },
    severity: 'P1',
    state: 'resolved',
    reason: 'SSH to w3prod-datasync02 refused: the nightly XML export cannot be fetched',
    source: 'probe',
    openedAt: '2022-06-14T07:10:00.000Z',
    verifiedAt: '2022-06-14T07:10:40.000Z',
    acknowledgedAt: '2022-06-14T07:42:00.000Z',
    acknowledgedBy: 'ola',
    resolveRequestedAt: '2022-06-14T09:10:00.000Z',
    resolvedAt: '2022-06-14T09:11:00.000Z',
    closedAt: '2022-06-14T09:11:02.000Z',
    escalationStep: 2,
    affected: affected.map((a) => ({ ...a })),
    paged: seedPages.map((p) => ({ ...p })),
    status: seedStatus.map((s) => ({ ...s })),
    timeline: seedTimeline.map((e) => ({ ...e })),
    ...overrides,
  };
}

/** The same incident while it is still open: paged up to level `upTo`, nobody has acknowledged. */
export function buildOpenIncidentView(upTo = 1, overrides: Partial<IncidentView> = {}): IncidentView {
  const paged = seedPages.slice(0, upTo).map((p) => ({ ...p }));
  return buildIncidentView({
    state: 'triggered',
    acknowledgedAt: undefined,
    acknowledgedBy: undefined,
    resolveRequestedAt: undefined,
    resolvedAt: undefined,
    closedAt: undefined,
    escalationStep: upTo - 1,
    paged,
    status: seedStatus.slice(0, 1).map((s) => ({ ...s })),
    timeline: seedTimeline.filter((e) => Date.parse(e.at) <= Date.parse(paged[paged.length - 1]!.at)),
    ...overrides,
  });
}
