// Package deliver moves spooled findings and heartbeats to where security
// teams read them: the farmwatch collector over HTTPS (enrolling with a
// secret for a per-host credential, or mutual TLS) and SIEMs over syslog
// (RFC 5424 over TCP or TLS, CEF message). A Sender drains one spool into one
// Transport with at-least-once semantics: a batch is acknowledged in the
// spool only after the transport accepted it; failures back off
// exponentially with jitter and honour Retry-After.
package deliver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/report/spool"
)

// Transport delivers a batch of items or fails.
type Transport interface {
	Name() string
	Send(ctx context.Context, items []report.Item) error
}

// RetryAfterError asks the sender to wait before the next attempt.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("retry after %s: %v", e.After, e.Err)
}
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RejectedError means the receiver refused the batch for good (malformed):
// retrying cannot help, so the batch is acknowledged and counted as
// rejected rather than blocking everything behind it.
type RejectedError struct{ Err error }

func (e *RejectedError) Error() string { return "rejected: " + e.Err.Error() }
func (e *RejectedError) Unwrap() error { return e.Err }

// Encode turns a finding or heartbeat into a spool record.
func Encode(it report.Item) ([]byte, error) {
	it.Seq = 0
	b, err := json.Marshal(it)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", it.Kind, err)
	}
	return b, nil
}

// Sender drains a spool into a transport.
type Sender struct {
	Spool     *spool.Spool
	Transport Transport
	Logger    *zap.Logger
	// BatchSize and BatchBytes bound one request (defaults 200, 1 MiB).
	BatchSize  int
	BatchBytes int
	// MinBackoff and MaxBackoff bound retry waits (defaults 1 s, 5 min).
	MinBackoff, MaxBackoff time.Duration
	// Poll is how often the spool is checked without a signal (default 5 s).
	Poll time.Duration

	rejected uint64
}

// Rejected counts items refused for good by the receiver.
func (s *Sender) Rejected() uint64 { return s.rejected }

// Run delivers until ctx ends.
func (s *Sender) Run(ctx context.Context) error {
	log := s.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log = log.With(zap.String("output", s.Transport.Name()))
	batch, batchBytes := s.BatchSize, s.BatchBytes
	if batch <= 0 {
		batch = 200
	}
	if batchBytes <= 0 {
		batchBytes = 1 << 20
	}
	minB, maxB := s.MinBackoff, s.MaxBackoff
	if minB <= 0 {
		minB = time.Second
	}
	if maxB <= 0 {
		maxB = 5 * time.Minute
	}
	poll := s.Poll
	if poll <= 0 {
		poll = 5 * time.Second
	}
	failures := 0
	for {
		recs, err := s.Spool.Next(batch, batchBytes)
		if err != nil {
			return fmt.Errorf("read spool: %w", err)
		}
		if len(recs) == 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-s.Spool.Ready():
			case <-time.After(poll):
			}
			continue
		}
		items := make([]report.Item, 0, len(recs))
		for _, r := range recs {
			var it report.Item
			if err := json.Unmarshal(r.Data, &it); err != nil {
				log.Error("spool_record_corrupt", zap.Uint64("seq", r.Seq), zap.Error(err))
				continue
			}
			it.Seq = r.Seq
			items = append(items, it)
		}
		last := recs[len(recs)-1].Seq
		err = s.Transport.Send(ctx, items)
		var rej *RejectedError
		var ra *RetryAfterError
		switch {
		case err == nil:
			failures = 0
		case errors.As(err, &rej):
			s.rejected += uint64(len(items))
			log.Error("batch_rejected", zap.Int("items", len(items)), zap.Uint64("last_seq", last), zap.Error(err))
			failures = 0
		default:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failures++
			wait := Backoff(failures, minB, maxB)
			if errors.As(err, &ra) && ra.After > wait {
				wait = ra.After
			}
			log.Warn("delivery_failed", zap.Int("items", len(items)), zap.Int("attempt", failures), zap.Duration("retry_in", wait), zap.Error(err))
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			continue
		}
		if err := s.Spool.Ack(last); err != nil {
			return fmt.Errorf("ack spool: %w", err)
		}
		log.Debug("batch_delivered", zap.Int("items", len(items)), zap.Uint64("last_seq", last))
	}
}

// Backoff is min·2^(attempt-1) capped at max, with ±25 % jitter so a fleet
// reconnecting after an outage does not arrive at once.
func Backoff(attempt int, min, max time.Duration) time.Duration {
	d := min
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	jitter := time.Duration(rand.Int64N(int64(d)/2 + 1))
	return d/2 + jitter + d/4
}
