package testutil

import (
	"path/filepath"
	"testing"
)

// SQLiteDSN is the DSN of a fresh SQLite file in the test's temporary
// directory.
func SQLiteDSN(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "ivr.db") }

// ForEachStore runs fn once on SQLite and once on PostgreSQL (skipped
// without a test database, failed with CI=true). newDSN returns the DSN of a
// fresh, empty, isolated store each time it is called.
func ForEachStore(t *testing.T, fn func(t *testing.T, newDSN func(testing.TB) string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLiteDSN) })
	t.Run("postgres", func(t *testing.T) {
		PostgresBase(t)
		fn(t, PostgresURL)
	})
}
