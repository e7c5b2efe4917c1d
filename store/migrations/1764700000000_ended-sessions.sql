-- Up Migration
-- Console sessions ended by a logout before their expiry. Every API instance checks a session's id
-- here; a row is kept only until the session would have expired anyway.

CREATE TABLE ended_sessions (
  id text PRIMARY KEY,
  expires_at timestamptz NOT NULL,
  ended_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ended_sessions_expires_at ON ended_sessions (expires_at);

-- Down Migration
DROP TABLE ended_sessions;
