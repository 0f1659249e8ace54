-- 0075_controls (PostgreSQL). Keep in step with ../sqlite/0075_controls.sql.
ALTER TABLE flow_revisions ADD COLUMN closure TEXT NOT NULL DEFAULT '';
CREATE TABLE voicemail_transcripts (
    call_ref BIGINT      PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
    at       TIMESTAMPTZ NOT NULL,
    text     TEXT        NOT NULL
);
