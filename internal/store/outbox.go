package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The outbox holds the events the webhook worker delivers (at least once).
// An event is written in the same transaction as the record it reports:
// call.completed with the status (or closing) that ended the call,
// voicemail.created and call.fallback with the call event that carries their
// Notice. Every event of a call takes the call's next sequence number.
//
// Events are written only while the outbox is enabled (EnableOutbox: the
// server does so when a webhook URL is configured), so a store without a
// receiver does not fill up with undeliverable rows.

// Outbox event types.
const (
	EventCallCompleted    = "call.completed"
	EventVoicemailCreated = "voicemail.created"
	EventCallFallback     = "call.fallback"
	// EventTransferStarted and EventCallbackRequested are the hand-off's:
	// a transfer started (data: its numbers and context), a caller asked to
	// be called back (data: the callback's id, number and context).
	EventTransferStarted   = "transfer.started"
	EventCallbackRequested = "callback.requested"
)

// Outbox states.
const (
	OutboxPending   = "pending"   // waiting for its next attempt
	OutboxDelivered = "delivered" // the receiver answered 2xx
	OutboxFailed    = "failed"    // given up after the retry period (the admin can retry it)
)

// StatusUnknown is the status of a call closed by CloseStaleCalls because its
// final status callback never came.
const StatusUnknown = "unknown"

// Notice asks for an outbox event in the transaction that stores the Event
// carrying it. Data adds fields to the event's data (provider, call_id,
// from, to, status, sequence and at are always there).
type Notice struct {
	Type string
	Data map[string]any
}

// OutboxEvent is one webhook event and the state of its delivery.
type OutboxEvent struct {
	ID          int64           `json:"id"`
	EventID     string          `json:"event_id"` // webhook-id
	Type        string          `json:"type"`
	Provider    string          `json:"provider"`
	CallID      string          `json:"call_id"`
	Seq         int64           `json:"sequence"`
	Payload     json.RawMessage `json:"payload"` // the exact body that is POSTed
	CreatedAt   time.Time       `json:"created_at"`
	State       string          `json:"state"`
	Attempts    int             `json:"attempts"`
	NextAt      time.Time       `json:"next_attempt_at"`
	LastError   string          `json:"last_error"`
	LastStatus  int             `json:"last_status"`
	DeliveredAt *time.Time      `json:"delivered_at"`
}

// EnableOutbox makes the store write outbox events from now on.
func (d *DB) EnableOutbox() { d.outbox.Store(true) }

// callSnapshot is a call as an event reports it.
const snapshotColumns = `event_seq, provider, call_id, from_number, to_number, status, started_at, ended_at, duration_seconds, hangup_cause, provider_at, provider_seq`

type callSnapshot struct {
	seq                                int64
	provider, callID, from, to, status string
	started, ended, providerAt         timeCol
	duration                           int
	cause                              string
	providerSeq                        sql.NullInt64
}

func scanSnapshot(s scanner) (callSnapshot, error) {
	var c callSnapshot
	err := s.Scan(&c.seq, &c.provider, &c.callID, &c.from, &c.to, &c.status, &c.started, &c.ended, &c.duration, &c.cause, &c.providerAt, &c.providerSeq)
	return c, err
}

func timeOrNil(c timeCol) any {
	if !c.Valid {
		return nil
	}
	return c.T
}

