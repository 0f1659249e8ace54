package store

import (
	"context"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
)

// newDSN returns the DSN of a fresh, empty, isolated store.
type newDSN = func(t testing.TB) string

// The stores of each kind, from testutil.
var (
	forEachStore = testutil.ForEachStore
	sqliteDSN    = testutil.SQLiteDSN
)

// forEachStoreB runs a benchmark on a fresh store of each kind.
func forEachStoreB(b *testing.B, fn func(b *testing.B, d *DB)) {
	b.Helper()
	for _, dsn := range []struct {
		name string
		make func(testing.TB) string
	}{{"sqlite", sqliteDSN}, {"postgres", testutil.PostgresURL}} {
		b.Run(dsn.name, func(b *testing.B) { fn(b, openT(b, dsn.make(b))) })
	}
}

func openT(t testing.TB, dsn string) *DB {
	t.Helper()
	d, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// clock is a settable DB.now for tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// at is a fixed base time plus sec seconds.
func at(sec int) time.Time {
	return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(sec) * time.Second)
}

// storedEvents counts every event of every call the store holds (decoded
// from their calls' first requests and their call_requests rows).
func storedEvents(t *testing.T, d *DB) int {
	t.Helper()
	rows, err := d.sql.QueryContext(ctxT(t), `SELECT events FROM calls WHERE events IS NOT NULL UNION ALL SELECT events FROM call_requests`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		evs, err := decodeEvents(nil, b)
		if err != nil {
			t.Fatal(err)
		}
		n += len(evs)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// queryStrings runs query, whose rows are one text column each, and
// returns them in order.
func queryStrings(t *testing.T, d *DB, query string) []string {
	t.Helper()
	rows, err := d.sql.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
