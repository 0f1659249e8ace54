-- 0111_summary_columns (PostgreSQL). Keep in step with ../sqlite/0111_summary_columns.sql.
-- hour, outcome, flow_seconds and flow_bucket stop being generated
-- columns: ivr writes them with the call's summary (summary.go), as on
-- SQLite. PostgreSQL rebuilt the four expressions from their stored text
-- for every statement that wrote a calls row (and they only change with the
-- summary, or with the final status that recomputes it). The values stored
-- stay; a call not summarised yet gets hour 0, outcome 0 and flow_bucket -1
-- (Insights reads its hour from started_at: insights_open.go).
ALTER TABLE calls
    ALTER COLUMN hour DROP EXPRESSION,
    ALTER COLUMN outcome DROP EXPRESSION,
    ALTER COLUMN flow_seconds DROP EXPRESSION,
    ALTER COLUMN flow_bucket DROP EXPRESSION;
ALTER TABLE calls
    ALTER COLUMN hour SET DEFAULT 0,
    ALTER COLUMN outcome SET DEFAULT 0,
    ALTER COLUMN flow_bucket SET DEFAULT -1;

-- The rollup trigger fires for the statements that set a column the rollup
-- keys on, of a summarised call, instead of testing a long WHEN clause
-- (also rebuilt from text for every statement) on every update; the
-- function skips a row whose rollup key did not change.
CREATE OR REPLACE FUNCTION insight_call_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.summarised, OLD.hour, OLD.outcome, OLD.repeated, OLD.flow_bucket, OLD.flow_seconds, OLD.last_menu, OLD.provider, OLD.to_number, OLD.revision)
        IS NOT DISTINCT FROM (NEW.summarised, NEW.hour, NEW.outcome, NEW.repeated, NEW.flow_bucket, NEW.flow_seconds, NEW.last_menu, NEW.provider, NEW.to_number, NEW.revision) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.summarised = 1 THEN
        INSERT INTO insight_call_deltas (day, provider, to_number, revision, outcome, menu, repeated, n, flow_sum, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11)
        VALUES (OLD.hour / 24, OLD.provider, OLD.to_number, OLD.revision, OLD.outcome, CASE WHEN OLD.outcome = 3 THEN OLD.last_menu ELSE '' END, OLD.repeated, -1, -coalesce(OLD.flow_seconds, 0), -(OLD.flow_bucket = 0)::int, -(OLD.flow_bucket = 1)::int, -(OLD.flow_bucket = 2)::int, -(OLD.flow_bucket = 3)::int, -(OLD.flow_bucket = 4)::int, -(OLD.flow_bucket = 5)::int, -(OLD.flow_bucket = 6)::int, -(OLD.flow_bucket = 7)::int, -(OLD.flow_bucket = 8)::int, -(OLD.flow_bucket = 9)::int, -(OLD.flow_bucket = 10)::int, -(OLD.flow_bucket = 11)::int);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.summarised = 1 THEN
        INSERT INTO insight_call_deltas (day, provider, to_number, revision, outcome, menu, repeated, n, flow_sum, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11)
        VALUES (NEW.hour / 24, NEW.provider, NEW.to_number, NEW.revision, NEW.outcome, CASE WHEN NEW.outcome = 3 THEN NEW.last_menu ELSE '' END, NEW.repeated, 1, coalesce(NEW.flow_seconds, 0), (NEW.flow_bucket = 0)::int, (NEW.flow_bucket = 1)::int, (NEW.flow_bucket = 2)::int, (NEW.flow_bucket = 3)::int, (NEW.flow_bucket = 4)::int, (NEW.flow_bucket = 5)::int, (NEW.flow_bucket = 6)::int, (NEW.flow_bucket = 7)::int, (NEW.flow_bucket = 8)::int, (NEW.flow_bucket = 9)::int, (NEW.flow_bucket = 10)::int, (NEW.flow_bucket = 11)::int);
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER calls_rollup_update ON calls;
CREATE TRIGGER calls_rollup_update
    AFTER UPDATE OF summarised, hour, outcome, repeated, flow_bucket, flow_seconds, last_menu, provider, to_number, revision ON calls
    FOR EACH ROW WHEN (OLD.summarised = 1 OR NEW.summarised = 1)
    EXECUTE FUNCTION insight_call_delta();
