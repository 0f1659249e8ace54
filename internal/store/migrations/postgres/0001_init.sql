-- 0001_init (PostgreSQL). Keep in step with ../sqlite/0001_init.sql.
-- Tables are created unqualified, in the first schema of search_path.

CREATE TABLE calls (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider         TEXT        NOT NULL,
    call_id          TEXT        NOT NULL,
    from_number      TEXT        NOT NULL DEFAULT '',
    to_number        TEXT        NOT NULL DEFAULT '',
    status           TEXT        NOT NULL DEFAULT '',
    final            INTEGER     NOT NULL DEFAULT 0,
    started_at       TIMESTAMPTZ NOT NULL,
    ended_at         TIMESTAMPTZ,
    duration_seconds INTEGER     NOT NULL DEFAULT 0,
    hangup_cause     TEXT        NOT NULL DEFAULT '',
    UNIQUE (provider, call_id)
);
CREATE INDEX calls_started ON calls (started_at, id);
CREATE INDEX calls_from ON calls (from_number);
CREATE INDEX calls_to ON calls (to_number);

CREATE TABLE call_events (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_ref BIGINT      NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    at       TIMESTAMPTZ NOT NULL,
    menu     TEXT        NOT NULL DEFAULT '',
    input    TEXT        NOT NULL DEFAULT '',
    action   TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX call_events_call ON call_events (call_ref, id);

CREATE TABLE messages (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider    TEXT        NOT NULL,
    message_id  TEXT        NOT NULL DEFAULT '',
    direction   TEXT        NOT NULL,
    from_number TEXT        NOT NULL DEFAULT '',
    to_number   TEXT        NOT NULL DEFAULT '',
    body        TEXT        NOT NULL DEFAULT '',
    at          TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX messages_provider_id ON messages (provider, message_id, direction) WHERE message_id <> '';
CREATE INDEX messages_at ON messages (at, id);

CREATE TABLE nonces (
    nonce_key  TEXT        PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX nonces_expires ON nonces (expires_at);
