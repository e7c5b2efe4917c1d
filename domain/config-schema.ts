/**
 * The one schema of the configuration file. Validation (config/load.ts) and every TypeScript type of
 * the configuration come from here; nothing else describes the file.
 */
import { Type, type Static } from 'typebox';
import { ChannelKindSchema, ChannelsConfig } from './channels.js';
import { severities, type Severity } from './severities.js';

export { severities, type Severity };

/**
 * The shortest secret accepted as a credential: staff tokens (STAFF_TOKENS), integration keys and
 * heartbeat tokens given through the environment. Shorter ones are refused at start-up.
 */
export const minSecretLength = 24;

const Id = Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$', description: 'kebab-case identifier' });

/** A duration: seconds as a number, or a string such as `90s`, `15m`, `2h`, `1d`. */
export const Duration = Type.Union([
  Type.Number({ exclusiveMinimum: 0 }),
  Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?(ms|s|m|h|d)$' }),
]);
export type Duration = Static<typeof Duration>;

/** One way to reach a contact: an ntfy topic, a phone number, a chat user (`to` as the channel takes it). */
export const ContactMethod = Type.Object(
  {
    id: Id,
    kind: ChannelKindSchema,
    /** ntfy topic, phone number (E.164), email address, Slack/Mattermost user; chat kinds default to the contact's ids. */
    to: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
export type ContactMethod = Static<typeof ContactMethod>;

/** "When paged, use method `method` after `after`" (0 or a duration). */
export const NotificationRule = Type.Object(
  {
    method: Id,
    after: Type.Union([Type.Literal(0), ...Duration.anyOf], { default: 0 }),
  },
  { additionalProperties: false },
);
export type NotificationRule = Static<typeof NotificationRule>;

/**
 * What a signed-in person may do (domain/access.ts): `responder` acknowledges, notes and resolves;
 * `communicator` publishes public status messages; `admin` makes overrides, maintenance and force
 * actions, and may do everything else too. Reading needs no role, only a sign-in.
 */
export const staffRoles = ['responder', 'communicator', 'admin'] as const;
export type StaffRole = (typeof staffRoles)[number];
export const StaffRoleSchema = Type.Union([
  Type.Literal('responder'),
  Type.Literal('communicator'),
  Type.Literal('admin'),
]);

export const Contact = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1 }),
    email: Type.String({ format: 'email' }),
    /** SHA-256 (hex) of this contact's staff API token. The token itself never goes in the file. */
    tokenSha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    timezone: Type.Optional(Type.String()),
    /** Ways to reach this contact besides `email` (always the method `email`). */
    methods: Type.Array(ContactMethod, { default: [] }),
    /**
     * When paged: each method after its delay (PagerDuty/GoAlert notification rules), until the
     * incident is acknowledged. Without rules: email at once.
     */
    rules: Type.Optional(Type.Array(NotificationRule, { minItems: 1 })),
    /** What this person may do once signed in; unset → `access.defaultRoles`. `[]`: read only. */
    roles: Type.Optional(Type.Array(StaffRoleSchema, { uniqueItems: true })),
    /** Slack member id (`U…`): mentioned in Slack pages; clicking a button acts as this contact. */
    slackUserId: Type.Optional(Type.String({ pattern: '^[UW][A-Z0-9]{2,}$' })),
    /** Mattermost username: clicking a button in Mattermost acts as this contact. */
    mattermostUsername: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
export type Contact = Static<typeof Contact>;

