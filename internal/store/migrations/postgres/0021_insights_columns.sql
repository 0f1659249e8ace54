-- 0021_insights_columns (PostgreSQL). Keep in step with ../sqlite/0021_insights_columns.sql.
-- SQLite's 0021 turns its VIRTUAL generated columns into trigger-kept ones
-- so that its indexes cover the dashboard's queries; PostgreSQL's STORED
-- generated columns (0020) already do. Both add flow_bucket, the
-- time-in-flow histogram bucket the p90 is read from (-1: no events).

ALTER TABLE calls ADD COLUMN flow_bucket INTEGER GENERATED ALWAYS AS (
    CASE WHEN floor(extract(epoch FROM (last_event_at - started_at))) IS NULL THEN -1 WHEN floor(extract(epoch FROM (last_event_at - started_at))) < 5 THEN 0 WHEN floor(extract(epoch FROM (last_event_at - started_at))) < 10 THEN 1 WHEN floor(extract(epoch FROM (last_event_at - started_at))) < 20 THEN 2 WHEN floor(extract(epoch FROM (last_event_at - started_at))) < 30 THEN 3
            WHEN floor(extract(epoch FROM (last_event_at - started_at))) < 45 THEN 4 WHEN floor(extract(epoch FROM (last_event_at - started_at))) < 60 THEN 5 WHEN floor(extract(epoch FROM (last_event_at - started_at))) < 90 THEN 6 WHEN floor(extract(epoch FROM (last_event_at - started_at))) < 120 THEN 7 WHEN floor(extract(epoch FROM (last_event_at - started_at))) < 180 THEN 8
            WHEN floor(extract(epoch FROM (last_event_at - started_at))) < 300 THEN 9 WHEN floor(extract(epoch FROM (last_event_at - started_at))) < 600 THEN 10 ELSE 11 END) STORED;
CREATE INDEX calls_flow ON calls (flow_bucket, hour, provider, to_number, revision);
