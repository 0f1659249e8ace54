package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A call's summary (transferred, fallback, ended in the flow, last menu,
// last event, and from them its outcome, hour and time in flow, which the
// insights' rollup and hourly series read) is computed once, when the call
// ends, from all its events: at its first final status (UpdateStatus; or,
// when the Writer still holds events of the call, by the batch that writes
// them: writer_status.go), when it is closed as stale (CloseStaleCalls), or
// when the flow ends it (an event batch with a terminal event: hangup,
// voicemail, fallback, ...). A batch of events of a call that has ended
// already computes it again. Until then the call is "not summarised"
// (SQLite: hour = 0; PostgreSQL: summarised = 0): outside the rollup and
// calls_insight, counted by Insights as in progress (insights_open.go). See
// migrations 0095, 0110 and 0111.

// firstRevision is the revision of the first event that has one.
func firstRevision(events []Event) string {
	for _, e := range events {
		if e.Revision != "" {
			return e.Revision
		}
	}
	return ""
}

// endsCall reports whether one of events ends the call.
func endsCall(events []Event) bool {
	for i := range events {
		if _, _, terminal := classify(&events[i]); terminal {
			return true
		}
	}
	return false
}

// ended returns the row ids of the batch's calls whose summary is due: the
// flow ended them in this batch, or they were final already and got events
// (rows[i] is calls[i]).
func ended(rows []callRow, calls []CallEvents, refs map[callKey]callRef) []int64 {
	var ids []int64
	for i, r := range rows {
		ref := refs[callKey{r.provider, r.callID}]
		if r.ends || (ref.final && len(calls[i].Events) > 0) {
			ids = append(ids, ref.id)
		}
	}
	return ids
}

// summaryCallsSQL reads the calls to summarise with their events: the
// call's own (its first request's) then its requests' ($1: an array of row
// ids on PostgreSQL, a JSON array on SQLite).
func summaryCallsSQL(driver string) string {
	ids := `SELECT value FROM json_each($1)`
	if driver == DriverPostgres {
		ids = `SELECT unnest($1::bigint[])`
	}
	return `SELECT c.id, c.started_at, c.final, c.events, r.events FROM calls c LEFT JOIN call_requests r ON r.call_ref = c.id
WHERE c.id IN (` + ids + `) ORDER BY c.id, r.id`
}

// summariseSQL is the driver's summary update (prepared at Open: a status
// callback that ends a call would otherwise parse it every time): the
// summary, the call's hour, outcome, seconds in the flow and their bucket
// (summaryColumns) and its split variant ($12, "" = none). PostgreSQL also
// marks the call summarised (SQLite: hour > 0).
func summariseSQL(driver string) string {
	mark := ""
	if driver == DriverPostgres {
		mark = ", summarised = 1"
	}
	return `UPDATE calls SET revision = CASE WHEN revision = '' THEN $2 ELSE revision END,
    transferred = $3, fallback = $4, ended_in_flow = $5, last_menu = $6, last_event_at = $7,
    hour = $8, outcome = $9, flow_seconds = $10, flow_bucket = $11,
    variant = CASE WHEN $12 = '' THEN variant ELSE $12 END` + mark + `
WHERE id = $1`
}

// endedCall is a call to summarise, with all its events.
type endedCall struct {
	id     int64
	start  time.Time
	final  bool
	events []Event
}

// summariseCalls computes and stores the summary of the calls with row ids
// ids, inside tx.
func (d *DB) summariseCalls(ctx context.Context, tx *sql.Tx, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	cs, err := d.endedCalls(ctx, tx, ids)
	if err != nil {
		return err
	}
	if d.driver == DriverPostgres && len(cs) > 1 {
		return d.summariseManyPostgres(ctx, tx, cs)
	}
	st, err := d.stmt(ctx, tx, summariseSQL(d.driver))
	if err != nil {
		return fmt.Errorf("summarise calls: %w", err)
	}
	now := d.now()
	for _, c := range cs {
		s := summarise(c.events, now)
		var last *time.Time
		if !s.last.IsZero() {
			last = &s.last
		}
		hour, outcome, secs, bucket := summaryColumns(c, s)
		if _, err := st.ExecContext(ctx, c.id, txt(s.revision), s.transferred, s.fallback, s.ends, txt(s.lastMenu), d.tvNull(last),
			hour, outcome, secs, bucket, txt(s.variant)); err != nil {
			return fmt.Errorf("summarise call %d: %w", c.id, err)
		}
	}
	return nil
}

