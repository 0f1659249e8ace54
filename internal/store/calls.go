package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
)

// Call is one phone call as the admin API shows it.
type Call struct {
	Provider        string     `json:"provider"` // "twilio" | "plivo"
	CallID          string     `json:"call_id"`  // CallSid / CallUUID
	From            string     `json:"from"`
	To              string     `json:"to"`
	Status          string     `json:"status"` // the provider's last reported status; "" until one arrives
	StartedAt       time.Time  `json:"started_at"`
	EndedAt         *time.Time `json:"ended_at"`
	DurationSeconds int        `json:"duration_seconds"`
	HangupCause     string     `json:"hangup_cause"`
	Events          []Event    `json:"events"` // in order; never nil on calls this package returns
}

// Event is one thing that happened on a call: the engine's event (its JSON
// fields are the call record's) and what storing it also asks for.
type Event struct {
	ivr.Event
	// Revision is the flow revision the event ran on; Node its stable node
	// id ("menu" or "menu/option-key"), derived from Menu and Action when
	// empty. See insights_write.go.
	Revision string `json:"revision,omitempty"`
	Node     string `json:"node,omitempty"`
	// Recording is set on the event that reports a finished voicemail; it
	// becomes a row of the voicemail inbox.
	Recording *Recording `json:"-"`
	// Notice, when set, writes an outbox event in the same transaction as
	// this event (while the outbox is enabled). Not stored with the event.
	Notice *Notice `json:"-"`
}

// eventJSON is an event as the calls API shows it.
type eventJSON struct {
	At       time.Time `json:"at"`
	Kind     string    `json:"kind"`
	Menu     string    `json:"menu"`
	Input    string    `json:"input"`  // the text people read
	Action   string    `json:"action"` // the text people read
	Revision string    `json:"revision,omitempty"`
	Node     string    `json:"node,omitempty"`
}

// MarshalJSON writes the event as the calls API shows it: at, kind, menu,
// input and action (the text people read), revision and node.
func (e Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(eventJSON{e.At, e.Kind.String(), e.Menu, e.Input(), e.Action(), e.Revision, e.Node})
}

// UnmarshalJSON reads an event of the calls API back (a client of the API):
// its typed fields come from its text, as for records older than typed
// events.
func (e *Event) UnmarshalJSON(b []byte) error {
	var j eventJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = Event{Event: legacyEvent(j.At, j.Menu, j.Input, j.Action), Revision: j.Revision, Node: j.Node}
	return nil
}

// Recording is a voicemail the provider recorded.
type Recording struct {
	URL             string
	DurationSeconds int
}

// CallEvents is a batch of events for one call, as queued by the Writer.
type CallEvents struct {
	Provider, CallID, From, To string
	Events                     []Event
	// At is when the call was seen, for started_at when Events is empty
	// (the Writer keeps only the call when its queue is full); zero = now.
	At time.Time
	// New says the entry is most likely its call's first request (its
	// answer): SQLite inserts such calls without a lookup first, and looks
	// up only those the insert found existing (writeCallsSQLite). A hint:
	// the call is stored the same either way.
	New bool
}

// StatusUpdate is a provider's status or hangup callback.
type StatusUpdate struct {
	Provider, CallID, From, To string
	Status                     string    // e.g. "ringing", "in-progress", "completed"
	At                         time.Time // when it was received; zero = now
	DurationSeconds            int       // 0 = unknown (keeps a stored value); outside 0..MaxDurationSeconds: unknown
	HangupCause                string    // "" = unknown (keeps a stored value)
	Final                      bool      // the call is over: sets ended_at once; later non-final statuses no longer change Status
	// ProviderAt is the provider's own timestamp of the callback (zero =
	// unknown). A non-final status older than one already applied is
	// ignored: callbacks may arrive out of order.
	ProviderAt time.Time
	// ProviderSeq is the provider's sequence number of the callback
	// (Twilio's SequenceNumber, from 0); nil = unknown. It orders non-final
	// statuses more finely than ProviderAt's seconds.
	ProviderSeq *int64
}

