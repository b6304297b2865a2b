-- Scheduled runs remember the schedule slot (UTC) they were started for: several ikz-hub replicas with the same
-- schedule run each slot once. Skipped triggers are recorded as runs with status 'skipped'.
ALTER TABLE import_run ADD COLUMN scheduled_for TIMESTAMP;
CREATE INDEX import_run_slot ON import_run (connector, scheduled_for);
