-- 0111_summary_columns (SQLite). Keep in step with ../postgres/0111_summary_columns.sql.
-- Nothing to do: SQLite's hour, outcome, flow_seconds and flow_bucket are
-- written with the summary already (0095). PostgreSQL's stop being
-- generated columns and its rollup trigger fires for fewer statements.
SELECT 1;
