-- 0060_insights_insert (SQLite only): a new call's summary columns without
-- writing its row twice. 0021's insert trigger updated every new call right
-- after its INSERT (hour, outcome, flow_seconds, flow_bucket), which moved
-- the row in three indexes and fired the rollup trigger: about 40 % of what
-- storing a call cost. The event batch's upsert now computes those columns in
-- its own statement (events_batch.go, sqliteUpsertCalls), so:
--   * a call inserted with its hour set (hour > 0) is trusted to carry all
--     four and is only added to its insight_call_days row;
--   * a call inserted without (hour = 0: a status callback's upsert) is
--     fixed up as before, and calls_rollup_update counts it then.
-- A writer that sets hour must set outcome, flow_seconds and flow_bucket too.

DROP TRIGGER calls_insight_insert;

CREATE TRIGGER calls_insight_insert AFTER INSERT ON calls WHEN NEW.hour = 0 BEGIN
    UPDATE calls SET
        hour = NEW.started_at / 3600000000,
        outcome = CASE WHEN NEW.fallback = 1 THEN 4 WHEN NEW.transferred = 1 THEN 2 WHEN NEW.ended_in_flow = 1 THEN 1 WHEN NEW.final = 1 THEN 3 ELSE 0 END,
        flow_seconds = (NEW.last_event_at - NEW.started_at) / 1000000,
        flow_bucket = CASE WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) IS NULL THEN -1 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 5 THEN 0 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 10 THEN 1 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 20 THEN 2 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 30 THEN 3
            WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 45 THEN 4 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 60 THEN 5 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 90 THEN 6 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 120 THEN 7 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 180 THEN 8
            WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 300 THEN 9 WHEN ((NEW.last_event_at - NEW.started_at) / 1000000) < 600 THEN 10 ELSE 11 END
    WHERE id = NEW.id;
END;

CREATE TRIGGER calls_rollup_insert AFTER INSERT ON calls WHEN NEW.hour > 0 BEGIN
    INSERT INTO insight_call_days (day, provider, to_number, revision, outcome, menu, repeated, n, flow_sum, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11)
    VALUES (NEW.hour / 24, NEW.provider, NEW.to_number, NEW.revision, NEW.outcome, CASE WHEN NEW.outcome = 3 THEN NEW.last_menu ELSE '' END, NEW.repeated, 1, coalesce(NEW.flow_seconds, 0), (NEW.flow_bucket = 0), (NEW.flow_bucket = 1), (NEW.flow_bucket = 2), (NEW.flow_bucket = 3), (NEW.flow_bucket = 4), (NEW.flow_bucket = 5), (NEW.flow_bucket = 6), (NEW.flow_bucket = 7), (NEW.flow_bucket = 8), (NEW.flow_bucket = 9), (NEW.flow_bucket = 10), (NEW.flow_bucket = 11))
    ON CONFLICT (day, provider, to_number, revision, outcome, menu, repeated) DO UPDATE SET n = n + excluded.n, flow_sum = flow_sum + excluded.flow_sum, b0 = b0 + excluded.b0, b1 = b1 + excluded.b1, b2 = b2 + excluded.b2, b3 = b3 + excluded.b3, b4 = b4 + excluded.b4, b5 = b5 + excluded.b5, b6 = b6 + excluded.b6, b7 = b7 + excluded.b7, b8 = b8 + excluded.b8, b9 = b9 + excluded.b9, b10 = b10 + excluded.b10, b11 = b11 + excluded.b11;
END;
