package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// envPostgresURL names a PostgreSQL database the tests may create schemas in
// (scripts/with-postgres.sh sets it up).
const envPostgresURL = "IVR_TEST_POSTGRES_URL"

// newDSN returns the DSN of a fresh, empty, isolated store.
type newDSN func(t testing.TB) string

// forEachStore runs fn once on SQLite and once on PostgreSQL.
func forEachStore(t *testing.T, fn func(t *testing.T, dsn newDSN)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, sqliteDSN) })
	t.Run("postgres", func(t *testing.T) {
		requirePostgres(t)
		fn(t, postgresDSN)
	})
}

// requirePostgres skips (locally) or fails (CI=true) without a database.
func requirePostgres(t testing.TB) string {
	t.Helper()
	u := os.Getenv(envPostgresURL)
	if u != "" {
		return u
	}
	msg := "!!! " + envPostgresURL + " is not set: PostgreSQL store NOT tested. Run: scripts/with-postgres.sh go test ./internal/store/..."
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func sqliteDSN(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "ivr.db")
}

// postgresDSN creates a schema of its own for the test (dropped at the end)
// and returns the URL with search_path set to it.
func postgresDSN(t testing.TB) string {
	t.Helper()
	base := requirePostgres(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open admin connection: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA IF EXISTS ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
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

// Enqueue is EnqueueOwned with a copy of events, so a test keeps its slice.
func (w *Writer) Enqueue(provider, callID, from, to string, events []Event) bool {
	return w.EnqueueOwned(provider, callID, from, to, append([]Event(nil), events...))
}
