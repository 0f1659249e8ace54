package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// migration is one versioned schema change, NNNN_name.sql.
type migration struct {
	Version int
	Name    string
	SQL     string
}

// migrations returns the driver's migrations in version order.
func migrations(driver string) ([]migration, error) {
	dir := "migrations/" + driver
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []migration
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s/%s: name must be NNNN_name.sql", dir, name)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migration %s/%s: version %d already used by %s", dir, name, v, prev)
		}
		seen[v] = name
		body, err := fs.ReadFile(migrationFiles, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		out = append(out, migration{Version: v, Name: strings.TrimSuffix(name, ".sql"), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// migrate brings the schema up to date. Each migration runs in its own
// transaction together with its schema_migrations row. Concurrent Opens are
// safe: on PostgreSQL they serialise on an advisory lock keyed by the
// current schema; on SQLite every write transaction is BEGIN IMMEDIATE, and
// the applied versions are read inside it.
// Migrations after version upTo are left out (0: none is).
func (d *DB) migrate(ctx context.Context, upTo int) error {
	ms, err := migrations(d.driver)
	if err != nil {
		return err
	}
	if upTo > 0 {
		ms = slices.DeleteFunc(ms, func(m migration) bool { return m.Version > upTo })
	}
	if d.driver == DriverPostgres {
		return d.migratePostgres(ctx, ms)
	}
	return d.migrateSQLite(ctx, ms)
}

const sqliteMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
)`

const postgresMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER     PRIMARY KEY,
    name       TEXT        NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL
)`

func (d *DB) migrateSQLite(ctx context.Context, ms []migration) error {
	if err := d.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, sqliteMigrationsTable)
		return err
	}); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range ms {
		err := d.write(ctx, func(tx *sql.Tx) error {
			return d.applyOne(ctx, tx, m)
		})
		if err != nil {
			return err
		}
	}
	return d.checkNotNewer(ctx, d.sql, ms)
}

func (d *DB) migratePostgres(ctx context.Context, ms []migration) error {
	conn, err := d.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	// Session-level lock, scoped to the schema the tables land in, so two
	// instances starting at once on one database apply each migration once.
	const key = `hashtext('ivr/store/migrate:' || coalesce(current_schema(), ''))`
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+key+`)`); err != nil {
		return fmt.Errorf("migrate: take advisory lock: %w", err)
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`); err != nil {
			discardConn(conn) // closing the session releases the lock
		}
	}()
	if _, err := conn.ExecContext(ctx, postgresMigrationsTable); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range ms {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %s: begin: %w", m.Name, err)
		}
		if err := d.applyOne(ctx, tx, m); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: commit: %w", m.Name, err)
		}
	}
	return d.checkNotNewer(ctx, conn, ms)
}

// applyOne applies m inside tx unless schema_migrations already lists it.
func (d *DB) applyOne(ctx context.Context, tx *sql.Tx, m migration) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil {
		return fmt.Errorf("migration %s: read schema_migrations: %w", m.Name, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.Version, m.Name, d.tv(d.now())); err != nil {
		return fmt.Errorf("migration %s: record: %w", m.Name, err)
	}
	return nil
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// checkNotNewer refuses a database migrated by a newer binary.
func (d *DB) checkNotNewer(ctx context.Context, q queryRower, ms []migration) error {
	var maxV sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&maxV); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	known := 0
	if len(ms) > 0 {
		known = ms[len(ms)-1].Version
	}
	if maxV.Valid && int(maxV.Int64) > known {
		return fmt.Errorf("database schema version %d is newer than this program's %d", maxV.Int64, known)
	}
	return nil
}

// SchemaVersion reports the highest applied migration version.
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := d.sql.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return int(v.Int64), nil
}
