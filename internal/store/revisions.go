package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Flow revisions: every flow published from the admin (or seen on disk in
// file mode) is kept with who, when, a note and its full text. A revision's
// number is what the admin API names (base_revision, rollback); its Hash is
// the flow's content hash (ivr.Flow.Revision), which call events carry as
// their "revision", so events keep grouping by the flow they ran on and the
// two are mapped through this table.

// FlowRevision is one published flow.
type FlowRevision struct {
	ID     int64     `json:"revision"`
	At     time.Time `json:"at"`
	Author string    `json:"author"`
	Note   string    `json:"note"`
	Hash   string    `json:"hash"`
	Text   string    `json:"text,omitempty"`
	// Closure is the closure switch as of this revision (nil = off); a
	// publish carries the newest revision's on.
	Closure *Closure `json:"closure,omitempty"`
}

// ErrConflict is returned by PublishFlow when base is not the newest
// revision any more: someone published since the draft was opened.
var ErrConflict = errors.New("store: the flow was published since this draft was opened")

// PublishFlow stores rev (its Author, Note, Hash and Text) as revision
// base+1 if base is the newest revision (0 = none yet); otherwise it returns
// ErrConflict (wrapped) and stores nothing. Concurrent publishes on one
// database serialise: exactly one of two with the same base wins. The
// closure switch of revision base carries on (rev.Closure is ignored).
func (d *DB) PublishFlow(ctx context.Context, base int64, rev FlowRevision) (FlowRevision, error) {
	if rev.At.IsZero() {
		rev.At = d.now()
	}
	rev.At = rev.At.UTC().Truncate(time.Microsecond)
	err := d.write(ctx, func(tx *sql.Tx) error {
		if err := d.lockRevisions(ctx, tx); err != nil {
			return err
		}
		var latest sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT max(id) FROM flow_revisions`).Scan(&latest); err != nil {
			return err
		}
		if latest.Int64 != base {
			return fmt.Errorf("%w (live revision %d, draft based on %d)", ErrConflict, latest.Int64, base)
		}
		closure := ""
		if base > 0 {
			if err := tx.QueryRowContext(ctx, `SELECT closure FROM flow_revisions WHERE id = $1`, base).Scan(&closure); err != nil {
				return err
			}
		}
		c, err := decodeClosure(closure)
		if err != nil {
			return err
		}
		rev.ID, rev.Closure = base+1, c
		_, err = tx.ExecContext(ctx, `INSERT INTO flow_revisions (id, at, author, note, hash, text, closure) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			rev.ID, d.tv(rev.At), txt(rev.Author), txt(rev.Note), rev.Hash, txt(rev.Text), closure)
		return err
	})
	if err != nil {
		return FlowRevision{}, fmt.Errorf("publish flow revision: %w", err)
	}
	return rev, nil
}

// LatestFlow returns the newest revision with its text, or ErrNotFound when
// none was ever published.
func (d *DB) LatestFlow(ctx context.Context) (FlowRevision, error) {
	return d.flowRevision(ctx, `SELECT id, at, author, note, hash, text, closure FROM flow_revisions ORDER BY id DESC LIMIT 1`)
}

// FlowRevisionByID returns revision id with its text, or ErrNotFound.
func (d *DB) FlowRevisionByID(ctx context.Context, id int64) (FlowRevision, error) {
	return d.flowRevision(ctx, `SELECT id, at, author, note, hash, text, closure FROM flow_revisions WHERE id = $1`, id)
}

func (d *DB) flowRevision(ctx context.Context, q string, args ...any) (FlowRevision, error) {
	var r FlowRevision
	var at timeCol
	var closure string
	err := d.sql.QueryRowContext(ctx, q, args...).Scan(&r.ID, &at, &r.Author, &r.Note, &r.Hash, &r.Text, &closure)
	if errors.Is(err, sql.ErrNoRows) {
		return FlowRevision{}, fmt.Errorf("flow revision: %w", ErrNotFound)
	}
	if err != nil {
		return FlowRevision{}, fmt.Errorf("read flow revision: %w", err)
	}
	r.At = at.T
	if r.Closure, err = decodeClosure(closure); err != nil {
		return FlowRevision{}, fmt.Errorf("read flow revision %d: %w", r.ID, err)
	}
	return r, nil
}

// LatestFlowID is the newest revision's number (0 = none): what every
// instance polls to notice a publish.
func (d *DB) LatestFlowID(ctx context.Context) (int64, error) {
	var id sql.NullInt64
	if err := d.sql.QueryRowContext(ctx, `SELECT max(id) FROM flow_revisions`).Scan(&id); err != nil {
		return 0, fmt.Errorf("read latest flow revision: %w", err)
	}
	return id.Int64, nil
}

// FlowRevisions lists up to limit revisions, newest first, without their text.
func (d *DB) FlowRevisions(ctx context.Context, limit int) ([]FlowRevision, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := d.sql.QueryContext(ctx, `SELECT id, at, author, note, hash FROM flow_revisions ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list flow revisions: %w", err)
	}
	defer rows.Close()
	out := []FlowRevision{}
	for rows.Next() {
		var r FlowRevision
		var at timeCol
		if err := rows.Scan(&r.ID, &at, &r.Author, &r.Note, &r.Hash); err != nil {
			return nil, fmt.Errorf("list flow revisions: %w", err)
		}
		r.At = at.T
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list flow revisions: %w", err)
	}
	return out, nil
}

// FlowRevisionNumbers maps content hashes (what call events carry) to the
// newest revision number with that text; hashes never published are absent.
func (d *DB) FlowRevisionNumbers(ctx context.Context) (map[string]int64, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT hash, max(id) FROM flow_revisions GROUP BY hash`)
	if err != nil {
		return nil, fmt.Errorf("map flow revisions: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var h string
		var id int64
		if err := rows.Scan(&h, &id); err != nil {
			return nil, fmt.Errorf("map flow revisions: %w", err)
		}
		out[h] = id
	}
	return out, rows.Err()
}
