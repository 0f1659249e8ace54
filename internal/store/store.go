// Package store keeps call records, call events, SMS messages and Plivo nonces
// on SQLite (modernc.org/sqlite, pure Go) or PostgreSQL (pgx through
// database/sql).
//
// Both back ends share one schema (migrations/{sqlite,postgres}, applied at
// Open) and one set of queries: statements use $N placeholders, which both
// drivers accept, and only time values are encoded differently (INTEGER unix
// microseconds on SQLite, TIMESTAMPTZ on PostgreSQL). Times are stored with
// microsecond precision and returned in UTC.
//
// Every write is a committed transaction by the time the method returns: on
// SQLite the database runs in WAL mode with synchronous=FULL, on PostgreSQL
// the server's synchronous_commit applies (on by default).
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"               // registers the "sqlite" database/sql driver
)

// Driver names reported by (*DB).Driver.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// ErrNotFound is returned by GetCall when no such call is stored.
var ErrNotFound = errors.New("store: not found")

// ErrBadCursor is returned by ListCalls for a cursor it did not issue.
var ErrBadCursor = errors.New("store: bad cursor")

// sqliteBusyTimeout is how long a SQLite connection waits for another
// process's write lock before failing with SQLITE_BUSY.
const sqliteBusyTimeout = 10 * time.Second

// DB is a call-record store. It is safe for concurrent use.
type DB struct {
	sql    *sql.DB
	driver string
	// wsem serialises write transactions on SQLite inside this process, so
	// that writers queue in Go instead of spinning in SQLite's busy handler.
	// nil on PostgreSQL, whose writers run concurrently.
	wsem   chan struct{}
	now    func() time.Time
	stmts  map[string]*sql.Stmt // preparedQueries, prepared at Open (events_batch.go)
	sized  *sqliteSized         // SQLite's statements per chunk size (nil on PostgreSQL)
	group  commitGroup          // status callbacks committed together (group.go)
	claims claimGroup           // PostgreSQL's final status claims run together (status_group_postgres.go)
	// outbox: write webhook events (EnableOutbox).
	outbox atomic.Bool
	// schema is the last migration applied when an older schema was opened
	// on purpose (the upgrade test); 0 = all of them.
	schema int
}

// Open connects to the store named by dsn and applies pending migrations.
//
// Accepted forms:
//
//	sqlite:PATH            a SQLite file (created when missing), e.g. sqlite:ivr.db
//	sqlite:///abs/path.db  the same with an absolute path
//	sqlite::memory:        a private in-memory database (one connection; tests, demos)
//	postgres://... postgresql://...   a PostgreSQL URL as understood by pgx
//	                       (runtime parameters such as search_path may be given in the query)
func Open(ctx context.Context, dsn string) (*DB, error) {
	d, err := openSchema(ctx, dsn, 0)
	if err != nil {
		return nil, err
	}
	if err := d.prepare(ctx); err != nil {
		d.sql.Close()
		return nil, fmt.Errorf("open store %s: %w", redact(dsn), err)
	}
	return d, nil
}

