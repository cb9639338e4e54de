-- job_runs under Hangfire (migration 0070).
-- scheduled_at is now the cron occurrence the run belongs to (computed from the schedule, not Hangfire's poll instant),
-- or the instant a manual, command-line or mail-queued run was asked for.
-- hangfire_job_id: the Hangfire background job that claimed the row. Hangfire is at-least-once: the same job fetched
-- again (its node was killed, stopped, or it failed and is retried) takes its own row over; another job for the same
-- occurrence finds the row taken and skips.
ALTER TABLE job_runs ADD COLUMN IF NOT EXISTS hangfire_job_id text CHECK (length(hangfire_job_id) <= 100);

-- 'event': delivery asked for because a transaction queued mail (trigger below), not by its schedule.
ALTER TABLE job_runs DROP CONSTRAINT IF EXISTS job_runs_trigger_kind_check;
ALTER TABLE job_runs ADD CONSTRAINT job_runs_trigger_kind_check CHECK (trigger_kind IN ('schedule', 'manual', 'cli', 'event'));

-- Mail queued: every outbox insert tells the job nodes, at commit (PostgreSQL delivers notifications only then, and once
-- per transaction for the same channel and payload), so delivery starts within moments whoever queued it — account,
-- alert, moderation, digest batch — without each caller asking. A rolled-back insert notifies nobody.
CREATE OR REPLACE FUNCTION outbox_queued_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox_queued', '');
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS outbox_queued ON outbox;
CREATE TRIGGER outbox_queued AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_queued_notify();
