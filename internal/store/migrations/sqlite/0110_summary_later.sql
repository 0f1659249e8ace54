-- 0110_summary_later (SQLite). Keep in step with ../postgres/0110_summary_later.sql.
-- A final status whose call still has events in the writer's queue leaves
-- the call's summary to the batch that writes them (writer_status.go), so
-- a final call may be not summarised yet (hour = 0) for a moment, or, when
-- the process died before that batch, until CloseStaleCalls summarises it.
-- calls_open now holds those calls too: Insights counts every call not
-- summarised yet as in progress, and CloseStaleCalls finds the final ones
-- left unsummarised.
DROP INDEX calls_open;
CREATE INDEX calls_open ON calls (started_at) WHERE final = 0 OR hour = 0;
