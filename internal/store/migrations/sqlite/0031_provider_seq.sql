-- 0031_provider_seq (SQLite). Keep in step with ../postgres/0031_provider_seq.sql.
-- The provider's own sequence number of the newest status applied (Twilio's
-- SequenceNumber), which orders callbacks fired within the same second.
ALTER TABLE calls ADD COLUMN provider_seq INTEGER;
