-- 0030_outbox (SQLite). Keep in step with ../postgres/0030_outbox.sql.
-- The webhook outbox: events written in the same transaction as the record
-- they report, delivered at least once by the webhook worker.

-- Per call: the last event sequence number handed out; the provider's
-- timestamp of the newest status applied; whether call.completed was written.
ALTER TABLE calls ADD COLUMN event_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN provider_at INTEGER;
ALTER TABLE calls ADD COLUMN completed_sent INTEGER NOT NULL DEFAULT 0;
UPDATE calls SET completed_sent = final;
-- Calls still open, for closing those whose final callback never came.
CREATE INDEX calls_open ON calls (started_at) WHERE final = 0;

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT    NOT NULL UNIQUE,          -- webhook-id
    type         TEXT    NOT NULL,                 -- call.completed | voicemail.created | call.fallback
    provider     TEXT    NOT NULL DEFAULT '',
    call_id      TEXT    NOT NULL DEFAULT '',
    seq          INTEGER NOT NULL DEFAULT 0,       -- the call's event sequence number
    payload      TEXT    NOT NULL,                 -- the JSON body, fixed at creation
    created_at   INTEGER NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'pending', -- pending | delivered | failed
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,                 -- next delivery attempt (pending)
    last_error   TEXT    NOT NULL DEFAULT '',
    last_status  INTEGER NOT NULL DEFAULT 0,       -- HTTP status of the last attempt (0 = none)
    delivered_at INTEGER,
    lease_owner  TEXT    NOT NULL DEFAULT '',      -- the instance delivering it now
    lease_until  INTEGER
);
CREATE INDEX outbox_due ON outbox (next_at, id) WHERE state = 'pending';
CREATE INDEX outbox_state ON outbox (state, id);
