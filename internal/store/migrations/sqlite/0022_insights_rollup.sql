-- 0022_insights_rollup (SQLite). Nothing to do: SQLite's per-day call rollup
-- came with 0021 (a single writer updates it in place). PostgreSQL's, kept
-- as deltas, is in ../postgres/0022_insights_rollup.sql.
SELECT 1;
