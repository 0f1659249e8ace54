package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Closure is the line's closure switch as stored on a flow revision: while
// it is on, new calls hear Message and then Then. It rides on the flow
// revisions so that each change is one revision (same text) with who and
// when, and every instance picks it up with the revision it follows.
type Closure struct {
	Message string     `json:"message"`
	Then    string     `json:"then"`  // voicemail, hangup or transfer
	Until   *time.Time `json:"until"` // nil = until lifted
	By      string     `json:"set_by"`
	At      time.Time  `json:"set_at"`
}

// OnAt reports whether c is on at t (nil is never on).
func (c *Closure) OnAt(t time.Time) bool {
	return c != nil && (c.Until == nil || t.Before(*c.Until))
}

// encodeClosure is the closure column: JSON, or "" for none.
func encodeClosure(c *Closure) (string, error) {
	if c == nil {
		return "", nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode closure: %w", err)
	}
	return string(b), nil
}

func decodeClosure(s string) (*Closure, error) {
	if s == "" {
		return nil, nil
	}
	var c Closure
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return nil, fmt.Errorf("decode closure: %w", err)
	}
	return &c, nil
}

// ErrNoFlow is returned by SetClosure before any flow revision exists.
var ErrNoFlow = errors.New("store: no flow revision yet")

// SetClosure records a closure change (c nil = lifted) as a new revision
// with the newest revision's text, by author with note. Flow publishes
// after it carry the closure on.
func (d *DB) SetClosure(ctx context.Context, c *Closure, author, note string) (FlowRevision, error) {
	col, err := encodeClosure(c)
	if err != nil {
		return FlowRevision{}, err
	}
	rev := FlowRevision{At: d.now().UTC().Truncate(time.Microsecond), Author: author, Note: note, Closure: c}
	err = d.write(ctx, func(tx *sql.Tx) error {
		if err := d.lockRevisions(ctx, tx); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `SELECT id, hash, text FROM flow_revisions ORDER BY id DESC LIMIT 1`).Scan(&rev.ID, &rev.Hash, &rev.Text)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNoFlow
		}
		if err != nil {
			return err
		}
		rev.ID++
		_, err = tx.ExecContext(ctx, `INSERT INTO flow_revisions (id, at, author, note, hash, text, closure) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			rev.ID, d.tv(rev.At), txt(author), txt(note), rev.Hash, rev.Text, col)
		return err
	})
	if err != nil {
		return FlowRevision{}, fmt.Errorf("set closure: %w", err)
	}
	return rev, nil
}

// lockRevisions serialises writers of flow_revisions on PostgreSQL (SQLite
// serialises every write transaction already).
func (d *DB) lockRevisions(ctx context.Context, tx *sql.Tx) error {
	if d.driver != DriverPostgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `LOCK TABLE flow_revisions IN EXCLUSIVE MODE`)
	return err
}
