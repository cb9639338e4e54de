-- Quartz.NET is gone (jobs run on Hangfire, migration 0070): its job store tables (migration 0020) go with it.
-- Children first; CASCADE covers the foreign keys between them either way.
DROP TABLE IF EXISTS qrtz_fired_triggers, qrtz_paused_trigger_grps, qrtz_scheduler_state, qrtz_locks,
  qrtz_simple_triggers, qrtz_cron_triggers, qrtz_simprop_triggers, qrtz_blob_triggers, qrtz_triggers,
  qrtz_job_details, qrtz_calendars, qrtz_execution_history, qrtz_misfire_history, qrtz_job_status,
  qrtz_paused_job_grps CASCADE;
