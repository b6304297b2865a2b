DROP INDEX import_run_slot;
ALTER TABLE import_run DROP COLUMN scheduled_for;
