/**
 * Every environment variable the worker and the API read, with what it is for. The README's
 * configuration table and the docker-compose test are checked against this list.
 */
export interface EnvVar {
  name: string;
  /** Which processes read it. */
  usedBy: ReadonlyArray<'worker' | 'api'>;
  /** Must be set in production (docker-compose); otherwise it has a default or is optional. */
  requiredInProduction: boolean;
  secret: boolean;
  description: string;
}

export const envVars: readonly EnvVar[] = [
  {
    name: 'INCIDENT_CONFIG',
    usedBy: ['worker', 'api'],
    requiredInProduction: true,
    secret: false,
    description: 'Path of the YAML configuration file (default config/example.yaml).',
  },
  {
    name: 'TEMPORAL_ADDRESS',
    usedBy: ['worker', 'api'],
    requiredInProduction: true,
    secret: false,
    description:
      'Temporal frontend host:port (default localhost:7233). Temporal envconfig conventions apply (TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE).',
  },
  {
    name: 'TEMPORAL_NAMESPACE',
    usedBy: ['worker', 'api'],
    requiredInProduction: true,
    secret: false,
    description: 'Temporal namespace (default "default").',
  },
  {
    name: 'TEMPORAL_TASK_QUEUE',
    usedBy: ['worker', 'api'],
    requiredInProduction: false,
    secret: false,
    description: 'Task queue shared by worker and API (default "incidents").',
  },
  {
    name: 'SMTP_URL',
    usedBy: ['worker'],
    requiredInProduction: true,
    secret: true,
    description:
      'SMTP server: smtp://user:pass@mail:587 (STARTTLS required) or smtps://user:pass@mail:465 (TLS on connect); smtp://host:port?tls=off sends in cleartext (a local mail catcher only). Unset: mail is written as .eml files to the outbox folder.',
  },
  {
    name: 'MAIL_FROM',
    usedBy: ['worker'],
    requiredInProduction: true,
    secret: false,
    description: 'From address of every mail (default "Incident Orchestrator <incidents@localhost>").',
  },
  {
    name: 'DATA_DIR',
    usedBy: ['worker', 'api'],
    requiredInProduction: true,
    secret: false,
    description: 'Folder for the outbox and the sent-mail ledger (default ./data).',
  },
  {
    name: 'DATABASE_URL',
    usedBy: ['worker', 'api'],
    requiredInProduction: true,
    secret: true,
    description:
      'PostgreSQL URL of the record store (postgres://incidents:<password>@host:5432/incidents); docker-compose builds it from RECORDS_DB_PASSWORD.',
  },
  {
    name: 'STAFF_TOKENS',
    usedBy: ['api'],
    requiredInProduction: false,
    secret: true,
    description:
      'Staff API tokens as contactId=token pairs, comma separated; each token at least 24 characters (a shorter one stops start-up). Alternatively set tokenSha256 on a contact in the config.',
  },
  {
    name: 'PORT',
    usedBy: ['api'],
    requiredInProduction: true,
    secret: false,
    description: 'API port (default 3000).',
  },
  {
    name: 'HOST',
    usedBy: ['api'],
    requiredInProduction: true,
    secret: false,
    description: 'API bind address (default 127.0.0.1; 0.0.0.0 in a container).',
  },
  {
    name: 'PUBLIC_BASE_URL',
    usedBy: ['worker', 'api'],
    requiredInProduction: true,
    secret: false,
    description: 'Base URL people reach the API at, used for links in mail (default http://localhost:3000).',
  },
  {
    name: 'ACK_LINK_SECRET',
    usedBy: ['worker', 'api'],
    requiredInProduction: true,
    secret: true,
    description:
      'HMAC key (at least 16 characters) of the one-click acknowledge links in page mails; worker and API must share it. Unset: page mails carry no link. `npm start` generates one into $DATA_DIR/ack-link-secret.',
  },
  {
    name: 'SESSION_SECRET',
    usedBy: ['api'],
    requiredInProduction: true,
    secret: true,
    description:
      'HMAC key (at least 16 characters) of the staff console session cookie. Unset: a random key per process (sessions end on restart and do not carry across API instances).',
  },
  {
    name: 'PAGERDUTY_ROUTING_KEY',
    usedBy: ['api'],
    requiredInProduction: false,
    secret: true,
    description:
      "Routing key of the example config's PagerDuty-compatible integration (integrations[].keyEnv names the variable), at least 24 characters. Unset: its events are refused.",
  },
  {
    name: 'ALERTMANAGER_TOKEN',
    usedBy: ['api'],
    requiredInProduction: false,
    secret: true,
    description:
      "Bearer token of the example config's Alertmanager integration (integrations[].keyEnv names the variable), at least 24 characters. Unset: its webhooks are refused.",
  },
  {
    name: 'DATASYNC_SSH_KEY',
    usedBy: ['worker'],
    requiredInProduction: false,
    secret: true,
    description:
      "Private key of the example config's SFTP export-freshness check (checks[].auth.privateKeyEnv names the variable). Unset: that check fails with auth-config.",
  },
  {
    name: 'CANVAS_IMPORT_TOKEN',
    usedBy: ['api'],
    requiredInProduction: false,
    secret: true,
    description:
      "Token of the example config's heartbeat check for the nightly import (checks[].tokenEnv names the variable), at least 24 characters; the job pings POST /api/heartbeats/<token>.",
  },
  {
    name: 'LOG_LEVEL',
    usedBy: ['worker', 'api'],
    requiredInProduction: false,
    secret: false,
    description: 'info (default), debug, warn, error.',
  },
  {
    name: 'WORKER_METRICS_ADDRESS',
    usedBy: ['worker'],
    requiredInProduction: false,
    secret: false,
    description:
      "host:port of the worker's GET /metrics (Prometheus text: probes, process, and the Temporal SDK's runtime metrics); default 127.0.0.1:9464, empty turns it off.",
  },
  {
    name: 'TEMPORAL_METRICS_ADDRESS',
    usedBy: ['worker'],
    requiredInProduction: false,
    secret: false,
    description:
      "host:port where the Temporal SDK serves its runtime metrics (Runtime.install's Prometheus bind address), read into the worker's /metrics; default a free loopback port, empty turns them off.",
  },
];