export const Team = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1 }),
    members: Type.Array(Id, { minItems: 1 }),
    lead: Type.Optional(Id),
    /**
     * Chat webhooks that get the team's incident and status updates. A URL that carries a token (Slack,
     * Teams) is a secret: give the environment variable holding it (`urlEnv`), not the URL.
     */
    webhooks: Type.Array(
      Type.Object(
        {
          format: Type.Union([Type.Literal('json'), Type.Literal('slack'), Type.Literal('teams')]),
          url: Type.Optional(Type.String({ pattern: '^https?://' })),
          urlEnv: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' })),
          /**
           * The variable holding a Standard Webhooks secret (`whsec_<base64>`): every post is signed
           * (`webhook-id`, `webhook-timestamp`, `webhook-signature`) so the receiver can check it.
           */
          secretEnv: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' })),
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
  },
  { additionalProperties: false },
);
export type Team = Static<typeof Team>;
export type WebhookTarget = Team['webhooks'][number];

/**
 * Who to notify: contact ids, `team:<id>` for every member of a team, or `schedule:<id>` for whoever
 * is on call in that schedule at the moment the level pages.
 */
export const Targets = Type.Array(Type.String({ pattern: '^((team|schedule):)?[a-z0-9][a-z0-9-]*$' }), {
  minItems: 1,
});

const LocalClock = Type.String({ description: 'local time HH:MM, 24-hour' });

/**
 * An on-call rotation: participants take shifts in order, handing off at a local time in a zone.
 * The fields are those of `Rotation` in domain/schedule.ts, which checks them (config/load.ts).
 */
export const RotationConfig = Type.Object(
  {
    /** Contact ids in rotation order. */
    participants: Type.Array(Id, { minItems: 1 }),
    /** Whole `shiftUnit`s per shift. */
    shiftLength: Type.Integer({ minimum: 1 }),
    shiftUnit: Type.Union([Type.Literal('hours'), Type.Literal('days'), Type.Literal('weeks')]),
    /** Local time at which shifts change. */
    handoff: LocalClock,
    /** IANA zone of the handoff time, the start date and the restrictions. */
    timeZone: Type.String({ minLength: 1 }),
    /** Local date (YYYY-MM-DD) of the first handoff. */
    start: Type.String({ description: 'YYYY-MM-DD' }),
  },
  { additionalProperties: false },
);

export const weekdayNames = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** A layer of a schedule: a rotation, on call only inside its restrictions (always without any). */
export const ScheduleLayer = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1 })),
    rotation: RotationConfig,
    restrictions: Type.Optional(
      Type.Array(
        Type.Object(
          {
            days: Type.Optional(Type.Array(Type.Union(weekdayNames.map((d) => Type.Literal(d))))),
            start: LocalClock,
            /** At or before `start`: the next day; `24:00`: midnight. */
            end: LocalClock,
          },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);

/**
 * An on-call schedule: layers listed lowest first; where several have someone on call, the later
 * (higher) one wins, as in PagerDuty. Overrides are made through the API and kept in the record store.
 */
export const ScheduleConfig = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1 }),
    layers: Type.Array(ScheduleLayer, { minItems: 1 }),
    /** How long before a shift starts its person gets a handoff notice by email (default 1h). */
    handoffNotice: Type.Optional(Duration),
  },
  { additionalProperties: false },
);
export type ScheduleConfig = Static<typeof ScheduleConfig>;

export const EscalationLevel = Type.Object(
  {
    notify: Targets,
    /** How long to wait for an acknowledgement before the next level is notified. */
    ackTimeout: Duration,
  },
  { additionalProperties: false },
);
export type EscalationLevel = Static<typeof EscalationLevel>;

export const Policy = Type.Object(
  {
    id: Id,
    levels: Type.Array(EscalationLevel, { minItems: 1 }),
    /** How many more times the whole chain is run after the first pass before the final fallback. */
    repeat: Type.Integer({ minimum: 0, default: 0 }),
    /** Notified once every level (and repeat) went unanswered. */
    finalFallback: Type.Optional(Type.Object({ notify: Targets }, { additionalProperties: false })),
    /**
     * An acknowledged incident that is neither resolved nor re-acknowledged within this time goes back
     * to unacknowledged and escalation resumes (PagerDuty's acknowledgement timeout).
     */
    acknowledgementTimeout: Duration,
  },
  { additionalProperties: false },
);
export type Policy = Static<typeof Policy>;

export const Subscriber = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    email: Type.Optional(Type.String({ format: 'email' })),
  },
  { additionalProperties: false },
);

