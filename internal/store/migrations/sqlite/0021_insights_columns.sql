-- 0021_insights_columns (SQLite only; PostgreSQL keeps 0020's STORED columns).
-- SQLite cannot read VIRTUAL generated columns from an index alone, so every
-- dashboard query visited each call's row. hour, outcome and flow_seconds
-- become plain columns kept up to date by triggers, whoever writes the call
-- (event batches, status callbacks, closing stale calls), and the indexes
-- cover the dashboard's queries again. flow_bucket is the time-in-flow
-- histogram bucket the p90 is read from (-1: no events; bounds in
-- insights_read.go, flowBuckets).

DROP INDEX calls_insight;
DROP INDEX calls_abandoned;
ALTER TABLE calls DROP COLUMN hour;
ALTER TABLE calls DROP COLUMN outcome;
ALTER TABLE calls DROP COLUMN flow_seconds;
ALTER TABLE calls ADD COLUMN hour INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN outcome INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN flow_seconds INTEGER;
ALTER TABLE calls ADD COLUMN flow_bucket INTEGER NOT NULL DEFAULT -1;

UPDATE calls SET
    hour = started_at / 3600000000,
    outcome = CASE WHEN fallback = 1 THEN 4 WHEN transferred = 1 THEN 2 WHEN ended_in_flow = 1 THEN 1 WHEN final = 1 THEN 3 ELSE 0 END,
    flow_seconds = (last_event_at - started_at) / 1000000,
    flow_bucket = CASE WHEN ((last_event_at - started_at) / 1000000) IS NULL THEN -1 WHEN ((last_event_at - started_at) / 1000000) < 5 THEN 0 WHEN ((last_event_at - started_at) / 1000000) < 10 THEN 1 WHEN ((last_event_at - started_at) / 1000000) < 20 THEN 2 WHEN ((last_event_at - started_at) / 1000000) < 30 THEN 3
            WHEN ((last_event_at - started_at) / 1000000) < 45 THEN 4 WHEN ((last_event_at - started_at) / 1000000) < 60 THEN 5 WHEN ((last_event_at - started_at) / 1000000) < 90 THEN 6 WHEN ((last_event_at - started_at) / 1000000) < 120 THEN 7 WHEN ((last_event_at - started_at) / 1000000) < 180 THEN 8
            WHEN ((last_event_at - started_at) / 1000000) < 300 THEN 9 WHEN ((last_event_at - started_at) / 1000000) < 600 THEN 10 ELSE 11 END;

CREATE TRIGGER calls_insight_insert AFTER INSERT ON calls BEGIN
    UPDATE calls SET
        hour = NEW.started_at / 3600000000,
        outcome = CASE WHEN NEW.fallback = 1 THEN 4 WHEN NEW.transferred = 1 THEN 2 WHEN NEW.ended_in_flow = 1 THEN 1 WHEN NEW.final = 1 THEN 3 ELSE 0 END,
        flow_seconds = (NEW.last_event_at - NEW.started_at) / 1000000,
        flow_bucket = CASE WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) IS NULL THEN -1 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 5 THEN 0 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 10 THEN 1 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 20 THEN 2 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 30 THEN 3
            WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 45 THEN 4 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 60 THEN 5 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 90 THEN 6 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 120 THEN 7 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 180 THEN 8
            WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 300 THEN 9 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 600 THEN 10 ELSE 11 END
    WHERE id = NEW.id;
END;

CREATE TRIGGER calls_insight_update AFTER UPDATE OF started_at, final, fallback, transferred, ended_in_flow, last_event_at ON calls BEGIN
    UPDATE calls SET
        hour = NEW.started_at / 3600000000,
        outcome = CASE WHEN NEW.fallback = 1 THEN 4 WHEN NEW.transferred = 1 THEN 2 WHEN NEW.ended_in_flow = 1 THEN 1 WHEN NEW.final = 1 THEN 3 ELSE 0 END,
        flow_seconds = (NEW.last_event_at - NEW.started_at) / 1000000,
        flow_bucket = CASE WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) IS NULL THEN -1 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 5 THEN 0 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 10 THEN 1 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 20 THEN 2 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 30 THEN 3
            WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 45 THEN 4 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 60 THEN 5 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 90 THEN 6 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 120 THEN 7 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 180 THEN 8
            WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 300 THEN 9 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 600 THEN 10 ELSE 11 END
    WHERE id = NEW.id;
