-- 0020_insights (PostgreSQL). Keep in step with ../sqlite/0020_insights.sql,
-- which explains the columns. Generated columns are STORED here; hour is
-- unix hours of started_at in UTC.

ALTER TABLE call_events ADD COLUMN revision TEXT NOT NULL DEFAULT '';
ALTER TABLE call_events ADD COLUMN node TEXT NOT NULL DEFAULT '';

ALTER TABLE calls ADD COLUMN revision TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN transferred INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN fallback INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN ended_in_flow INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN last_menu TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN last_event_at TIMESTAMPTZ;
ALTER TABLE calls ADD COLUMN repeated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN hour BIGINT GENERATED ALWAYS AS (
    floor(extract(epoch FROM (started_at AT TIME ZONE 'UTC')) / 3600)::bigint) STORED;
ALTER TABLE calls ADD COLUMN outcome INTEGER GENERATED ALWAYS AS (
    CASE WHEN fallback = 1 THEN 4 WHEN transferred = 1 THEN 2 WHEN ended_in_flow = 1 THEN 1 WHEN final = 1 THEN 3 ELSE 0 END) STORED;
ALTER TABLE calls ADD COLUMN flow_seconds INTEGER GENERATED ALWAYS AS (
    floor(extract(epoch FROM (last_event_at - started_at)))::integer) STORED;

CREATE INDEX calls_insight ON calls (hour, outcome, provider, to_number, revision, repeated, flow_seconds);
CREATE INDEX calls_abandoned ON calls (outcome, hour, last_menu, provider, to_number, revision);
CREATE INDEX calls_from_started ON calls (from_number, started_at);

CREATE TABLE insight_menu_days (
    day       INTEGER NOT NULL,
    provider  TEXT    NOT NULL,
    to_number TEXT    NOT NULL,
    revision  TEXT    NOT NULL,
    menu      TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    detail    TEXT    NOT NULL,
    n         BIGINT  NOT NULL,
    PRIMARY KEY (day, provider, to_number, revision, menu, kind, detail)
);

CREATE TABLE insight_failures (
    hour     BIGINT NOT NULL,
    provider TEXT   NOT NULL,
    kind     TEXT   NOT NULL,
    reason   TEXT   NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (hour, provider, kind, reason)
);

CREATE TABLE voicemails (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_ref         BIGINT      NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    at               TIMESTAMPTZ NOT NULL,
    menu             TEXT        NOT NULL DEFAULT '',
    url              TEXT        NOT NULL DEFAULT '',
    duration_seconds INTEGER     NOT NULL DEFAULT 0,
    handled_at       TIMESTAMPTZ,
    UNIQUE (call_ref, url)
);
CREATE INDEX voicemails_at ON voicemails (at, id);