export const Service = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1 }),
    /** `host` for a machine (the data-sync server), `service` for what users see. */
    type: Type.Union([Type.Literal('service'), Type.Literal('host')], { default: 'service' }),
    owner: Id,
    policy: Id,
    severity: Type.Union(
      severities.map((s) => Type.Literal(s)),
      { default: 'P2' },
    ),
    dependsOn: Type.Array(Id, { default: [] }),
    subscribers: Type.Array(Subscriber, { default: [] }),
    /** The name shown on the public status page. Services without one are not shown there. */
    component: Type.Optional(Type.String({ minLength: 1 })),
    /** Who is paged when a status message is overdue (communication deadline). */
    communicationsContact: Type.Optional(Id),
    timezone: Type.String({ default: 'Europe/Oslo' }),
  },
  { additionalProperties: false },
);
export type Service = Static<typeof Service>;

export const probeKinds = ['ssh', 'sftpFileAge', 'http', 'tcp'] as const;
export type ProbeKind = (typeof probeKinds)[number];

const Fingerprint = Type.String({
  pattern: '^SHA256:[A-Za-z0-9+/]{43}$',
  description: 'as `ssh-keygen -lf` prints it, e.g. SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8',
});

const CheckCommon = {
  id: Id,
  service: Id,
  name: Type.Optional(Type.String()),
  interval: Type.Optional(Duration),
  timeout: Type.Optional(Duration),
  failThreshold: Type.Optional(Type.Integer({ minimum: 1 })),
  recoverThreshold: Type.Optional(Type.Integer({ minimum: 1 })),
};

/** Credentials come from the environment or a file, never from this file. */
const SshAuth = Type.Object(
  {
    username: Type.String({ minLength: 1 }),
    privateKeyPath: Type.Optional(Type.String()),
    privateKeyEnv: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' })),
    passwordEnv: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' })),
  },
  { additionalProperties: false },
);

export const SshCheck = Type.Object(
  {
    ...CheckCommon,
    kind: Type.Literal('ssh'),
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 22 }),
    fingerprint: Type.Optional(Fingerprint),
    auth: Type.Optional(SshAuth),
    command: Type.Optional(Type.String()),
    expectExitCode: Type.Integer({ default: 0 }),
  },
  { additionalProperties: false },
);

export const SftpFileAgeCheck = Type.Object(
  {
    ...CheckCommon,
    kind: Type.Literal('sftpFileAge'),
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 22 }),
    fingerprint: Type.Optional(Fingerprint),
    auth: SshAuth,
    path: Type.String({ minLength: 1 }),
    maxAge: Duration,
  },
  { additionalProperties: false },
);

export const HttpCheck = Type.Object(
  {
    ...CheckCommon,
    kind: Type.Literal('http'),
    url: Type.String({ pattern: '^https?://' }),
    method: Type.Union([Type.Literal('GET'), Type.Literal('HEAD'), Type.Literal('POST')], { default: 'GET' }),
    expectStatus: Type.Integer({ minimum: 100, maximum: 599, default: 200 }),
    bodyContains: Type.Optional(Type.String()),
    tlsVerify: Type.Boolean({ default: true }),
  },
  { additionalProperties: false },
);

export const TcpCheck = Type.Object(
  {
    ...CheckCommon,
    kind: Type.Literal('tcp'),
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
  },
  { additionalProperties: false },
);

/**
 * A dead man's switch: the job (the nightly export, the import) pings `POST /api/heartbeats/<token>`
 * at least every `period`; no ping within period + grace → failing. The token is a secret: the file
 * holds only its SHA-256, or the name of the environment variable that holds it.
 */
export const HeartbeatCheck = Type.Object(
  {
    ...CheckCommon,
    kind: Type.Literal('heartbeat'),
    period: Duration,
    grace: Type.Optional(Duration),
    tokenSha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    tokenEnv: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' })),
  },
  { additionalProperties: false },
);
export type HeartbeatCheck = Static<typeof HeartbeatCheck>;

export const checkKinds = [...probeKinds, 'heartbeat'] as const;
export type CheckKind = (typeof checkKinds)[number];

