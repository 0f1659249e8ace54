-- 0090_callbacks (SQLite). Keep in step with ../postgres/0090_callbacks.sql.
-- Callers who asked to be called back (the flow's callback action), and the
-- outbound calls placed for them. One request per call. state: open (to
-- call), calling (a call is being placed or is ringing), done, failed (the
-- last attempt did not reach the caller; it can be retried).
CREATE TABLE callbacks (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    provider         TEXT    NOT NULL,
    call_id          TEXT    NOT NULL,
    number           TEXT    NOT NULL,                 -- whom to call back, E.164
    to_number        TEXT    NOT NULL DEFAULT '',      -- the number the caller called
    requested_at     INTEGER NOT NULL,
    context          TEXT    NOT NULL DEFAULT '[]',    -- JSON [{"name", "value"}]
    state            TEXT    NOT NULL DEFAULT 'open',
    attempts         INTEGER NOT NULL DEFAULT 0,
    agent            TEXT    NOT NULL DEFAULT '',      -- the agent of the last attempt
    provider_call_id TEXT    NOT NULL DEFAULT '',      -- the last attempt's call (CallSid / request_uuid)
    last_error       TEXT    NOT NULL DEFAULT '',
    claimed_at       INTEGER,                          -- when the last attempt started
    placed_at        INTEGER,                          -- the first call the provider accepted
    updated_at       INTEGER NOT NULL,
    UNIQUE (provider, call_id)
);
CREATE INDEX callbacks_state ON callbacks (state, requested_at);
CREATE INDEX callbacks_requested ON callbacks (requested_at);
