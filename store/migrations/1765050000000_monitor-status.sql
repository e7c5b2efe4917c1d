-- Up Migration
-- Each monitor's live probe state, one row per check: written by the probe loop after every probe
-- (and when one starts), read by GET /api/monitors and the console's monitors page. Temporal's
-- activity heartbeats are throttled and stale by design; this row is the probe's own word.

CREATE TABLE monitor_status (
  check_id text PRIMARY KEY,
  -- The last probe's result and when it finished.
  last_ok boolean,
  last_code text,
  last_detail text,
  last_latency_ms integer,
  last_at timestamptz,
  -- When the next probe starts (null while one runs), and when the running one started.
  next_probe_at timestamptz,
  probing_since timestamptz,
  -- Results in a row that disagree with the monitor's health (domain/thresholds.ts), and the health.
  streak integer NOT NULL DEFAULT 0,
  health text NOT NULL,
  probes bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE monitor_status;