export const Check = Type.Union([SshCheck, SftpFileAgeCheck, HttpCheck, TcpCheck, HeartbeatCheck]);
/** The checks a probe can run (everything but heartbeats, which wait for pings instead). */
export type ProbeCheck = Exclude<Static<typeof Check>, { kind: 'heartbeat' }>;
export type Check = Static<typeof Check>;
export type SshCheck = Static<typeof SshCheck>;
export type SftpFileAgeCheck = Static<typeof SftpFileAgeCheck>;
export type HttpCheck = Static<typeof HttpCheck>;
export type TcpCheck = Static<typeof TcpCheck>;

export const SeverityRule = Type.Object(
  {
    /** Publish the status message automatically once the incident is verified. */
    autoPublish: Type.Boolean(),
    /** Calendar days after resolution that the postmortem is due. */
    postmortemDueDays: Type.Integer({ minimum: 1 }),
    /**
     * Once verified, a public status message must be out within this time; otherwise the service's
     * communications contact is paged (then the owner). Unset: no deadline.
     */
    communicationDeadline: Type.Optional(Duration),
  },
  { additionalProperties: false },
);

/** A duration with a default: the same two forms as `Duration`. */
const DurationDefault = (d: Duration) => Type.Union(Duration.anyOf, { default: d });
/** A local time of day, `HH:MM` (24-hour). */
const ClockTime = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM, 24-hour' });

/**
 * The postmortem after an incident: the meeting, the reminders, who hears when it is overdue. When it
 * is due stays per severity (`severities.P0..P3.postmortemDueDays`).
 */
export const PostmortemConfig = Type.Object(
  {
    /** Working days after resolution that the postmortem meeting is held. */
    meetingDelay: Type.Integer({ minimum: 0, maximum: 60, default: 2 }),
    meetingDuration: DurationDefault('1h'),
    /** Local working hours in the service's time zone; the meeting starts and ends within them. */
    workingHours: Type.Object(
      { start: ClockTime, end: ClockTime },
      { additionalProperties: false, default: { start: '09:00', end: '16:00' } },
    ),
    /** Days off besides weekends (local dates, `YYYY-MM-DD`). */
    holidays: Type.Array(Type.String({ format: 'date', description: 'YYYY-MM-DD' }), { default: [] }),
    /** How often the owner is reminded until the postmortem is marked done. */
    reminderInterval: DurationDefault('1d'),
    /** How long past the due date before the owner's escalation level above is told. */
    overdueAfter: DurationDefault('1d'),
    /** How far before the fault began the draft looks for changes to the affected hosts and services. */
    changeWindow: DurationDefault('24h'),
  },
  { additionalProperties: false, default: {} },
);
export type PostmortemConfig = Static<typeof PostmortemConfig>;