// openSchema connects to the store and applies the migrations up to
// version upTo (0: all of them). Only Open's store, with every migration
// and its statements prepared, serves the methods; the upgrade test opens
// an older schema with it.
func openSchema(ctx context.Context, dsn string, upTo int) (*DB, error) {
	var (
		d   *DB
		err error
	)
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		d, err = openSQLite(strings.TrimPrefix(dsn, "sqlite:"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		d, err = openPostgres(dsn)
	default:
		return nil, fmt.Errorf("open store: unsupported database URL %q: want sqlite:PATH or postgres://", redact(dsn))
	}
	if err != nil {
		return nil, err
	}
	if err := d.ping(ctx); err != nil {
		d.sql.Close()
		return nil, fmt.Errorf("open store %s: %w", redact(dsn), err)
	}
	if err := d.migrate(ctx, upTo); err != nil {
		d.sql.Close()
		return nil, fmt.Errorf("open store %s: %w", redact(dsn), err)
	}
	d.schema = upTo
	return d, nil
}

// has reports whether the store's schema includes migration version.
func (d *DB) has(version int) bool { return d.schema == 0 || d.schema >= version }

// ping checks the connection. On SQLite, a first connection can get
// SQLITE_BUSY without waiting for the busy timeout while another process
// creates the same file or turns it to WAL mode (several instances starting
// at once); it is tried again for up to sqliteBusyTimeout.
func (d *DB) ping(ctx context.Context) error {
	wait := 5 * time.Millisecond
	deadline := time.Now().Add(sqliteBusyTimeout)
	for {
		err := d.sql.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || d.driver != DriverSQLite || !errors.As(err, &se) || se.Code()&0xff != sqliteBusy || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// sqliteBusy is SQLITE_BUSY, the primary result code of "database is locked".
const sqliteBusy = 5

func openSQLite(path string) (*DB, error) {
	path = strings.TrimPrefix(path, "//") // sqlite:///abs/path
	if path == "" {
		return nil, errors.New("open store: sqlite: empty path")
	}
	memory := path == ":memory:"
	q := url.Values{}
	q.Set("_txlock", "immediate") // writers take the lock at BEGIN: no upgrade deadlocks
	q.Set("_busy_timeout", fmt.Sprint(sqliteBusyTimeout.Milliseconds()))
	q.Set("_foreign_keys", "1")
	// Statement journals (each multi-row upsert's, for its rollback on a
	// constraint error) stay in memory instead of a temporary file: one
	// pwrite less per dirty page.
	q.Add("_pragma", "temp_store(memory)")
	if !memory {
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", "FULL") // fsync the WAL at every commit: acknowledged means stored
	}
	name := "file:" + path + "?" + q.Encode()
	if memory {
		name = "file::memory:?" + q.Encode()
	}
	sdb, err := sql.Open("sqlite", name)
	if err != nil {
		return nil, fmt.Errorf("open store: sqlite %s: %w", path, err)
	}
	if memory {
		// Every connection to :memory: is its own database: keep exactly one.
		sdb.SetMaxOpenConns(1)
		sdb.SetConnMaxIdleTime(0)
		sdb.SetConnMaxLifetime(0)
	} else {
		sdb.SetMaxOpenConns(8)
		sdb.SetMaxIdleConns(8)
	}
	return &DB{sql: sdb, driver: DriverSQLite, wsem: make(chan struct{}, 1), now: time.Now,
		group: commitGroup{leader: make(chan struct{}, 1)}}, nil
}

func openPostgres(dsn string) (*DB, error) {
	// database/sql over pgx/stdlib rather than a pgxpool: one code path
	// (queries, transactions, scanning) serves both back ends, and
	// database/sql's pool is all this workload needs.
	if _, err := pgconn.ParseConfig(dsn); err != nil {
		// pgx's message quotes the URL with its own masking, which shows
		// part of a password holding "@": keep only the reason.
		reason := strings.ReplaceAll(parseReason(err), dsn, redact(dsn))
		return nil, fmt.Errorf("open store %s: the URL does not parse: %s", redact(dsn), reason)
	}
	sdb, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", redact(dsn), err)
	}
	sdb.SetMaxOpenConns(16)
	sdb.SetMaxIdleConns(16)
	sdb.SetConnMaxIdleTime(5 * time.Minute)
	sdb.SetConnMaxLifetime(time.Hour)
	return &DB{sql: sdb, driver: DriverPostgres, now: time.Now}, nil
}

// parseReason is why pgx could not parse a URL, without the URL.
func parseReason(err error) string {
	if cause := errors.Unwrap(err); cause != nil {
		return cause.Error()
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, "`: "); i >= 0 {
		return msg[i+len("`: "):]
	}
	return "see the PostgreSQL connection URL format"
}

// redact hides the passwords in a database URL (in its user info and in a
// password= parameter), for errors and logs. A URL that does not parse is
// masked by its shape: everything between the user name and the last "@".
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		if u.User != nil {
			if _, ok := u.User.Password(); ok {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
			}
		}
		if q := u.Query(); q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	out := dsn
	if i := strings.Index(out, "://"); i >= 0 {
		rest := out[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			user, _, hasPass := strings.Cut(rest[:at], ":")
			if hasPass {
				out = out[:i+3] + user + ":xxxxx" + rest[at:]
			}
		}
	}
	return passwordParam.ReplaceAllString(out, "${1}xxxxx")
}

// passwordParam is a password= parameter in a URL's query.
var passwordParam = regexp.MustCompile(`([?&]password=)[^&#]*`)

// Driver reports the back end: "sqlite" or "postgres".
func (d *DB) Driver() string { return d.driver }

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s store: %w", d.driver, err)
	}
	return nil
}

// Close closes the database.
func (d *DB) Close() error {
	d.closeStmts()
	return d.sql.Close()
}

// exec runs one write statement on its own (autocommit): committed when it
// returns, without the BEGIN/COMMIT round trips of write.
func (d *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if d.wsem != nil {
		select {
		case d.wsem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		defer func() { <-d.wsem }()
	}
	return d.sql.ExecContext(ctx, query, args...)
}

// write runs fn in a transaction and commits it. On SQLite, write
// transactions of this process are serialised first.
func (d *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if d.wsem != nil {
		select {
		case d.wsem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-d.wsem }()
	}
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// tv encodes a time for a query argument.
func (d *DB) tv(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if d.driver == DriverSQLite {
		return t.UnixMicro()
	}
	return t
}

// tvNull encodes an optional time (nil = SQL NULL).
func (d *DB) tvNull(t *time.Time) any {
	if t == nil {
		return nil
	}
	return d.tv(*t)
}

// timeCol scans a time stored by tv: an int64 of unix microseconds (SQLite)
// or a time.Time (PostgreSQL); NULL leaves Valid false.
type timeCol struct {
	T     time.Time
	Valid bool
}

func (c *timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		c.T, c.Valid = time.Time{}, false
	case int64:
		c.T, c.Valid = time.UnixMicro(v).UTC(), true
	case time.Time:
		c.T, c.Valid = v.UTC(), true
	default:
		return fmt.Errorf("scan time: unexpected %T", src)
	}
	return nil
}

var _ sql.Scanner = (*timeCol)(nil)

// discardConn marks a dedicated connection broken so database/sql closes it
// instead of returning it to the pool (used when session state such as an
// advisory lock could not be cleaned up).
func discardConn(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
}

// txt makes a string storable in both databases: PostgreSQL text refuses NUL
// bytes and invalid UTF-8, which could otherwise wedge a write forever.
func txt(s string) string {
	if utf8.ValidString(s) && !strings.Contains(s, "\x00") {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}
