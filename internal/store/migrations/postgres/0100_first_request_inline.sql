-- 0100_first_request_inline (PostgreSQL). Keep in step with ../sqlite/0100_first_request_inline.sql,
-- which explains it.
ALTER TABLE calls ADD COLUMN events bytea;
