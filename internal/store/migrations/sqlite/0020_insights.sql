-- 0020_insights (SQLite): what the insights dashboard and the voicemail inbox read.
-- Keep in step with ../postgres/0020_insights.sql.
--
-- Every event carries the flow revision it ran on and a stable node id
-- ("menu" or "menu/option-key"). Calls carry a summary kept up to date as
-- their events are written (transferred, fallback, ended_in_flow, last_menu,
-- last_event_at, repeated) and three generated columns the dashboard groups
-- by: hour (unix hours of started_at), outcome and flow_seconds.
-- outcome: 0 in progress, 1 contained, 2 transferred, 3 abandoned, 4 fallback.

ALTER TABLE call_events ADD COLUMN revision TEXT NOT NULL DEFAULT '';
ALTER TABLE call_events ADD COLUMN node TEXT NOT NULL DEFAULT '';

ALTER TABLE calls ADD COLUMN revision TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN transferred INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN fallback INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN ended_in_flow INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN last_menu TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN last_event_at INTEGER;
ALTER TABLE calls ADD COLUMN repeated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN hour INTEGER GENERATED ALWAYS AS (started_at / 3600000000) VIRTUAL;
ALTER TABLE calls ADD COLUMN outcome INTEGER GENERATED ALWAYS AS (
    CASE WHEN fallback = 1 THEN 4 WHEN transferred = 1 THEN 2 WHEN ended_in_flow = 1 THEN 1 WHEN final = 1 THEN 3 ELSE 0 END) VIRTUAL;
ALTER TABLE calls ADD COLUMN flow_seconds INTEGER GENERATED ALWAYS AS ((last_event_at - started_at) / 1000000) VIRTUAL;

CREATE INDEX calls_insight ON calls (hour, outcome, provider, to_number, revision, repeated, flow_seconds);
CREATE INDEX calls_abandoned ON calls (outcome, hour, last_menu, provider, to_number, revision);
CREATE INDEX calls_from_started ON calls (from_number, started_at);

-- Per day (unix days of the event time), menu and kind of event: enter,
-- option (detail = key), invalid, silent, transfer, dial (detail = status),
-- voicemail, recording, fallback (detail = reason).
CREATE TABLE insight_menu_days (
    day       INTEGER NOT NULL,
    provider  TEXT    NOT NULL,
    to_number TEXT    NOT NULL,
    revision  TEXT    NOT NULL,
    menu      TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    detail    TEXT    NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (day, provider, to_number, revision, menu, kind, detail)
);

-- Fallback answers and refused requests per hour, by reason, added up over
-- every instance (each flushes its counts periodically).
CREATE TABLE insight_failures (
    hour     INTEGER NOT NULL,
    provider TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    reason   TEXT    NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (hour, provider, kind, reason)
);

CREATE TABLE voicemails (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    call_ref         INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    at               INTEGER NOT NULL,
    menu             TEXT    NOT NULL DEFAULT '',
    url              TEXT    NOT NULL DEFAULT '',
    duration_seconds INTEGER NOT NULL DEFAULT 0,
    handled_at       INTEGER,
    UNIQUE (call_ref, url)
);
CREATE INDEX voicemails_at ON voicemails (at, id);
