-- 0040_flow_revisions (PostgreSQL). Keep in step with ../sqlite/0040_flow_revisions.sql.
CREATE TABLE flow_revisions (
    id     BIGINT      PRIMARY KEY,
    at     TIMESTAMPTZ NOT NULL,
    author TEXT        NOT NULL DEFAULT '',
    note   TEXT        NOT NULL DEFAULT '',
    hash   TEXT        NOT NULL,
    text   TEXT        NOT NULL
);
CREATE INDEX flow_revisions_hash ON flow_revisions (hash);
