package testutil

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// EnvPostgresURL names a PostgreSQL database the tests may create schemas in
// (scripts/with-postgres.sh, run by scripts/test.sh, sets it).
const EnvPostgresURL = "IVR_TEST_POSTGRES_URL"

// PostgresBase returns the test database's URL, or skips or fails the test
// (SkipOrFail) when EnvPostgresURL is not set.
func PostgresBase(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvPostgresURL)
	if u == "" {
		SkipOrFail(t, EnvPostgresURL+" is not set: PostgreSQL NOT tested; run the tests through `bash scripts/test.sh` (it starts a throwaway PostgreSQL)")
	}
	return u
}

// PostgresURL creates a schema of the test's own (dropped when the test
// ends) and returns the database URL with search_path set to it. It skips
// or fails like PostgresBase without a database.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := PostgresBase(t)
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