END;

CREATE INDEX calls_insight ON calls (hour, outcome, provider, to_number, revision, repeated, flow_seconds);
CREATE INDEX calls_abandoned ON calls (outcome, hour, last_menu, provider, to_number, revision);
CREATE INDEX calls_flow ON calls (flow_bucket, hour, provider, to_number, revision);

-- Per day, number, provider, revision, outcome (with the menu of abandoned
-- calls) and repeated: how many calls, their total time in the flow and
-- their time-in-flow histogram (b0..b11 = flow_bucket 0..11). Kept by the
-- triggers below as calls change, so a long period reads a few rows per
-- day instead of every call (SQLite's per-row aggregate cost made a 90-day
-- dashboard on a million calls too slow).
CREATE TABLE insight_call_days (
    day       INTEGER NOT NULL,
    provider  TEXT    NOT NULL,
    to_number TEXT    NOT NULL,
    revision  TEXT    NOT NULL,
    outcome   INTEGER NOT NULL,
    menu      TEXT    NOT NULL,
    repeated  INTEGER NOT NULL,
    n         INTEGER NOT NULL DEFAULT 0,
    flow_sum  INTEGER NOT NULL DEFAULT 0,
    b0 INTEGER NOT NULL DEFAULT 0,
    b1 INTEGER NOT NULL DEFAULT 0,
    b2 INTEGER NOT NULL DEFAULT 0,
    b3 INTEGER NOT NULL DEFAULT 0,
    b4 INTEGER NOT NULL DEFAULT 0,
    b5 INTEGER NOT NULL DEFAULT 0,
    b6 INTEGER NOT NULL DEFAULT 0,
    b7 INTEGER NOT NULL DEFAULT 0,
    b8 INTEGER NOT NULL DEFAULT 0,
    b9 INTEGER NOT NULL DEFAULT 0,
    b10 INTEGER NOT NULL DEFAULT 0,
    b11 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, provider, to_number, revision, outcome, menu, repeated)
);

INSERT INTO insight_call_days (day, provider, to_number, revision, outcome, menu, repeated, n, flow_sum, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11)
SELECT hour / 24, provider, to_number, revision, outcome, CASE WHEN outcome = 3 THEN last_menu ELSE '' END, repeated,
    count(*), coalesce(sum(flow_seconds), 0), sum(flow_bucket = 0), sum(flow_bucket = 1), sum(flow_bucket = 2), sum(flow_bucket = 3), sum(flow_bucket = 4), sum(flow_bucket = 5), sum(flow_bucket = 6), sum(flow_bucket = 7), sum(flow_bucket = 8), sum(flow_bucket = 9), sum(flow_bucket = 10), sum(flow_bucket = 11)
FROM calls WHERE hour > 0
GROUP BY hour / 24, provider, to_number, revision, outcome, CASE WHEN outcome = 3 THEN last_menu ELSE '' END, repeated;

