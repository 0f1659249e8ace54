package testutil

import (
	"database/sql"
	"testing"
)

// TestPostgresCPU: a query that keeps the server busy shows up in the
// server's CPU time (the test database runs on this machine under
// scripts/with-postgres.sh).
func TestPostgresCPU(t *testing.T) {
	url := PostgresBase(t)
	cpu := PostgresCPU(t, url)
	if cpu == nil {
		t.Skip("the PostgreSQL server is not a process of this machine")
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before := cpu()
	var n int64
	if err := db.QueryRow(`SELECT count(*) FROM generate_series(1, 3000000) g WHERE g % 7 = 0`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	db.Close() // the backend exits: its time moves to the postmaster's children times
	if used := cpu() - before; used <= 0 || n != 428571 {
		t.Fatalf("server CPU for a 3M-row scan: %v (count %d); want > 0", used, n)
	}
}
