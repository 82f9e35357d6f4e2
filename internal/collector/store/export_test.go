package store

import (
	"context"
	"time"
)

// Widen runs the ingest path's widening of an open alert (one host
// joined) in its own transaction, for the external tests.
func (s *Store) Widen(ctx context.Context, a *Alert, hostID string, now time.Time) (IngestResult, error) {
	var res IngestResult
	tx, err := s.begin(ctx)
	if err != nil {
		return res, err
	}
	if err := s.widen(ctx, tx, a, hostID, now, &res); err != nil {
		_ = tx.Rollback()
		return res, err
	}
	return res, tx.Commit()
}

// SetDueSelected runs f between DueDeliveries' read and its claims.
func (s *Store) SetDueSelected(f func()) { s.dueSelected = f }
