package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
)

// Callback states.
const (
	CallbackOpen    = "open"    // to call back
	CallbackCalling = "calling" // a call is being placed, or rings
	CallbackDone    = "done"    // the caller was reached, or an admin closed it
	CallbackFailed  = "failed"  // the last attempt did not reach the caller; it can be retried
)

// Callback is a caller's request to be called back, and the attempts at it.
type Callback struct {
	ID             int64              `json:"id"`
	Provider       string             `json:"provider"`
	CallID         string             `json:"call_id"`
	Number         string             `json:"number"` // whom to call back, E.164
	To             string             `json:"to"`     // the number the caller called
	RequestedAt    time.Time          `json:"requested_at"`
	State          string             `json:"state"`
	Attempts       int                `json:"attempts"`
	Context        []ivr.ContextValue `json:"context"`
	Agent          string             `json:"agent"`
	ProviderCallID string             `json:"provider_call_id"`
	LastError      string             `json:"last_error"`
	UpdatedAt      time.Time          `json:"updated_at"`
}

// ErrCallbackBusy: the callback is being called (or is done), so it cannot
// be called again now.
var ErrCallbackBusy = errors.New("store: the callback is being called or is done")

// staleClaim is how long a claim that never got a provider call id (the
// instance died while calling the API) holds the callback.
const staleClaim = 2 * time.Minute

const callbackColumns = `id, provider, call_id, number, to_number, requested_at, state, attempts, context, agent, provider_call_id, last_error, updated_at`

func scanCallback(s scanner) (Callback, error) {
	var (
		c         Callback
		at, upd   timeCol
		contextJS string
	)
	err := s.Scan(&c.ID, &c.Provider, &c.CallID, &c.Number, &c.To, &at, &c.State, &c.Attempts, &contextJS, &c.Agent, &c.ProviderCallID, &c.LastError, &upd)
	if err != nil {
		return Callback{}, err
	}
	c.RequestedAt, c.UpdatedAt = at.T, upd.T
	if err := json.Unmarshal([]byte(contextJS), &c.Context); err != nil {
		return Callback{}, fmt.Errorf("callback %d: context: %w", c.ID, err)
	}
	if c.Context == nil {
		c.Context = []ivr.ContextValue{}
	}
	return c, nil
}

// AddCallback stores a request (state open). A second request for the same
// call (a provider retrying the webhook) returns the first; created tells.
func (d *DB) AddCallback(ctx context.Context, c Callback) (Callback, bool, error) {
	if c.Context == nil {
		c.Context = []ivr.ContextValue{}
	}
	js, err := json.Marshal(c.Context)
	if err != nil {
		return Callback{}, false, fmt.Errorf("add callback: %w", err)
	}
	now := d.now()
	if c.RequestedAt.IsZero() {
		c.RequestedAt = now
	}
	res, err := d.sql.ExecContext(ctx, `INSERT INTO callbacks (provider, call_id, number, to_number, requested_at, context, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (provider, call_id) DO NOTHING`,
		c.Provider, txt(c.CallID), txt(c.Number), txt(c.To), d.tv(c.RequestedAt), txt(string(js)), d.tv(now))
	if err != nil {
		return Callback{}, false, fmt.Errorf("add callback for %s/%s: %w", c.Provider, c.CallID, err)
	}
	n, _ := res.RowsAffected()
	row := d.sql.QueryRowContext(ctx, `SELECT `+callbackColumns+` FROM callbacks WHERE provider = $1 AND call_id = $2`, c.Provider, txt(c.CallID))
	got, err := scanCallback(row)
	if err != nil {
		return Callback{}, false, fmt.Errorf("add callback for %s/%s: read back: %w", c.Provider, c.CallID, err)
	}
	return got, n == 1, nil
}

// ListCallbacks returns callbacks newest first; state "" = every state.
func (d *DB) ListCallbacks(ctx context.Context, state string, limit int) ([]Callback, error) {
	q := `SELECT ` + callbackColumns + ` FROM callbacks`
	var args []any
	switch state {
	case "":
	case CallbackOpen, CallbackCalling, CallbackDone, CallbackFailed:
		q += ` WHERE state = $1`
		args = append(args, state)
	default:
		return nil, fmt.Errorf("list callbacks: state must be open, calling, done or failed (got %q)", state)
	}
	q += ` ORDER BY requested_at DESC, id DESC LIMIT ` + strconv.Itoa(PageSize(limit))
	return queryAll(ctx, d.sql, "list callbacks", scanCallback, q, args...)
}

