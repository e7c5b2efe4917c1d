-- Up Migration
-- The record of every incident: written by the worker's idempotent activities (one key per event:
-- the incident id and the event's sequence, carried across continue-as-new), read by the API.

CREATE TABLE incidents (
  id text PRIMARY KEY,
  workflow_id text NOT NULL,
  run_id text NOT NULL,
  service text NOT NULL,
  severity text NOT NULL,
  state text NOT NULL,
  reason text NOT NULL,
  source text NOT NULL,
  opened_at timestamptz NOT NULL,
  closed_at timestamptz,
  -- The small decision view as the workflow last reported it (no timeline, pages or messages).
  snapshot jsonb NOT NULL,
  -- The highest event sequence the snapshot reflects: an older write never overwrites a newer one.
  version bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incidents_opened_at ON incidents (opened_at DESC);
CREATE INDEX incidents_service ON incidents (service, opened_at DESC);
CREATE INDEX incidents_open ON incidents (opened_at DESC) WHERE closed_at IS NULL;

CREATE TABLE timeline_events (
  incident_id text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  seq bigint NOT NULL,
  run_id text NOT NULL,
  at timestamptz NOT NULL,
  actor text NOT NULL,
  kind text NOT NULL,
  detail text NOT NULL,
  PRIMARY KEY (incident_id, seq)
);
CREATE INDEX timeline_events_notes ON timeline_events USING gin (to_tsvector('simple', detail)) WHERE kind = 'note';

CREATE TABLE status_messages (
  incident_id text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  seq bigint NOT NULL,
  at timestamptz NOT NULL,
  state text NOT NULL,
  message text NOT NULL,
  author text NOT NULL,
  PRIMARY KEY (incident_id, seq)
);
CREATE INDEX status_messages_at ON status_messages (at DESC);

CREATE TABLE pages (
  incident_id text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  seq bigint NOT NULL,
  at timestamptz NOT NULL,
  level integer NOT NULL,
  cycle integer NOT NULL,
  reason text NOT NULL,
  recipient_id text NOT NULL,
  recipient jsonb NOT NULL,
  PRIMARY KEY (incident_id, seq)
);
CREATE INDEX pages_recipient ON pages (recipient_id, at);

-- Every attempt to deliver a page or notice (sent, failed, skipped as already sent).
CREATE TABLE delivery_attempts (
  incident_id text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  seq bigint NOT NULL,
  at timestamptz NOT NULL,
  channel text NOT NULL,
  recipient_id text,
  outcome text NOT NULL,
  detail text NOT NULL,
  PRIMARY KEY (incident_id, seq)
);

-- Shared by every worker: a message with this key went out (replaces DATA_DIR/sent).
CREATE TABLE sent_ledger (
  idempotency_key text PRIMARY KEY,
  channel text NOT NULL,
  message_id text,
  sent_at timestamptz NOT NULL DEFAULT now(),
  worker text
);

-- Every report that joined an incident (customers, checks, alerts, staff): the incident's timeline
-- lists the first few per source and counts the rest; this keeps each one, once (its event key).
CREATE TABLE reports (
  incident_id text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  seq bigint NOT NULL,
  at timestamptz NOT NULL,
  source text NOT NULL,
  actor text NOT NULL,
  reason text NOT NULL,
  contact text,
  from_service text,
  PRIMARY KEY (incident_id, seq)
);

CREATE TABLE postmortems (
  incident_id text PRIMARY KEY,
  workflow_id text NOT NULL,
  service text NOT NULL,
  severity text NOT NULL,
  state text NOT NULL,
  owner_id text NOT NULL,
  due_date date NOT NULL,
  overdue_at timestamptz NOT NULL,
  completed_at timestamptz,
  url text,
  markdown text NOT NULL,
  view jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE follow_ups (
  incident_id text NOT NULL REFERENCES postmortems (incident_id) ON DELETE CASCADE,
  id text NOT NULL,
  title text NOT NULL,
  owner_id text,
  due_date date NOT NULL,
  recorded_by text NOT NULL,
  recorded_at timestamptz NOT NULL,
  reminded_at timestamptz,
  PRIMARY KEY (incident_id, id)
);

-- Changes (deploys, firewall rules) reported to the change log.
CREATE TABLE changes (
  id text PRIMARY KEY,
  at timestamptz NOT NULL,
  event jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX changes_at ON changes (at);

-- Down Migration
DROP TABLE changes;
DROP TABLE follow_ups;
DROP TABLE postmortems;
DROP TABLE reports;
DROP TABLE sent_ledger;
DROP TABLE delivery_attempts;
DROP TABLE pages;
DROP TABLE status_messages;
DROP TABLE timeline_events;
DROP TABLE incidents;
