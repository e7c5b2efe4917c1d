-- Up Migration
-- On-call overrides: someone else takes (part of) a schedule's shifts from `from_at` until `until_at`.
-- Made through the API and the console; read by the worker when a level pages. Deleting one restores
-- the rotation, so a row is deleted, not marked.

CREATE TABLE schedule_overrides (
  id text PRIMARY KEY,
  schedule_id text NOT NULL,
  from_at timestamptz NOT NULL,
  until_at timestamptz NOT NULL CHECK (until_at > from_at),
  -- Who takes over, and (optional) whose shifts only; contact ids from the config.
  by_contact text NOT NULL,
  replaces text,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schedule_overrides_schedule ON schedule_overrides (schedule_id, until_at);

-- Down Migration
DROP TABLE schedule_overrides;
