-- 0110_summary_later (PostgreSQL). Keep in step with ../sqlite/0110_summary_later.sql,
-- which explains it.
DROP INDEX calls_open;
CREATE INDEX calls_open ON calls (started_at) WHERE final = 0 OR summarised = 0;