// MaxDurationSeconds is the longest call duration stored: a week, well over
// the providers' own limits (a day). A longer one is stored as unknown, so a
// start time never lands decades away, and the column fits both databases.
const MaxDurationSeconds = 7 * 24 * 3600

// ListOptions selects and pages ListCalls.
type ListOptions struct {
	Limit  int    // default 50, at most 500
	Cursor string // "" = first page; else the next value of the previous page
	Number string // calls from or to this number
	Status string // calls whose status is exactly this
	Since  time.Time
	Until  time.Time // calls that started in [Since, Until); zero = unbounded
}

const (
	defaultLimit = 50
	maxLimit     = 500
)

// PageSize is how many rows a list returns at most for a requested limit
// n (0 = the default): a page this full may have another after it.
func PageSize(n int) int {
	switch {
	case n <= 0:
		return defaultLimit
	case n > maxLimit:
		return maxLimit
	}
	return n
}

// AddEvents records events of a call, creating the call when it is new
// (started_at = the first event's time, or now without events).
func (d *DB) AddEvents(ctx context.Context, provider, callID, from, to string, events []Event) error {
	return d.AddEventBatch(ctx, []CallEvents{{Provider: provider, CallID: callID, From: from, To: to, Events: events}})
}

// AddEventBatch records several calls' events in one transaction, in order.
// It is what the Writer uses (see EventSink). The entries of one call are
// merged; every call is upserted and every event inserted with multi-row
// statements (events_batch.go), so a batch of a thousand new calls is a few
// statements, not two per call.
func (d *DB) AddEventBatch(ctx context.Context, batch []CallEvents) error {
	for _, b := range batch {
		if b.Provider == "" || b.CallID == "" {
			return fmt.Errorf("add events: provider and call id are required (got %q, %q)", b.Provider, b.CallID)
		}
	}
	calls := coalesce(batch)
	now := d.now()
	blobs, err := encodeCalls(calls, now)
	if err != nil {
		return fmt.Errorf("add events: %w", err)
	}
	rows := make([]callRow, len(calls))
	for i, b := range calls {
		start := b.At
		if start.IsZero() {
			start = now
		}
		for _, e := range b.Events {
			if !e.At.IsZero() && e.At.Before(start) {
				start = e.At
			}
		}
		rows[i] = callRow{provider: txt(b.Provider), callID: txt(b.CallID), from: txt(b.From), to: txt(b.To), start: start,
			revision: firstRevision(b.Events), ends: endsCall(b.Events), events: blobs[i], likelyNew: b.New}
	}
	// Call rows are locked and written in one order by every batch (see
	// probeCallsPostgres; SQLite sorts the copies writeCallsSQLite makes);
	// events still go in in batch order.
	sorted := rows
	if d.driver == DriverPostgres {
		sorted = slices.Clone(rows)
		slices.SortFunc(sorted, byCall)
	}
	var repeats []repeat // PostgreSQL marks them in upsertCalls; SQLite after its inserts
	if d.driver == DriverPostgres {
		repeats = repeatWindows(rows)
	}
	err = d.writeRetry(ctx, fmt.Sprintf("event batch of %d calls", len(rows)), func(tx *sql.Tx) error {
		refs, err := d.upsertCalls(ctx, tx, sorted, repeats)
		if err != nil {
			return err
		}
		callsRead(ctx) // the batch knows which of its calls are final (writer_status.go)
		if err := d.insertRequests(ctx, tx, calls, rows, refs, now); err != nil {
			return err
		}
		if err := d.summariseCalls(ctx, tx, ended(rows, calls, refs)); err != nil {
			return err
		}
		if err := d.markRepeats(ctx, tx, rows, refs); err != nil {
			return err
		}
		sum := d.newSummariser(tx)
		for i, b := range calls {
			ref := refs[callKey{rows[i].provider, rows[i].callID}].id
			if err := sum.call(ctx, ref, b); err != nil {
				return fmt.Errorf("summarise %s/%s: %w", b.Provider, b.CallID, err)
			}
			if d.outbox.Load() {
				for _, e := range b.Events {
					if e.Notice != nil {
						if err := d.notify(ctx, tx, ref, e); err != nil {
							return fmt.Errorf("events of %s/%s: %w", b.Provider, b.CallID, err)
						}
					}
				}
			}
		}
		return sum.flush(ctx)
	})
	if err != nil {
		return fmt.Errorf("add events: %w", err)
	}
	return nil
}

