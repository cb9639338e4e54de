-- One row per run of a background job (scheduled, manual from the admin page, or from the command line).
-- The unique (job_name, scheduled_at) is the idempotency guard: when two nodes fire the same scheduled time,
-- the second insert finds the row and that node skips the run.
CREATE TABLE IF NOT EXISTS job_runs (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_name      text NOT NULL CHECK (job_name ~ '^[a-z][a-z0-9_-]{1,40}$'),
  -- The fire time Quartz scheduled (a manual run: the instant it was asked for).
  scheduled_at  timestamptz NOT NULL,
  -- 'schedule', 'manual' (admin page) or 'cli'.
  trigger_kind  text NOT NULL CHECK (trigger_kind IN ('schedule', 'manual', 'cli')),
  -- Who asked for a manual run (the admin's name or email), null for the schedule.
  requested_by  text CHECK (length(requested_by) <= 320),
  node          text NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  duration_ms   int CHECK (duration_ms >= 0),
  outcome       text NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'succeeded', 'failed', 'cancelled')),
  -- What the run did, e.g. {"expired": 3, "renewal_emails": 1} or {"sent": 120, "retried": 2, "failed": 0}.
  counts        jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(counts) = 'object'),
  error         text,
  UNIQUE (job_name, scheduled_at),
  CHECK ((outcome = 'running') = (finished_at IS NULL))
);
-- The admin page: last runs of each job, newest first.
CREATE INDEX IF NOT EXISTS job_runs_job_started ON job_runs (job_name, started_at DESC);
