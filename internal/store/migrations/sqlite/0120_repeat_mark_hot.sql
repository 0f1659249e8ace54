-- 0120_repeat_mark_hot (SQLite). Keep in step with ../postgres/0120_repeat_mark_hot.sql.
-- Marking a call a repeat (its caller called again within 24 hours; the
-- event batch of the later call does it) changes only calls.repeated.
-- calls_insight, the covering index of Insights' hourly series, held
-- repeated though no query reads it there (the series counts calls per
-- hour and outcome; repeat callers come from the rollup and, for the calls
-- not summarised yet, from the calls themselves), so every mark of a
-- summarised call moved its entry. Without it, a mark leaves every index
-- alone: on PostgreSQL it can then be a heap-only (HOT) update, which the
-- table's fillfactor leaves room for.
DROP INDEX calls_insight;
CREATE INDEX calls_insight ON calls (hour, outcome, provider, to_number, revision, flow_seconds) WHERE hour > 0;