// byCall orders call rows by provider, then call id.
func byCall(a, b callRow) int {
	return cmp.Or(cmp.Compare(a.provider, b.provider), cmp.Compare(a.callID, b.callID))
}

// coalesce merges the entries of one call in a batch into its first entry,
// keeping every call's events in order, so a busy call costs one upsert per
// batch instead of one per webhook. The caller's entries are not changed.
func coalesce(batch []CallEvents) []CallEvents {
	type key struct{ provider, callID string }
	at := make(map[key]int, len(batch))
	out := make([]CallEvents, 0, len(batch))
	var owned []bool // out[i].Events is a copy of ours (appending to it is safe)
	for _, b := range batch {
		k := key{txt(b.Provider), txt(b.CallID)} // as stored: ids that differ only in invalid bytes are one call
		i, seen := at[k]
		if !seen {
			at[k] = len(out)
			out = append(out, b)
			continue
		}
		o := &out[i]
		if len(b.Events) > 0 {
			// Copy once, before the first append: the caller's slice stays
			// as it was (copying at every append made a call with thousands
			// of entries in a batch quadratic).
			if owned == nil {
				owned = make([]bool, len(batch))
			}
			if !owned[i] {
				o.Events = append(make([]Event, 0, 2*(len(o.Events)+len(b.Events))), o.Events...)
				owned[i] = true
			}
			o.Events = append(o.Events, b.Events...)
		}
		if o.From == "" {
			o.From = b.From
		}
		if o.To == "" {
			o.To = b.To
		}
		if !b.At.IsZero() && (o.At.IsZero() || b.At.Before(o.At)) {
			o.At = b.At
		}
	}
	return out
}

const callColumns = `id, provider, call_id, from_number, to_number, status, started_at, ended_at, duration_seconds, hangup_cause`

// callEventColumns are what scanCallEvents reads: callColumns and the
// call's own events, its first request's (migration 0100; its later
// requests are call_requests rows, loadEvents).
const callEventColumns = callColumns + `, events`

type scanner interface{ Scan(dest ...any) error }

