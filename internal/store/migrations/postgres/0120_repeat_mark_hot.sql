-- 0120_repeat_mark_hot (PostgreSQL). Keep in step with ../sqlite/0120_repeat_mark_hot.sql,
-- which explains it.
DROP INDEX calls_insight;
CREATE INDEX calls_insight ON calls (hour, outcome, provider, to_number, revision, flow_seconds) WHERE summarised = 1;
-- Room on each new page of calls for a new version of some of its rows: a
-- repeat mark (an update of no indexed column) then stays on its page, a
-- heap-only tuple, instead of a new row version with an entry in each of
-- the calls' indexes. Pages written before keep no room (a mark there is
-- as before).
ALTER TABLE calls SET (fillfactor = 85);
