package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// stmtCache keeps prepared statements of the writer pool: SQLite parsing
// dominates ingest cost when every statement is prepared afresh.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func (c *stmtCache) lookup(query string) (*sql.Stmt, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[query]
	return st, ok
}

// prepare adds a statement to the cache. It must not be called while the
// caller holds the writer's only connection (SQLite) in a transaction.
func (c *stmtCache) prepare(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// wtx is a write transaction whose statements come from the cache, bound
// to the transaction once each.
type wtx struct {
	*sql.Tx
	s     *Store
	bound map[string]*sql.Stmt
}

func (s *Store) begin(ctx context.Context) (*wtx, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &wtx{Tx: tx, s: s, bound: map[string]*sql.Stmt{}}, nil
}

func (t *wtx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := t.bound[query]; ok {
		return st, nil
	}
	var b *sql.Stmt
	if st, ok := t.s.stmts.lookup(query); ok {
		b = t.Tx.StmtContext(ctx, st)
	} else {
		// Not warmed: prepare for this transaction only (the writer's
		// connection is ours until commit).
		var err error
		if b, err = t.Tx.PrepareContext(ctx, query); err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
	}
	t.bound[query] = b
	return b, nil
}

// ExecContext runs a cached statement in the transaction.
func (t *wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// QueryContext runs a cached query in the transaction.
func (t *wtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// warm prepares the statements ingest runs for every item.
func (s *Store) warm(ctx context.Context) error {
	for _, q := range hotQueries {
		if _, err := s.stmts.prepare(ctx, s.w, s.q(q)); err != nil {
			return fmt.Errorf("warm statements: %w", err)
		}
	}
	return nil
}