// GetCallback returns one callback, or ErrNotFound.
func (d *DB) GetCallback(ctx context.Context, id int64) (Callback, error) {
	c, err := scanCallback(d.sql.QueryRowContext(ctx, `SELECT `+callbackColumns+` FROM callbacks WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Callback{}, fmt.Errorf("get callback %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Callback{}, fmt.Errorf("get callback %d: %w", id, err)
	}
	return c, nil
}

// ClaimCallback starts an attempt: an open or failed callback (or one
// whose last claim went stale without a call) becomes calling, with one
// more attempt, for agent. Of two admins pressing "Call back" at once one
// gets the callback and the other ErrCallbackBusy; ErrNotFound when there
// is no such callback.
func (d *DB) ClaimCallback(ctx context.Context, id int64, agent string) (Callback, error) {
	now := d.now()
	row := d.sql.QueryRowContext(ctx, `UPDATE callbacks SET state = 'calling', attempts = attempts + 1, agent = $2,
provider_call_id = '', last_error = '', claimed_at = $3, updated_at = $3
WHERE id = $1 AND (state IN ('open', 'failed') OR (state = 'calling' AND provider_call_id = '' AND claimed_at < $4))
RETURNING `+callbackColumns, id, txt(agent), d.tv(now), d.tv(now.Add(-staleClaim)))
	c, err := scanCallback(row)
	if errors.Is(err, sql.ErrNoRows) {
		if _, gerr := d.GetCallback(ctx, id); gerr != nil {
			return Callback{}, fmt.Errorf("claim callback %d: %w", id, gerr)
		}
		return Callback{}, fmt.Errorf("claim callback %d: %w", id, ErrCallbackBusy)
	}
	if err != nil {
		return Callback{}, fmt.Errorf("claim callback %d: %w", id, err)
	}
	return c, nil
}

// CallbackPlaced records the provider's id for the call of the current
// attempt.
func (d *DB) CallbackPlaced(ctx context.Context, id int64, providerCallID string) error {
	now := d.now()
	_, err := d.sql.ExecContext(ctx, `UPDATE callbacks SET provider_call_id = $2, placed_at = COALESCE(placed_at, $3), updated_at = $3
WHERE id = $1 AND state = 'calling'`, id, txt(providerCallID), d.tv(now))
	if err != nil {
		return fmt.Errorf("callback %d placed: %w", id, err)
	}
	return nil
}

// CallbackNotPlaced reopens a callback whose call could not be placed (the
// provider API refused or did not answer), keeping the error to show.
func (d *DB) CallbackNotPlaced(ctx context.Context, id int64, reason string) error {
	_, err := d.sql.ExecContext(ctx, `UPDATE callbacks SET state = 'open', last_error = $2, updated_at = $3
WHERE id = $1 AND state = 'calling'`, id, txt(truncateText(reason, 500)), d.tv(d.now()))
	if err != nil {
		return fmt.Errorf("callback %d not placed: %w", id, err)
	}
	return nil
}

// CallbackOutcome records how the call of the attempt with providerCallID
// ended: reached = the caller was connected (done), else failed with
// reason. A report about an older attempt changes nothing; providerCallID
// "" matches the current attempt whatever its id.
func (d *DB) CallbackOutcome(ctx context.Context, id int64, providerCallID string, reached bool, reason string) error {
	state := CallbackFailed
	if reached {
		state, reason = CallbackDone, ""
	}
	_, err := d.sql.ExecContext(ctx, `UPDATE callbacks SET state = $3, last_error = $4, updated_at = $5
WHERE id = $1 AND ($2 = '' OR provider_call_id = $2) AND state = 'calling'`, id, txt(providerCallID), state, txt(truncateText(reason, 500)), d.tv(d.now()))
	if err != nil {
		return fmt.Errorf("callback %d outcome: %w", id, err)
	}
	return nil
}

// CallbackDone closes a callback by hand; ErrNotFound when there is none.
func (d *DB) CallbackDone(ctx context.Context, id int64) (Callback, error) {
	row := d.sql.QueryRowContext(ctx, `UPDATE callbacks SET state = 'done', updated_at = $2 WHERE id = $1 RETURNING `+callbackColumns, id, d.tv(d.now()))
	c, err := scanCallback(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Callback{}, fmt.Errorf("callback %d done: %w", id, ErrNotFound)
	}
	if err != nil {
		return Callback{}, fmt.Errorf("callback %d done: %w", id, err)
	}
	return c, nil
}

// CallbackCounts are the callbacks requested in a period and those for
// which a call was placed.
type CallbackCounts struct {
	Requested int `json:"requested"`
	Made      int `json:"made"`
}

// CountCallbacks counts the callbacks requested in [since, until), to a
// number (to "" = any) on a provider ("" = any).
func (d *DB) CountCallbacks(ctx context.Context, since, until time.Time, to, provider string) (CallbackCounts, error) {
	var c CallbackCounts
	err := d.sql.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(placed_at) FROM callbacks
WHERE requested_at >= $1 AND requested_at < $2 AND ($3 = '' OR to_number = $3) AND ($4 = '' OR provider = $4)`,
		d.tv(since), d.tv(until), to, provider).Scan(&c.Requested, &c.Made)
	if err != nil {
		return CallbackCounts{}, fmt.Errorf("count callbacks: %w", err)
	}
	return c, nil
}
