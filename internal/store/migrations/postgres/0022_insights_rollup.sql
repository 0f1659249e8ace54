-- 0022_insights_rollup (PostgreSQL). Keep in step with ../sqlite/0022_insights_rollup.sql.
-- The per-day call rollup SQLite keeps by triggers (0021), for PostgreSQL:
-- a trigger appends each call's change as a delta row (-1 on its old row,
-- +1 on its new one) instead of updating the rollup in place, so instances
-- writing at once never wait on each other's rollup rows (today's rows of a
-- number would be hot) and cannot deadlock on them. Deltas are folded into
-- insight_call_days in the background (store.CompactInsights); readers add
-- both up, so the figures never depend on when that ran.

CREATE TABLE insight_call_days (
    day       BIGINT  NOT NULL,
    provider  TEXT    NOT NULL,
    to_number TEXT    NOT NULL,
    revision  TEXT    NOT NULL,
    outcome   INTEGER NOT NULL,
    menu      TEXT    NOT NULL,
    repeated  INTEGER NOT NULL,
    n         BIGINT  NOT NULL DEFAULT 0,
    flow_sum  BIGINT  NOT NULL DEFAULT 0,
    b0 BIGINT NOT NULL DEFAULT 0,
    b1 BIGINT NOT NULL DEFAULT 0,
    b2 BIGINT NOT NULL DEFAULT 0,
    b3 BIGINT NOT NULL DEFAULT 0,
    b4 BIGINT NOT NULL DEFAULT 0,
    b5 BIGINT NOT NULL DEFAULT 0,
    b6 BIGINT NOT NULL DEFAULT 0,
    b7 BIGINT NOT NULL DEFAULT 0,
    b8 BIGINT NOT NULL DEFAULT 0,
    b9 BIGINT NOT NULL DEFAULT 0,
    b10 BIGINT NOT NULL DEFAULT 0,
    b11 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, provider, to_number, revision, outcome, menu, repeated)
);

CREATE TABLE insight_call_deltas (
    id        BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    day       BIGINT  NOT NULL,
    provider  TEXT    NOT NULL,
    to_number TEXT    NOT NULL,
    revision  TEXT    NOT NULL,
    outcome   INTEGER NOT NULL,
    menu      TEXT    NOT NULL,
    repeated  INTEGER NOT NULL,
    n         BIGINT  NOT NULL,
    flow_sum  BIGINT  NOT NULL,
    b0 BIGINT NOT NULL DEFAULT 0,
    b1 BIGINT NOT NULL DEFAULT 0,
    b2 BIGINT NOT NULL DEFAULT 0,
    b3 BIGINT NOT NULL DEFAULT 0,
    b4 BIGINT NOT NULL DEFAULT 0,
    b5 BIGINT NOT NULL DEFAULT 0,
    b6 BIGINT NOT NULL DEFAULT 0,
    b7 BIGINT NOT NULL DEFAULT 0,
    b8 BIGINT NOT NULL DEFAULT 0,
    b9 BIGINT NOT NULL DEFAULT 0,
    b10 BIGINT NOT NULL DEFAULT 0,
    b11 BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX insight_call_deltas_day ON insight_call_deltas (day);

INSERT INTO insight_call_days (day, provider, to_number, revision, outcome, menu, repeated, n, flow_sum, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11)
SELECT hour / 24, provider, to_number, revision, outcome, CASE WHEN outcome = 3 THEN last_menu ELSE '' END, repeated,
    count(*), coalesce(sum(flow_seconds), 0), sum((flow_bucket = 0)::int), sum((flow_bucket = 1)::int), sum((flow_bucket = 2)::int), sum((flow_bucket = 3)::int), sum((flow_bucket = 4)::int), sum((flow_bucket = 5)::int), sum((flow_bucket = 6)::int), sum((flow_bucket = 7)::int), sum((flow_bucket = 8)::int), sum((flow_bucket = 9)::int), sum((flow_bucket = 10)::int), sum((flow_bucket = 11)::int)
FROM calls
GROUP BY hour / 24, provider, to_number, revision, outcome, CASE WHEN outcome = 3 THEN last_menu ELSE '' END, repeated;

CREATE FUNCTION insight_call_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO insight_call_deltas (day, provider, to_number, revision, outcome, menu, repeated, n, flow_sum, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11)
        VALUES (OLD.hour / 24, OLD.provider, OLD.to_number, OLD.revision, OLD.outcome, CASE WHEN OLD.outcome = 3 THEN OLD.last_menu ELSE '' END, OLD.repeated, -1, -coalesce(OLD.flow_seconds, 0), -(OLD.flow_bucket = 0)::int, -(OLD.flow_bucket = 1)::int, -(OLD.flow_bucket = 2)::int, -(OLD.flow_bucket = 3)::int, -(OLD.flow_bucket = 4)::int, -(OLD.flow_bucket = 5)::int, -(OLD.flow_bucket = 6)::int, -(OLD.flow_bucket = 7)::int, -(OLD.flow_bucket = 8)::int, -(OLD.flow_bucket = 9)::int, -(OLD.flow_bucket = 10)::int, -(OLD.flow_bucket = 11)::int);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO insight_call_deltas (day, provider, to_number, revision, outcome, menu, repeated, n, flow_sum, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11)
        VALUES (NEW.hour / 24, NEW.provider, NEW.to_number, NEW.revision, NEW.outcome, CASE WHEN NEW.outcome = 3 THEN NEW.last_menu ELSE '' END, NEW.repeated, 1, coalesce(NEW.flow_seconds, 0), (NEW.flow_bucket = 0)::int, (NEW.flow_bucket = 1)::int, (NEW.flow_bucket = 2)::int, (NEW.flow_bucket = 3)::int, (NEW.flow_bucket = 4)::int, (NEW.flow_bucket = 5)::int, (NEW.flow_bucket = 6)::int, (NEW.flow_bucket = 7)::int, (NEW.flow_bucket = 8)::int, (NEW.flow_bucket = 9)::int, (NEW.flow_bucket = 10)::int, (NEW.flow_bucket = 11)::int);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER calls_rollup_insert AFTER INSERT ON calls FOR EACH ROW EXECUTE FUNCTION insight_call_delta();
CREATE TRIGGER calls_rollup_update AFTER UPDATE ON calls FOR EACH ROW
    WHEN (OLD.hour IS DISTINCT FROM NEW.hour OR OLD.outcome IS DISTINCT FROM NEW.outcome OR OLD.repeated IS DISTINCT FROM NEW.repeated OR OLD.flow_bucket IS DISTINCT FROM NEW.flow_bucket OR OLD.flow_seconds IS DISTINCT FROM NEW.flow_seconds OR OLD.last_menu IS DISTINCT FROM NEW.last_menu OR OLD.provider IS DISTINCT FROM NEW.provider OR OLD.to_number IS DISTINCT FROM NEW.to_number OR OLD.revision IS DISTINCT FROM NEW.revision)
    EXECUTE FUNCTION insight_call_delta();
CREATE TRIGGER calls_rollup_delete AFTER DELETE ON calls FOR EACH ROW EXECUTE FUNCTION insight_call_delta();
