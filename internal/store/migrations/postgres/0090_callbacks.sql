-- 0090_callbacks (PostgreSQL). Keep in step with ../sqlite/0090_callbacks.sql.
CREATE TABLE callbacks (
    id               BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider         TEXT        NOT NULL,
    call_id          TEXT        NOT NULL,
    number           TEXT        NOT NULL,
    to_number        TEXT        NOT NULL DEFAULT '',
    requested_at     TIMESTAMPTZ NOT NULL,
    context          TEXT        NOT NULL DEFAULT '[]',
    state            TEXT        NOT NULL DEFAULT 'open',
    attempts         INTEGER     NOT NULL DEFAULT 0,
    agent            TEXT        NOT NULL DEFAULT '',
    provider_call_id TEXT        NOT NULL DEFAULT '',
    last_error       TEXT        NOT NULL DEFAULT '',
    claimed_at       TIMESTAMPTZ,
    placed_at        TIMESTAMPTZ,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (provider, call_id)
);
CREATE INDEX callbacks_state ON callbacks (state, requested_at);
CREATE INDEX callbacks_requested ON callbacks (requested_at);
