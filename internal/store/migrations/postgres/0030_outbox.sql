-- 0030_outbox (PostgreSQL). Keep in step with ../sqlite/0030_outbox.sql.

ALTER TABLE calls ADD COLUMN event_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN provider_at TIMESTAMPTZ;
ALTER TABLE calls ADD COLUMN completed_sent INTEGER NOT NULL DEFAULT 0;
UPDATE calls SET completed_sent = final;
CREATE INDEX calls_open ON calls (started_at) WHERE final = 0;

CREATE TABLE outbox (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     TEXT        NOT NULL UNIQUE,
    type         TEXT        NOT NULL,
    provider     TEXT        NOT NULL DEFAULT '',
    call_id      TEXT        NOT NULL DEFAULT '',
    seq          BIGINT      NOT NULL DEFAULT 0,
    payload      TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    state        TEXT        NOT NULL DEFAULT 'pending',
    attempts     INTEGER     NOT NULL DEFAULT 0,
    next_at      TIMESTAMPTZ NOT NULL,
    last_error   TEXT        NOT NULL DEFAULT '',
    last_status  INTEGER     NOT NULL DEFAULT 0,
    delivered_at TIMESTAMPTZ,
    lease_owner  TEXT        NOT NULL DEFAULT '',
    lease_until  TIMESTAMPTZ
);
CREATE INDEX outbox_due ON outbox (next_at, id) WHERE state = 'pending';
CREATE INDEX outbox_state ON outbox (state, id);
