-- 0075_controls (SQLite). Keep in step with ../postgres/0075_controls.sql.
-- The line owner's controls: the closure switch rides on the flow
-- revisions (each change is a revision with the same text, its author and
-- time; the newest revision's closure is the live one, '' = none), and
-- voicemail transcripts arrive later than the recording, keyed by call.
ALTER TABLE flow_revisions ADD COLUMN closure TEXT NOT NULL DEFAULT '';
CREATE TABLE voicemail_transcripts (
    call_ref INTEGER PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
    at       INTEGER NOT NULL,
    text     TEXT    NOT NULL
);
