-- Up Migration
-- Status page subscribers who signed up themselves (the config's services[].subscribers are not
-- stored): by email with double opt-in (`confirmed_at` is set when the signed link in the
-- confirmation mail is used) or by webhook. An unsubscribe sets `unsubscribed_at` (also for a config
-- subscriber: a row with its address then keeps it from being mailed).

CREATE TABLE subscriptions (
  id text PRIMARY KEY,
  -- The service id of the component.
  component text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('email', 'webhook')),
  -- An email address (lower case) or an https URL.
  address text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- A confirmation mail is due while requested_at is later than sent_at (or sent_at is null).
  confirmation_requested_at timestamptz,
  confirmation_sent_at timestamptz,
  confirmed_at timestamptz,
  unsubscribed_at timestamptz,
  UNIQUE (component, kind, address)
);
CREATE INDEX subscriptions_active ON subscriptions (component) WHERE confirmed_at IS NOT NULL AND unsubscribed_at IS NULL;

-- Which status messages and resolutions subscribers have been told about (each recipient's mail is
-- also in the sent ledger, so a retried notice mails nobody twice). `notice` is `status:<seq>` or
-- `resolved`.
CREATE TABLE subscriber_notices (
  incident_id text NOT NULL,
  notice text NOT NULL,
  done_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_id, notice)
);

-- What was published before this table existed is not sent now.
INSERT INTO subscriber_notices (incident_id, notice)
  SELECT incident_id, 'status:' || seq FROM status_messages ON CONFLICT DO NOTHING;
INSERT INTO subscriber_notices (incident_id, notice)
  SELECT id, 'resolved' FROM incidents WHERE closed_at IS NOT NULL ON CONFLICT DO NOTHING;

-- Down Migration
DROP TABLE subscriber_notices;
DROP TABLE subscriptions;
