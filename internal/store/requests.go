package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// What a webhook request did is one call_requests row (migration 0070): the
// request's events, in order, encoded in its events column by the codec
// below, instead of one call_events row per event. Readers get the same
// []Event back (loadEvents).

// eventCodec encodes a request's events for call_requests.events and
// decodes them back. The first byte tells the encodings apart: '[' is the
// JSON form (jsonEvents, what migration 0070 converted the old rows to),
// typedRowVersion the typed form (typedEvents, events_codec.go).
type eventCodec interface {
	// append appends events, encoded, to dst; now stands in for an
	// event's zero At.
	append(dst []byte, events []Event, now time.Time) ([]byte, error)
	// decode appends the events encoded in src to dst.
	decode(dst []Event, src []byte) ([]Event, error)
}

// requestCodec is the encoding new rows are written in.
var requestCodec eventCodec = typedEvents{}

// decodeEvents appends the events of one call_requests row to dst, in
// whichever encoding the row was written.
func decodeEvents(dst []Event, src []byte) ([]Event, error) {
	if len(src) > 0 && src[0] == '[' {
		return jsonEvents{}.decode(dst, src)
	}
	return requestCodec.decode(dst, src)
}

// jsonEvents is the JSON form of rows converted from the old shape: an
// array of {"t": unix µs, "m": menu, "i": input, "a": action, "r":
// revision, "n": node}, empty strings left out. Its text becomes typed
// events through legacyEvent; nothing writes it any more.
type jsonEvents struct{}

type jsonEvent struct {
	T int64  `json:"t"`
	M string `json:"m,omitempty"`
	I string `json:"i,omitempty"`
	A string `json:"a,omitempty"`
	R string `json:"r,omitempty"`
	N string `json:"n,omitempty"`
}

func (jsonEvents) decode(dst []Event, src []byte) ([]Event, error) {
	var w []jsonEvent
	if err := json.Unmarshal(src, &w); err != nil {
		return dst, fmt.Errorf("decode events: %w", err)
	}
	for _, e := range w {
		dst = append(dst, Event{Event: legacyEvent(time.UnixMicro(e.T).UTC(), e.M, e.I, e.A), Revision: e.R, Node: e.N})
	}
	return dst, nil
}

const insertRequestsPostgres = `INSERT INTO call_requests (call_ref, at, events)
SELECT c, a, e FROM unnest($1::bigint[], $2::timestamptz[], $3::bytea[]) WITH ORDINALITY AS t(c, a, e, n) ORDER BY n`

// OR FAIL: no statement journal (see sqliteInsertCalls).
func sqliteInsertRequests(n int) string {
	return sqliteValues(`INSERT OR FAIL INTO call_requests (call_ref, at, events)`, 3, n)
}

// requestRow is one call_requests row to insert.
type requestRow struct {
	ref    int64
	at     time.Time
	events []byte
}

// encodeCalls encodes each call's events of the batch (the entries of one
// call in a batch were merged by coalesce); nil for a call without events.
// The rows are encoded one after the other into one array made once, not
// an array each, with the room the encoder asks for each (rowRoom).
func encodeCalls(calls []CallEvents, now time.Time) ([][]byte, error) {
	out := make([][]byte, len(calls))
	ends := make([]int, len(calls))
	room := 0
	for i := range calls {
		if n := len(calls[i].Events); n > 0 {
			room += rowRoom(n)
		}
	}
	buf := make([]byte, 0, room)
	for i := range calls {
		c := &calls[i]
		if len(c.Events) > 0 {
			var err error
			if buf, err = requestCodec.append(buf, c.Events, now); err != nil {
				return nil, fmt.Errorf("events of %s/%s: %w", c.Provider, c.CallID, err)
			}
		}
		ends[i] = len(buf)
	}
	start := 0
	for i, end := range ends {
		if end > start {
			out[i] = buf[start:end:end]
		}
		start = end
	}
	return out, nil
}

// requestRows is one row per call of the batch that has events and whose
// row the upsert did not create (a new call holds its events in its own
// row), in batch order (rows[i] is calls[i]).
func requestRows(calls []CallEvents, rows []callRow, refs map[callKey]callRef, now time.Time) []requestRow {
	out := make([]requestRow, 0, len(calls))
	for i := range calls {
		r := &rows[i]
		ref := refs[callKey{r.provider, r.callID}]
		if r.events == nil || ref.inserted {
			continue
		}
		at := calls[i].Events[0].At
		if at.IsZero() {
			at = now
		}
		out = append(out, requestRow{ref.id, at, r.events})
	}
	return out
}

// insertRequests writes the batch's request rows (requestRows).
func (d *DB) insertRequests(ctx context.Context, tx *sql.Tx, calls []CallEvents, crows []callRow, refs map[callKey]callRef, now time.Time) error {
	rows := requestRows(calls, crows, refs, now)
	if len(rows) == 0 {
		return nil
	}
	if d.driver == DriverPostgres {
		refCol, atCol, evCol := make([]int64, len(rows)), make([]time.Time, len(rows)), make([][]byte, len(rows))
		for i, r := range rows {
			refCol[i], atCol[i], evCol[i] = r.ref, r.at.UTC().Truncate(time.Microsecond), r.events
		}
		st, err := d.stmt(ctx, tx, insertRequestsPostgres)
		if err != nil {
			return fmt.Errorf("prepare request insert: %w", err)
		}
		if _, err := st.ExecContext(ctx, refCol, timeArray(atCol), byteaArray(evCol)); err != nil {
			return fmt.Errorf("insert requests: %w", err)
		}
		return nil
	}
	args := make([]any, 0, 3<<maxRowsLog2)
	return chunks(len(rows), func(lo, hi int) error {
		st, err := d.stmt(ctx, tx, d.sized.insertRequests.of(hi-lo))
		if err != nil {
			return fmt.Errorf("prepare request insert: %w", err)
		}
		args = args[:0]
		for _, r := range rows[lo:hi] {
			args = append(args, r.ref, d.tv(r.at), r.events)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("insert requests: %w", err)
		}
		return nil
	})
}

// loadEvents fills calls[i].Events for the call with row id ids[i].
func (d *DB) loadEvents(ctx context.Context, ids []int64, calls []Call) error {
	if len(ids) == 0 {
		return nil
	}
	index := make(map[int64]int, len(ids))
	args := make([]any, len(ids))
	ph := make([]string, len(ids))
	for i, id := range ids {
		index[id] = i
		args[i] = id
		ph[i] = "$" + strconv.Itoa(i+1)
	}
	rows, err := d.sql.QueryContext(ctx, `SELECT call_ref, events FROM call_requests WHERE call_ref IN (`+
		strings.Join(ph, ", ")+`) ORDER BY call_ref, id`, args...)
	if err != nil {
		return fmt.Errorf("load events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			ref int64
			b   []byte
		)
		if err := rows.Scan(&ref, &b); err != nil {
			return fmt.Errorf("load events: scan: %w", err)
		}
		i := index[ref]
		if calls[i].Events, err = decodeEvents(calls[i].Events, b); err != nil {
			return fmt.Errorf("load events of call %d: %w", ref, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load events: %w", err)
	}
	return nil
}
