-- Up Migration
-- Delivery tracking (notification rules): each attempt names the person's method it went by, the
-- level that paged, and which try it was; outcomes are queued, accepted, delivered or failed (and,
-- for pages without rules, sent or duplicate).

ALTER TABLE delivery_attempts
  ADD COLUMN method text,
  ADD COLUMN level integer,
  ADD COLUMN attempt integer;

-- Down Migration
ALTER TABLE delivery_attempts
  DROP COLUMN attempt,
  DROP COLUMN level,
  DROP COLUMN method;
