-- 0095_summary_once (SQLite). Keep in step with ../postgres/0095_summary_once.sql.
-- A call's summary (revision aside) is computed once, when the call ends:
-- its final status, closing it as stale, or an event of the flow that ends
-- it (summary.go); not on every request. Until then a new call is inserted
-- without it: hour = 0 ("not summarised yet", outside the rollup and
-- calls_insight), and the call row is touched again only when something a
-- reader needs changes (events_batch.go). Insights count the calls not
-- summarised yet as in progress, from the calls (calls_open).
--
-- The triggers that recomputed hour, outcome, flow_seconds and flow_bucket
-- on every insert and update go: the summary sets them. calls_rollup_update
-- (moving a call between rollup rows when it changes) and calls_rollup_delete
-- stay. Indexes no query uses any more go: calls_abandoned and calls_flow
-- (the rollup serves those figures), calls_from (a prefix of
-- calls_from_started); calls_insight keeps the summarised calls only.

DROP TRIGGER calls_insight_insert;
DROP TRIGGER calls_insight_update;
DROP TRIGGER calls_rollup_insert;
DROP INDEX calls_abandoned;
DROP INDEX calls_flow;
DROP INDEX calls_from;
DROP INDEX calls_insight;
CREATE INDEX calls_insight ON calls (hour, outcome, provider, to_number, revision, repeated, flow_seconds) WHERE hour > 0;
