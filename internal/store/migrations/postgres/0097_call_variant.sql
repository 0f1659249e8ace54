-- 0097_call_variant (PostgreSQL). Keep in step with ../sqlite/0097_call_variant.sql.
ALTER TABLE calls ADD COLUMN variant TEXT NOT NULL DEFAULT '';
CREATE INDEX calls_variant ON calls (started_at) WHERE variant <> '';