-- A call is counted once its hour is set (calls_insight_insert sets it
-- right after the INSERT); every change moves it from its old row to its new.
CREATE TRIGGER calls_rollup_update AFTER UPDATE OF hour, outcome, repeated, flow_bucket, flow_seconds, last_menu, provider, to_number, revision ON calls
WHEN OLD.hour IS NOT NEW.hour OR OLD.outcome IS NOT NEW.outcome OR OLD.repeated IS NOT NEW.repeated OR OLD.flow_bucket IS NOT NEW.flow_bucket OR OLD.flow_seconds IS NOT NEW.flow_seconds OR OLD.last_menu IS NOT NEW.last_menu OR OLD.provider IS NOT NEW.provider OR OLD.to_number IS NOT NEW.to_number OR OLD.revision IS NOT NEW.revision
BEGIN
    INSERT INTO insight_call_days (day, provider, to_number, revision, outcome, menu, repeated, n, flow_sum, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11)
    SELECT OLD.hour / 24, OLD.provider, OLD.to_number, OLD.revision, OLD.outcome, CASE WHEN OLD.outcome = 3 THEN OLD.last_menu ELSE '' END, OLD.repeated, -1, -coalesce(OLD.flow_seconds, 0), -(OLD.flow_bucket = 0), -(OLD.flow_bucket = 1), -(OLD.flow_bucket = 2), -(OLD.flow_bucket = 3), -(OLD.flow_bucket = 4), -(OLD.flow_bucket = 5), -(OLD.flow_bucket = 6), -(OLD.flow_bucket = 7), -(OLD.flow_bucket = 8), -(OLD.flow_bucket = 9), -(OLD.flow_bucket = 10), -(OLD.flow_bucket = 11)
    WHERE OLD.hour > 0
    ON CONFLICT (day, provider, to_number, revision, outcome, menu, repeated) DO UPDATE SET n = n + excluded.n, flow_sum = flow_sum + excluded.flow_sum, b0 = b0 + excluded.b0, b1 = b1 + excluded.b1, b2 = b2 + excluded.b2, b3 = b3 + excluded.b3, b4 = b4 + excluded.b4, b5 = b5 + excluded.b5, b6 = b6 + excluded.b6, b7 = b7 + excluded.b7, b8 = b8 + excluded.b8, b9 = b9 + excluded.b9, b10 = b10 + excluded.b10, b11 = b11 + excluded.b11;
    INSERT INTO insight_call_days (day, provider, to_number, revision, outcome, menu, repeated, n, flow_sum, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11)
    SELECT NEW.hour / 24, NEW.provider, NEW.to_number, NEW.revision, NEW.outcome, CASE WHEN NEW.outcome = 3 THEN NEW.last_menu ELSE '' END, NEW.repeated, 1, coalesce(NEW.flow_seconds, 0), (NEW.flow_bucket = 0), (NEW.flow_bucket = 1), (NEW.flow_bucket = 2), (NEW.flow_bucket = 3), (NEW.flow_bucket = 4), (NEW.flow_bucket = 5), (NEW.flow_bucket = 6), (NEW.flow_bucket = 7), (NEW.flow_bucket = 8), (NEW.flow_bucket = 9), (NEW.flow_bucket = 10), (NEW.flow_bucket = 11)
    WHERE NEW.hour > 0
    ON CONFLICT (day, provider, to_number, revision, outcome, menu, repeated) DO UPDATE SET n = n + excluded.n, flow_sum = flow_sum + excluded.flow_sum, b0 = b0 + excluded.b0, b1 = b1 + excluded.b1, b2 = b2 + excluded.b2, b3 = b3 + excluded.b3, b4 = b4 + excluded.b4, b5 = b5 + excluded.b5, b6 = b6 + excluded.b6, b7 = b7 + excluded.b7, b8 = b8 + excluded.b8, b9 = b9 + excluded.b9, b10 = b10 + excluded.b10, b11 = b11 + excluded.b11;
END;

CREATE TRIGGER calls_rollup_delete AFTER DELETE ON calls WHEN OLD.hour > 0
BEGIN
    INSERT INTO insight_call_days (day, provider, to_number, revision, outcome, menu, repeated, n, flow_sum, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11)
    SELECT OLD.hour / 24, OLD.provider, OLD.to_number, OLD.revision, OLD.outcome, CASE WHEN OLD.outcome = 3 THEN OLD.last_menu ELSE '' END, OLD.repeated, -1, -coalesce(OLD.flow_seconds, 0), -(OLD.flow_bucket = 0), -(OLD.flow_bucket = 1), -(OLD.flow_bucket = 2), -(OLD.flow_bucket = 3), -(OLD.flow_bucket = 4), -(OLD.flow_bucket = 5), -(OLD.flow_bucket = 6), -(OLD.flow_bucket = 7), -(OLD.flow_bucket = 8), -(OLD.flow_bucket = 9), -(OLD.flow_bucket = 10), -(OLD.flow_bucket = 11)
    WHERE OLD.hour > 0
    ON CONFLICT (day, provider, to_number, revision, outcome, menu, repeated) DO UPDATE SET n = n + excluded.n, flow_sum = flow_sum + excluded.flow_sum, b0 = b0 + excluded.b0, b1 = b1 + excluded.b1, b2 = b2 + excluded.b2, b3 = b3 + excluded.b3, b4 = b4 + excluded.b4, b5 = b5 + excluded.b5, b6 = b6 + excluded.b6, b7 = b7 + excluded.b7, b8 = b8 + excluded.b8, b9 = b9 + excluded.b9, b10 = b10 + excluded.b10, b11 = b11 + excluded.b11;
END;
