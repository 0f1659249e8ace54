-- 0070_call_requests (PostgreSQL). Keep in step with ../sqlite/0070_call_requests.sql,
-- which explains the table.

CREATE TABLE call_requests (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_ref BIGINT      NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    at       TIMESTAMPTZ NOT NULL,
    events   BYTEA       NOT NULL
);
CREATE INDEX call_requests_call ON call_requests (call_ref, id);

INSERT INTO call_requests (call_ref, at, events)
SELECT call_ref, min(at), convert_to(json_agg(json_build_object(
        't', (extract(epoch FROM at) * 1000000)::bigint, 'm', menu, 'i', input, 'a', action, 'r', revision, 'n', node) ORDER BY id)::text, 'UTF8')
FROM call_events GROUP BY call_ref ORDER BY call_ref;

DROP TABLE call_events;
