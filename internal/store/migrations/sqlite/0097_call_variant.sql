-- 0097_call_variant (SQLite). Keep in step with ../postgres/0097_call_variant.sql.
-- The split variant a call took (its first "variant" event), set with the
-- call's summary; '' = no split. Insights count calls per variant.
ALTER TABLE calls ADD COLUMN variant TEXT NOT NULL DEFAULT '';
CREATE INDEX calls_variant ON calls (started_at) WHERE variant <> '';
