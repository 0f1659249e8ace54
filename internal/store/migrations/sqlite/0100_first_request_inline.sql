-- 0100_first_request_inline (SQLite). Keep in step with ../postgres/0100_first_request_inline.sql.
-- The events of the request (the writer batch) that creates a call are kept
-- in the call's own row, encoded as in call_requests.events (requests.go),
-- instead of a call_requests row of their own: an answer of a new call
-- writes its calls row and no call_requests row or index entry. Requests
-- of a call that exists already are call_requests rows, as before; a
-- call's events are its events column (NULL: none, e.g. a call created by
-- a status callback or stored before this migration) followed by its
-- call_requests rows in id order.
ALTER TABLE calls ADD COLUMN events BLOB;
