// Package storetest opens collector stores for tests: a PostgreSQL one on a
// fresh schema when FARMWATCH_TEST_POSTGRES names a server, skipping otherwise.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/farmwatch/farmwatch/internal/collector/store"
)

// PostgresEnv names the environment variable holding a PostgreSQL DSN
// for storage tests.
const PostgresEnv = "FARMWATCH_TEST_POSTGRES"

// PostgresDSN returns a DSN for a fresh schema (dropped at test cleanup) of
// the PostgreSQL named by $FARMWATCH_TEST_POSTGRES, and skips the test when
// the variable is unset.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" && os.Getenv("FARMWATCH_E2E") == "1" {
		t.Fatalf("%s is unset under FARMWATCH_E2E=1: `make test` starts PostgreSQL (Debian package postgresql) and sets it", PostgresEnv)
	}
	if dsn == "" {
		t.Skipf("PostgreSQL storage test skipped: set %s to a DSN (postgres://user:pass@127.0.0.1:5432/db) to run it; `make test` starts one", PostgresEnv)
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	schema := "fwtest_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open %s: %v", PostgresEnv, err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", dsn)
		if err == nil {
			a.Exec("DROP SCHEMA " + schema + " CASCADE") //nolint:errcheck
			a.Close()
		}
	})
	return withSearchPath(dsn, schema)
}

// OpenPostgres opens a Store on PostgresDSN, closed at test cleanup.
func OpenPostgres(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), PostgresDSN(t))
	if err != nil {
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func withSearchPath(dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