export const Config = Type.Object(
  {
    contacts: Type.Array(Contact, { minItems: 1 }),
    /** Sign-in rights (domain/access.ts). */
    access: Type.Object(
      {
        /**
         * The roles of a contact without `roles`. The default, every role, is what every staff token
         * could do before roles existed, so older files keep working; `[responder]` makes the rest opt-in.
         */
        defaultRoles: Type.Array(StaffRoleSchema, {
          uniqueItems: true,
          default: ['responder', 'communicator', 'admin'],
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    teams: Type.Array(Team, { default: [] }),
    /** Settings of the channels contact methods use (domain/channels.ts). */
    channels: ChannelsConfig,
    /** On-call schedules, paged by policies as `schedule:<id>`. */
    schedules: Type.Array(ScheduleConfig, { default: [] }),
    policies: Type.Array(Policy, { minItems: 1 }),
    services: Type.Array(Service, { minItems: 1 }),
    checks: Type.Array(Check, { default: [] }),
    severities: Type.Object(
      {
        P0: SeverityRule,
        P1: SeverityRule,
        P2: SeverityRule,
        P3: SeverityRule,
      },
      {
        additionalProperties: false,
        default: {
          P0: { autoPublish: true, postmortemDueDays: 3, communicationDeadline: '10m' },
          P1: { autoPublish: true, postmortemDueDays: 5, communicationDeadline: '15m' },
          P2: { autoPublish: false, postmortemDueDays: 10, communicationDeadline: '1h' },
          P3: { autoPublish: false, postmortemDueDays: 20 },
        },
      },
    ),
    /**
     * Planned work: failures inside a window are recorded but page nobody; the status page shows the
     * window (upcoming, in progress) and subscribers are told when it starts and ends. One fixed
     * period (`from`/`until`), or recurring: `weekly` (days and a local time) or an RFC 5545 `rrule`
     * (with `at`), each with a `duration`, in `timeZone` (default Europe/Oslo) — see domain/maintenance.ts.
     */
    maintenance: Type.Array(
      Type.Object(
        {
          /** Names the window in notices and on the status page's API (default maintenance-<n>). */
          id: Type.Optional(Id),
          /** Check ids and/or service ids (a service covers its checks). */
          checks: Type.Array(Id, { default: [] }),
          services: Type.Array(Id, { default: [] }),
          from: Type.Optional(Type.String({ format: 'date-time' })),
          until: Type.Optional(Type.String({ format: 'date-time' })),
          weekly: Type.Optional(
            Type.Object(
              {
                days: Type.Array(
                  Type.Union(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'].map((d) => Type.Literal(d))),
                  { minItems: 1, maxItems: 7, uniqueItems: true },
                ),
                at: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'local time, HH:MM' }),
              },
              { additionalProperties: false },
            ),
          ),
          rrule: Type.Optional(
            Type.String({
              minLength: 6,
              maxLength: 500,
              description: 'RFC 5545 RRULE, e.g. FREQ=MONTHLY;BYDAY=1TU',
            }),
          ),
          at: Type.Optional(
            Type.String({
              pattern: '^([01]\\d|2[0-3]):[0-5]\\d$',
              description: 'local start time of an rrule occurrence',
            }),
          ),
          duration: Type.Optional(Duration),
          timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          reason: Type.String({ default: 'planned maintenance' }),
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
    /**
     * Inbound events from tools people already run: a PagerDuty Events API v2 compatible endpoint and
     * an Alertmanager webhook receiver, each mapped to a service. The key (PagerDuty routing key or
     * Alertmanager bearer token) is a secret: give its SHA-256 or the environment variable holding it
     * (at least 24 characters). A key opens incidents only for the services its integration lists.
     */
    integrations: Type.Array(
      Type.Object(
        {
          id: Id,
          kind: Type.Union([
            Type.Literal('pagerduty'),
            Type.Literal('alertmanager'),
            Type.Literal('opsgenie'),
          ]),
          service: Id,
          /**
           * Other services this integration may open and resolve incidents for. An Alertmanager
           * alert naming a configured service in `labels.service` goes to that service only when it
           * is `service` or listed here; naming any other configured service, the whole webhook is
           * refused (403, naming the alert's field). PagerDuty events always go to `service`.
           */
          services: Type.Optional(
            Type.Array(Id, {
              description:
                "Other services this integration's alerts may open incidents for (Alertmanager labels.service); besides its own service, no other. An alert naming another configured service is refused with 403.",
            }),
          ),
          keySha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
          keyEnv: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' })),
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
    incidents: Type.Object(
      {
        verifyAttempts: Type.Integer({ minimum: 1, default: 2 }),
        verifyInterval: Type.Optional(Duration),
        recoveryPasses: Type.Integer({ minimum: 1, default: 2 }),
        recoveryInterval: Type.Optional(Duration),
        notifyResolved: Type.Boolean({ default: true }),
        /** How long after closing an incident may be reopened (POST /api/incidents/:id/reopen); default 24h. */
        reopenWindow: Type.Optional(Duration),
      },
      { additionalProperties: false, default: {} },
    ),
    postmortem: PostmortemConfig,
  },
  { additionalProperties: false },
);
export type Config = Static<typeof Config>;