// data is the event's "data" object.
func (c callSnapshot) data(extra map[string]any) map[string]any {
	m := map[string]any{
		"provider":           c.provider,
		"call_id":            c.callID,
		"from":               c.from,
		"to":                 c.to,
		"status":             c.status,
		"sequence":           c.seq,
		"provider_timestamp": timeOrNil(c.providerAt),
		"provider_sequence":  nil,
		"started_at":         c.started.T,
	}
	if c.providerSeq.Valid {
		m["provider_sequence"] = c.providerSeq.Int64
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// addOutbox writes one event inside tx.
func (d *DB) addOutbox(ctx context.Context, tx *sql.Tx, typ string, c callSnapshot, extra map[string]any) error {
	now := d.now().UTC().Truncate(time.Microsecond)
	body, err := json.Marshal(struct {
		Type      string         `json:"type"`
		Timestamp time.Time      `json:"timestamp"`
		Data      map[string]any `json:"data"`
	}{typ, now, c.data(extra)})
	if err != nil {
		return fmt.Errorf("outbox %s of %s/%s: encode: %w", typ, c.provider, c.callID, err)
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	_, err = tx.ExecContext(ctx, `INSERT INTO outbox (event_id, type, provider, call_id, seq, payload, created_at, next_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, "msg_"+hex.EncodeToString(b[:]), typ, c.provider, c.callID, c.seq, txt(string(body)), d.tv(now))
	if err != nil {
		return fmt.Errorf("outbox %s of %s/%s: %w", typ, c.provider, c.callID, err)
	}
	return nil
}

// notify writes the outbox event an Event's Notice asks for, with the call's
// next sequence number.
func (d *DB) notify(ctx context.Context, tx *sql.Tx, ref int64, e Event) error {
	row := tx.QueryRowContext(ctx, `UPDATE calls SET event_seq = event_seq + 1 WHERE id = $1 RETURNING `+snapshotColumns, ref)
	c, err := scanSnapshot(row)
	if err != nil {
		return fmt.Errorf("outbox %s: read call: %w", e.Notice.Type, err)
	}
	extra := map[string]any{"at": e.At.UTC(), "menu": e.Menu}
	for k, v := range e.Notice.Data {
		extra[k] = v
	}
	return d.addOutbox(ctx, tx, e.Notice.Type, c, extra)
}

// completeCall writes the call's call.completed, once: the first time it is
// called for the call after the call became final. closedBy says who ended
// it ("provider" or "ivr").
const completeCallSQL = `UPDATE calls SET completed_sent = 1, event_seq = event_seq + 1
WHERE id = $1 AND final = 1 AND completed_sent = 0 RETURNING ` + snapshotColumns

func (d *DB) completeCall(ctx context.Context, tx *sql.Tx, ref int64, closedBy string) error {
	// The WHERE re-checked under the row lock makes this a claim: of two
	// transactions finishing the same call, one sees completed_sent = 0.
	row := d.txQueryRow(ctx, tx, completeCallSQL, ref)
	c, err := scanSnapshot(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // not final, or already reported
	}
	if err != nil {
		return fmt.Errorf("complete call: %w", err)
	}
	return d.completedEvent(ctx, tx, c, closedBy)
}

// completedEvent writes call.completed of the call c (while the outbox is
// enabled), once its claim is made.
func (d *DB) completedEvent(ctx context.Context, tx *sql.Tx, c callSnapshot, closedBy string) error {
	if !d.outbox.Load() {
		return nil
	}
	return d.addOutbox(ctx, tx, EventCallCompleted, c, map[string]any{
		"ended_at":         timeOrNil(c.ended),
		"duration_seconds": c.duration,
		"hangup_cause":     c.cause,
		"closed_by":        closedBy,
	})
}

// CloseStaleCalls closes calls that started before startedBefore and never
// got a final status: their status becomes "unknown", ended_at now, and each
// gets its call.completed (closed_by "ivr"). It closes at most limit calls
// per call and returns how many it closed. Several instances may run it at
// once: each call is closed, and reported, once.
func (d *DB) CloseStaleCalls(ctx context.Context, startedBefore time.Time, limit int) (int, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT id FROM calls WHERE final = 0 AND started_at < $1 ORDER BY started_at LIMIT $2`,
		d.tv(startedBefore), max(limit, 1))
	if err != nil {
		return 0, fmt.Errorf("close stale calls: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("close stale calls: scan: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("close stale calls: %w", err)
	}
	closed := 0
	for _, id := range ids {
		did := false // reset on each run: writeRetry may run it again
		err := d.writeRetry(ctx, "close stale call", func(tx *sql.Tx) error {
			did = false
			res, err := tx.ExecContext(ctx, `UPDATE calls SET status = $2, final = 1, ended_at = COALESCE(ended_at, $3)
WHERE id = $1 AND final = 0`, id, StatusUnknown, d.tv(d.now()))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return err // closed meanwhile by its final callback or another instance
			}
			did = true
			if err := d.summariseCalls(ctx, tx, []int64{id}); err != nil {
				return err
			}
			return d.completeCall(ctx, tx, id, "ivr")
		})
		if err != nil {
			return closed, fmt.Errorf("close stale call %d: %w", id, err)
		}
		if did {
			closed++
		}
	}
	return closed, d.summariseStale(ctx, startedBefore, limit)
}

// summariseStale summarises up to limit final calls that started before
// startedBefore and are not summarised: their final status left the
// summary to a writer batch that never ran (the process died first; see
// writer_status.go).
func (d *DB) summariseStale(ctx context.Context, startedBefore time.Time, limit int) error {
	unsummarised := `hour = 0`
	if d.driver == DriverPostgres {
		unsummarised = `summarised = 0`
	}
	return d.writeRetry(ctx, "summarise stale calls", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM calls WHERE final = 1 AND `+unsummarised+` AND started_at < $1 ORDER BY started_at LIMIT $2`,
			d.tv(startedBefore), max(limit, 1))
		if err != nil {
			return fmt.Errorf("summarise stale calls: %w", err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("summarise stale calls: scan: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("summarise stale calls: %w", err)
		}
		return d.summariseCalls(ctx, tx, ids)
	})
}

const outboxColumns = `id, event_id, type, provider, call_id, seq, payload, created_at, state, attempts, next_at, last_error, last_status, delivered_at`

func scanOutbox(s scanner) (OutboxEvent, error) {
	var (
		e                        OutboxEvent
		payload                  string
		created, next, delivered timeCol
	)
	if err := s.Scan(&e.ID, &e.EventID, &e.Type, &e.Provider, &e.CallID, &e.Seq, &payload, &created,
		&e.State, &e.Attempts, &next, &e.LastError, &e.LastStatus, &delivered); err != nil {
		return OutboxEvent{}, err
	}
	e.Payload = json.RawMessage(payload)
	e.CreatedAt, e.NextAt = created.T, next.T
	if delivered.Valid {
		t := delivered.T
		e.DeliveredAt = &t
	}
	return e, nil
}

// ClaimOutbox leases up to limit due events to owner for lease: no other
// claimer gets them until the lease ends or the owner reports the attempt.
// On PostgreSQL, instances skip each other's locked rows (FOR UPDATE SKIP
// LOCKED); on SQLite, writers are serialised and the lease does the rest.
func (d *DB) ClaimOutbox(ctx context.Context, owner string, limit int, lease time.Duration) ([]OutboxEvent, error) {
	now := d.now()
	lock := ""
	if d.driver == DriverPostgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	q := `UPDATE outbox SET lease_owner = $1, lease_until = $2 WHERE id IN (
SELECT id FROM outbox WHERE state = 'pending' AND next_at <= $3 AND (lease_until IS NULL OR lease_until < $3)
ORDER BY next_at, id LIMIT $4` + lock + `) RETURNING ` + outboxColumns
	// Look first without the write lock: an idle outbox (the common case,
	// polled every second) then costs SQLite's writers nothing.
	var one int
	err := d.sql.QueryRowContext(ctx, `SELECT 1 FROM outbox WHERE state = 'pending' AND next_at <= $1
AND (lease_until IS NULL OR lease_until < $1) LIMIT 1`, d.tv(now)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("claim outbox events: %w", err)
	}
	var out []OutboxEvent
	err = d.writeRetry(ctx, "outbox claim", func(tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, q, owner, d.tv(now.Add(lease)), d.tv(now), max(limit, 1))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanOutbox(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox events: %w", err)
	}
	return out, nil
}

// OutboxDelivered records a successful attempt (HTTP status code).
func (d *DB) OutboxDelivered(ctx context.Context, id int64, status int) error {
	_, err := d.exec(ctx, `UPDATE outbox SET state = 'delivered', attempts = attempts + 1, delivered_at = $2,
last_status = $3, last_error = '', lease_owner = '', lease_until = NULL WHERE id = $1`, id, d.tv(d.now()), status)
	if err != nil {
		return fmt.Errorf("outbox event %d delivered: %w", id, err)
	}
	return nil
}

// OutboxFailed records a failed attempt by owner: the event is tried again
// at next, or given up (state failed) when giveUp. status is the HTTP status
// (0 when there was no answer); errMsg is kept capped.
func (d *DB) OutboxFailed(ctx context.Context, id int64, owner string, status int, errMsg string, next time.Time, giveUp bool) error {
	state := OutboxPending
	if giveUp {
		state = OutboxFailed
	}
	if len(errMsg) > 500 {
		errMsg = errMsg[:500]
	}
	_, err := d.exec(ctx, `UPDATE outbox SET state = $3, attempts = attempts + 1, last_status = $4, last_error = $5,
next_at = $6, lease_owner = '', lease_until = NULL WHERE id = $1 AND lease_owner = $2 AND state = 'pending'`,
		id, owner, state, status, txt(errMsg), d.tv(next))
	if err != nil {
		return fmt.Errorf("outbox event %d failed attempt: %w", id, err)
	}
	return nil
}

// RetryOutbox makes an event due now (again), whatever its state: a failed
// one is tried again, a delivered one is sent once more.
func (d *DB) RetryOutbox(ctx context.Context, id int64) error {
	res, err := d.exec(ctx, `UPDATE outbox SET state = 'pending', next_at = $2 WHERE id = $1`, id, d.tv(d.now()))
	if err != nil {
		return fmt.Errorf("retry outbox event %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("retry outbox event %d: %w", id, ErrNotFound)
	}
	return nil
}

// OutboxListOptions selects ListOutbox's events.
type OutboxListOptions struct {
	State  string // "" = any
	Type   string // "" = any
	CallID string // "" = any
	Before int64  // events with a smaller id (the next page); 0 = newest
	Limit  int    // default 50, at most 500
}

// ListOutbox returns events newest first.
func (d *DB) ListOutbox(ctx context.Context, o OutboxListOptions) ([]OutboxEvent, error) {
	var q filter
	if o.State != "" {
		q.and("state = " + q.arg(o.State))
	}
	if o.Type != "" {
		q.and("type = " + q.arg(o.Type))
	}
	if o.CallID != "" {
		q.and("call_id = " + q.arg(o.CallID))
	}
	if o.Before > 0 {
		q.and("id < " + q.arg(o.Before))
	}
	query := `SELECT ` + outboxColumns + ` FROM outbox` + q.where() +
		" ORDER BY id DESC LIMIT " + q.arg(PageSize(o.Limit))
	return queryAll(ctx, d.sql, "list outbox", scanOutbox, query, q.args...)
}

// OutboxPending counts the events waiting for delivery.
func (d *DB) OutboxPending(ctx context.Context) (int, error) {
	var n int
	if err := d.sql.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE state = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending outbox events: %w", err)
	}
	return n, nil
}

// OutboxCounts returns the number of events in each state.
func (d *DB) OutboxCounts(ctx context.Context) (map[string]int, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT state, count(*) FROM outbox GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("count outbox: %w", err)
	}
	defer rows.Close()
	out := map[string]int{OutboxPending: 0, OutboxDelivered: 0, OutboxFailed: 0}
	for rows.Next() {
		var (
			s string
			n int
		)
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("count outbox: %w", err)
		}
		out[s] = n
	}
	return out, rows.Err()
}
