-- 0095_summary_once (PostgreSQL). Keep in step with ../sqlite/0095_summary_once.sql,
-- which explains it. PostgreSQL's hour is a generated column, so
-- "summarised" says whether the call is in the rollup and calls_insight;
-- the rollup trigger appends deltas for summarised calls only.

ALTER TABLE calls ADD COLUMN summarised INTEGER NOT NULL DEFAULT 0;
UPDATE calls SET summarised = 1;

CREATE OR REPLACE FUNCTION insight_call_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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

-- A new call is not summarised: its insert adds nothing to the rollup.
DROP TRIGGER calls_rollup_insert ON calls;
DROP TRIGGER calls_rollup_update ON calls;
CREATE TRIGGER calls_rollup_update AFTER UPDATE ON calls FOR EACH ROW
    WHEN (OLD.summarised IS DISTINCT FROM NEW.summarised OR OLD.hour IS DISTINCT FROM NEW.hour OR OLD.outcome IS DISTINCT FROM NEW.outcome OR OLD.repeated IS DISTINCT FROM NEW.repeated OR OLD.flow_bucket IS DISTINCT FROM NEW.flow_bucket OR OLD.flow_seconds IS DISTINCT FROM NEW.flow_seconds OR OLD.last_menu IS DISTINCT FROM NEW.last_menu OR OLD.provider IS DISTINCT FROM NEW.provider OR OLD.to_number IS DISTINCT FROM NEW.to_number OR OLD.revision IS DISTINCT FROM NEW.revision)
    EXECUTE FUNCTION insight_call_delta();

DROP INDEX calls_abandoned;
DROP INDEX calls_flow;
DROP INDEX calls_from;
DROP INDEX calls_insight;
CREATE INDEX calls_insight ON calls (hour, outcome, provider, to_number, revision, repeated, flow_seconds) WHERE summarised = 1;
