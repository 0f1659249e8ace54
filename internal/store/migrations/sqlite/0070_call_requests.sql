-- 0070_call_requests (SQLite). Keep in step with ../postgres/0070_call_requests.sql.
-- One row per request instead of one per event: what a webhook request did
-- (its events, in order) is one row whose events column holds them encoded
-- (requests.go). An answer wrote three call_events rows and three entries
-- of their index; it now writes one of each.
--
-- The calls of the old shape are converted: each call's events become one
-- row in the JSON form the decoder reads ("[{"t":µs,"m":menu,...}, ...]",
-- see jsonEvents in requests.go), in their order.

CREATE TABLE call_requests (
    id       INTEGER PRIMARY KEY,
    call_ref INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    at       INTEGER NOT NULL,  -- the request's first event
    events   BLOB    NOT NULL
);
CREATE INDEX call_requests_call ON call_requests (call_ref, id);

INSERT INTO call_requests (call_ref, at, events)
SELECT call_ref, min(at), CAST(json_group_array(json_object('t', at, 'm', menu, 'i', input, 'a', action, 'r', revision, 'n', node) ORDER BY id) AS BLOB)
FROM call_events GROUP BY call_ref ORDER BY call_ref;

DROP TABLE call_events;
