// Package store keeps the collector's data — hosts, their findings and
// timeline, alerts, web users and sessions — behind one Store type with two
// backends sharing the same SQL and schema: embedded SQLite (modernc.org/
// sqlite, pure Go, WAL) by default and PostgreSQL (pgx) for larger fleets.
// Migrations are embedded and applied at Open, recorded in schema_migrations.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Dialect names a backend.
type Dialect string

// Backends.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is the collector's database. It is safe for concurrent use.
type Store struct {
	dialect Dialect
	w       *sql.DB // writes (SQLite: one connection, BEGIN IMMEDIATE)
	r       *sql.DB // reads (SQLite: several WAL readers; Postgres: same as w)
	ckpt    *sql.DB // SQLite: background WAL checkpoints
	stmts   stmtCache
	dsn     string
	// egressMinSpan: see SetEgressMinSpan.
	egressMinSpan time.Duration
	// dueSelected, when set (tests only), runs between DueDeliveries'
	// read of the due alerts and its claim of each.
	dueSelected func()
}

// ErrBusy marks a write that could not get the database in time (SQLite
// lock timeout, PostgreSQL serialization or connection exhaustion); the
// request may be retried.
var ErrBusy = errors.New("database busy")

// Open opens (creating if needed) the database named by dsn and applies
// pending migrations. dsn is "postgres://..." / "postgresql://..." for
// PostgreSQL; anything else is a SQLite file path (or "sqlite:PATH").
func Open(ctx context.Context, dsn string) (*Store, error) {
	s := &Store{dsn: redact(dsn)}
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		s.dialect = Postgres
		s.w, err = sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres %s: %w", s.dsn, err)
		}
		s.w.SetMaxOpenConns(16)
		s.w.SetMaxIdleConns(16)
		s.r = s.w
	} else {
		s.dialect = SQLite
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return nil, errors.New("open sqlite: empty path")
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		base := "file:" + (&url.URL{Path: abs}).EscapedPath() +
			"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"
		// Checkpoints run in the background (Maintain), never inside a
		// request's commit; the large autocheckpoint is only a safety net.
		s.w, err = sql.Open("sqlite", base+"&_txlock=immediate&_pragma=wal_autocheckpoint(100000)")
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", abs, err)
		}
		s.w.SetMaxOpenConns(1)
		s.w.SetMaxIdleConns(1)
		s.w.SetConnMaxLifetime(0)
		s.r, err = sql.Open("sqlite", base+"&_pragma=query_only(1)")
		if err != nil {
			s.w.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", abs, err)
		}
		s.r.SetMaxOpenConns(4)
		s.r.SetMaxIdleConns(4)
		s.ckpt, err = sql.Open("sqlite", base)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", abs, err)
		}
		s.ckpt.SetMaxOpenConns(1)
	}
	if err := s.w.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect to %s database %s: %w", s.dialect, s.dsn, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.warm(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Dialect returns the backend in use.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the database.
func (s *Store) Close() error {
	s.stmts.close()
	var errs []error
	if s.ckpt != nil {
		errs = append(errs, s.ckpt.Close())
	}
	if s.r != nil && s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// q rewrites ? placeholders to $n for PostgreSQL. The shared SQL never has
// a literal question mark.
func (s *Store) q(query string) string {
	if s.dialect != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Migration is one embedded schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the embedded migrations in order.
func Migrations() ([]Migration, error) {
	entries, err := migrationFS.ReadDir("migrations")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and _", name)
		}
		b, err := migrationFS.ReadFile("migrations/" + name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// statements splits a migration on semicolons at line ends, dropping
// comment-only lines.
func statements(src string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(src, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

// migrate applies pending migrations, each in its own transaction. On
// PostgreSQL an advisory lock serialises collectors starting together.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: get connection: %w", err)
	}
	defer conn.Close()
	if s.dialect == Postgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7305541)"); err != nil {
			return fmt.Errorf("migrate: advisory lock: %w", err)
		}
		defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(7305541)") //nolint:errcheck
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("migrate: scan version: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate %s: begin: %w", m.Name, err)
		}
		for _, st := range statements(m.SQL) {
			if _, err := tx.ExecContext(ctx, st); err != nil {
				tx.Rollback() //nolint:errcheck
				return fmt.Errorf("migrate %s: %w\nstatement: %s", m.Name, err, st)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"), m.Version, m.Name, time.Now().UnixMilli()); err != nil {
			tx.Rollback() //nolint:errcheck
			return fmt.Errorf("migrate %s: record: %w", m.Name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s: commit: %w", m.Name, err)
		}
	}
	return nil
}

// AppliedMigrations returns the versions recorded in schema_migrations.
func (s *Store) AppliedMigrations(ctx context.Context) ([]int, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("scan schema_migrations: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// busy maps lock-contention errors to ErrBusy.
func busy(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%w: %v", ErrBusy, err)
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01" || pe.Code == "53300") {
		return fmt.Errorf("%w: %v", ErrBusy, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %v", ErrBusy, err)
	}
	return err
}

// Checkpoint copies the SQLite write-ahead log into the database file
// without blocking writers (a PASSIVE checkpoint) and returns the WAL's
// frame count and how many were checkpointed. It is a no-op on PostgreSQL.
func (s *Store) Checkpoint(ctx context.Context) (walFrames, checkpointed int, err error) {
	if s.ckpt == nil {
		return 0, 0, nil
	}
	var busyFlag int
	if err := s.ckpt.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busyFlag, &walFrames, &checkpointed); err != nil {
		return 0, 0, fmt.Errorf("wal checkpoint: %w", err)
	}
	return walFrames, checkpointed, nil
}

// Maintain runs background upkeep until ctx ends: WAL checkpoints every
// interval (SQLite) and hourly removal of expired web sessions.
func (s *Store) Maintain(ctx context.Context, interval time.Duration, now func() time.Time) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	lastSweep := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if _, _, err := s.Checkpoint(ctx); err != nil && ctx.Err() == nil {
			return err
		}
		if n := now(); n.Sub(lastSweep) > time.Hour {
			lastSweep = n
			if _, err := s.w.ExecContext(ctx, s.q("DELETE FROM sessions WHERE expires_at < ?"), n.UnixMilli()); err != nil && ctx.Err() == nil {
				return fmt.Errorf("expire sessions: %w", err)
			}
		}
	}
}
