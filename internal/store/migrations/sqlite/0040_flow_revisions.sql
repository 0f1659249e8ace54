-- 0040_flow_revisions (SQLite). Keep in step with ../postgres/0040_flow_revisions.sql.
-- Every published flow: its number (the revision the admin API names), who
-- published it, when, a note, the full text, and the content hash that call
-- events carry as their "revision" (so insights map hash -> number here).
CREATE TABLE flow_revisions (
    id     INTEGER PRIMARY KEY,               -- 1, 2, 3...; a publish takes max+1
    at     INTEGER NOT NULL,
    author TEXT    NOT NULL DEFAULT '',
    note   TEXT    NOT NULL DEFAULT '',
    hash   TEXT    NOT NULL,                  -- ivr.Flow.Revision() of text
    text   TEXT    NOT NULL
);
CREATE INDEX flow_revisions_hash ON flow_revisions (hash);