// summariseManyPostgres is summariseSQL for many calls in one statement
// ($1-$12: arrays, one element a call): a batch of mixed calls summarises
// nearly every call it writes (their final status came first), and one
// UPDATE a call was a round trip each, most of the batch's time, which a
// status of one of its calls waits for.
const summariseManyPostgres = `UPDATE calls SET revision = CASE WHEN calls.revision = '' THEN u.r ELSE calls.revision END,
    transferred = u.tr, fallback = u.fb, ended_in_flow = u.e, last_menu = u.m, last_event_at = u.l,
    hour = u.h, outcome = u.o, flow_seconds = u.fs, flow_bucket = u.b,
    variant = CASE WHEN u.v = '' THEN calls.variant ELSE u.v END, summarised = 1
FROM unnest($1::bigint[], $2::text[], $3::int[], $4::int[], $5::int[], $6::text[], $7::timestamptz[], $8::bigint[], $9::int[], $10::int[], $11::int[], $12::text[])
    AS u(id, r, tr, fb, e, m, l, h, o, fs, b, v)
WHERE calls.id = u.id`

func (d *DB) summariseManyPostgres(ctx context.Context, tx *sql.Tx, cs []endedCall) error {
	n := len(cs)
	ids, hours := make([]int64, n), make([]int64, n)
	revs, menus, variants := make([]string, n), make([]string, n), make([]string, n)
	ints := make([][]int32, 5) // transferred, fallback, ended_in_flow, outcome, flow_bucket
	for i := range ints {
		ints[i] = make([]int32, n)
	}
	lasts, secs := make([]*time.Time, n), make([]*int64, n)
	now := d.now()
	for i, c := range cs {
		s := summarise(c.events, now)
		hour, outcome, sec, bucket := summaryColumns(c, s)
		ids[i], hours[i] = c.id, hour
		revs[i], menus[i], variants[i] = txt(s.revision), txt(s.lastMenu), txt(s.variant)
		ints[0][i], ints[1][i], ints[2][i], ints[3][i], ints[4][i] = int32(s.transferred), int32(s.fallback), int32(s.ends), int32(outcome), int32(bucket)
		if !s.last.IsZero() {
			t := s.last.UTC().Truncate(time.Microsecond)
			lasts[i] = &t
		}
		if v, ok := sec.(int64); ok {
			secs[i] = &v
		}
	}
	st, err := d.stmt(ctx, tx, summariseManyPostgres)
	if err != nil {
		return fmt.Errorf("summarise calls: %w", err)
	}
	if _, err := st.ExecContext(ctx, ids, textArray(revs), ints[0], ints[1], ints[2], textArray(menus), lasts, hours,
		ints[3], secs, ints[4], textArray(variants)); err != nil {
		return fmt.Errorf("summarise %d calls: %w", n, err)
	}
	return nil
}

// endedCalls reads the calls ids with all their events.
func (d *DB) endedCalls(ctx context.Context, tx *sql.Tx, ids []int64) ([]endedCall, error) {
	var arg any = ids
	if d.driver != DriverPostgres {
		var b strings.Builder
		b.WriteByte('[')
		for i, id := range ids {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(id, 10))
		}
		b.WriteByte(']')
		arg = b.String()
	}
	rows, err := d.txQuery(ctx, tx, summaryCallsSQL(d.driver), arg)
	if err != nil {
		return nil, fmt.Errorf("read ended calls: %w", err)
	}
	defer rows.Close()
	var cs []endedCall
	for rows.Next() {
		var (
			id, final     int64
			start         timeCol
			first, events []byte
		)
		if err := rows.Scan(&id, &start, &final, &first, &events); err != nil {
			return nil, fmt.Errorf("read ended calls: %w", err)
		}
		if len(cs) == 0 || cs[len(cs)-1].id != id {
			cs = append(cs, endedCall{id: id, start: start.T, final: final != 0})
			if first != nil {
				c := &cs[len(cs)-1]
				if c.events, err = decodeEvents(c.events, first); err != nil {
					return nil, fmt.Errorf("read events of call %d: %w", id, err)
				}
			}
		}
		if events != nil {
			c := &cs[len(cs)-1]
			if c.events, err = decodeEvents(c.events, events); err != nil {
				return nil, fmt.Errorf("read events of call %d: %w", id, err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read ended calls: %w", err)
	}
	return cs, nil
}

// summaryColumns are what is stored beside the summary (PostgreSQL
// generated them before migration 0111): the call's hour, outcome, seconds
// in the flow (nil: no events) and its flow_bucket (-1: no events).
func summaryColumns(c endedCall, s callSummary) (hour, outcome int64, secs any, bucket int) {
	hour = c.start.UnixMicro() / int64(time.Hour/time.Microsecond)
	switch {
	case s.fallback == 1:
		outcome = OutcomeFallback
	case s.transferred == 1:
		outcome = OutcomeTransferred
	case s.ends == 1:
		outcome = OutcomeContained
	case c.final:
		outcome = OutcomeAbandoned
	default:
		outcome = OutcomeInProgress
	}
	bucket = -1
	if !s.last.IsZero() {
		n := (s.last.UTC().Truncate(time.Microsecond).UnixMicro() - c.start.UnixMicro()) / int64(time.Second/time.Microsecond)
		secs = n
		bucket = len(flowBuckets)
		for i, b := range flowBuckets {
			if n < int64(b) {
				bucket = i
				break
			}
		}
	}
	return hour, outcome, secs, bucket
}