// queryAll runs query and reads every row with scan; errors say what was
// being read (e.g. "list outbox"). No rows is an empty slice, not nil (a
// JSON list, not null).
func queryAll[T any](ctx context.Context, db *sql.DB, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: scan: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

func scanCall(s scanner) (int64, Call, error) {
	return scanCallRow(s, nil)
}

// scanCallEvents scans callEventColumns.
func scanCallEvents(s scanner) (int64, Call, error) {
	var events []byte
	return scanCallRow(s, &events)
}

// scanCallRow scans callColumns, and the call's events column too when
// events is not nil.
func scanCallRow(s scanner, events *[]byte) (int64, Call, error) {
	var (
		id             int64
		c              Call
		started, ended timeCol
	)
	dst := []any{&id, &c.Provider, &c.CallID, &c.From, &c.To, &c.Status, &started, &ended, &c.DurationSeconds, &c.HangupCause}
	if events != nil {
		dst = append(dst, events)
	}
	if err := s.Scan(dst...); err != nil {
		return 0, Call{}, err
	}
	c.StartedAt = started.T
	if ended.Valid {
		t := ended.T
		c.EndedAt = &t
	}
	c.Events = []Event{}
	if events != nil && *events != nil {
		var err error
		if c.Events, err = decodeEvents(c.Events, *events); err != nil {
			return 0, Call{}, fmt.Errorf("events of call %d: %w", id, err)
		}
	}
	return id, c, nil
}

// GetCall returns one call with its events, or ErrNotFound.
func (d *DB) GetCall(ctx context.Context, provider, callID string) (Call, error) {
	row := d.sql.QueryRowContext(ctx, `SELECT `+callEventColumns+` FROM calls WHERE provider = $1 AND call_id = $2`, provider, callID)
	id, c, err := scanCallEvents(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Call{}, fmt.Errorf("get call %s/%s: %w", provider, callID, ErrNotFound)
	}
	if err != nil {
		return Call{}, fmt.Errorf("get call %s/%s: %w", provider, callID, err)
	}
	calls := []Call{c}
	if err := d.loadEvents(ctx, []int64{id}, calls); err != nil {
		return Call{}, fmt.Errorf("get call %s/%s: %w", provider, callID, err)
	}
	return calls[0], nil
}

// ListCalls returns calls newest first (started_at, then insertion order,
// descending) with their events, and the cursor of the next page ("" at the
// end). Filters combine with AND.
func (d *DB) ListCalls(ctx context.Context, o ListOptions) ([]Call, string, error) {
	limit := PageSize(o.Limit)
	var q filter
	if o.Cursor != "" {
		at, id, err := decodeCursor(o.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("list calls: %w", err)
		}
		q.and("(started_at, id) < (" + q.arg(d.tv(at)) + ", " + q.arg(id) + ")")
	}
	if o.Number != "" {
		p := q.arg(o.Number)
		q.and("(from_number = " + p + " OR to_number = " + p + ")")
	}
	if o.Status != "" {
		q.and("status = " + q.arg(o.Status))
	}
	if !o.Since.IsZero() {
		q.and("started_at >= " + q.arg(d.tv(o.Since)))
	}
	if !o.Until.IsZero() {
		q.and("started_at < " + q.arg(d.tv(o.Until)))
	}
	query := `SELECT ` + callEventColumns + ` FROM calls` + q.where() +
		" ORDER BY started_at DESC, id DESC LIMIT " + q.arg(limit+1)

	rows, err := d.sql.QueryContext(ctx, query, q.args...)
	if err != nil {
		return nil, "", fmt.Errorf("list calls: %w", err)
	}
	defer rows.Close()
	var (
		calls []Call
		ids   []int64
	)
	for rows.Next() {
		id, c, err := scanCallEvents(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list calls: scan: %w", err)
		}
		calls = append(calls, c)
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list calls: %w", err)
	}
	rows.Close()

	next := ""
	if len(calls) > limit {
		calls, ids = calls[:limit], ids[:limit]
		last := calls[limit-1]
		next = encodeCursor(last.StartedAt, ids[limit-1])
	}
	if calls == nil {
		calls = []Call{}
	}
	if err := d.loadEvents(ctx, ids, calls); err != nil {
		return nil, "", fmt.Errorf("list calls: %w", err)
	}
	return calls, next, nil
}

// A cursor is base64url("v1.<started_at unix µs>.<row id>"): the position
// of the last call of a page in the keyset (started_at DESC, id DESC).
const cursorPrefix = "v1."

func encodeCursor(at time.Time, id int64) string {
	raw := cursorPrefix + strconv.FormatInt(at.UnixMicro(), 10) + "." + strconv.FormatInt(id, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(s string) (time.Time, int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, 0, ErrBadCursor
	}
	rest, ok := strings.CutPrefix(string(raw), cursorPrefix)
	if !ok {
		return time.Time{}, 0, ErrBadCursor
	}
	us, ids, ok := strings.Cut(rest, ".")
	if !ok {
		return time.Time{}, 0, ErrBadCursor
	}
	micros, err1 := strconv.ParseInt(us, 10, 64)
	id, err2 := strconv.ParseInt(ids, 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return time.Time{}, 0, ErrBadCursor
	}
	return time.UnixMicro(micros).UTC(), id, nil
}
