-- 0031_provider_seq (PostgreSQL). Keep in step with ../sqlite/0031_provider_seq.sql.
ALTER TABLE calls ADD COLUMN provider_seq BIGINT;
