package store_test

import (
	"context"
	"testing"
	"time"

	. "github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report"
)

// An agent's updates of a still-present finding move last_seen, count and
// duration without a second alert, and do not reopen a finding an analyst
// closed; an ended report marks it ended; a fresh report after that reopens
// it, active again.
func TestFindingUpdatesAndEnd(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		host := report.Host{Name: "lap-1", ID: "h1"}
		pol := testPolicy{min: report.SeverityHigh}
		f := mkFinding("h1", "vnc", report.CategoryRemoteAccess, report.SeverityHigh, nil)
		seq := int64(0)
		send := func(f report.Finding, at time.Time) IngestResult {
			t.Helper()
			seq++
			res, err := s.Ingest(ctx, Batch{Host: host, Items: []Item{{Seq: seq, Kind: KindFinding, Finding: &f}}}, at, pol)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		if res := send(f, t0); len(res.Alerts) != 1 {
			t.Fatalf("first report raised %d alerts", len(res.Alerts))
		}
		for i := 1; i <= 3; i++ {
			u := f
			u.Update, u.Count = true, 2
			ls := t0.Add(time.Duration(i) * time.Minute)
			u.LastSeen = &ls
			if res := send(u, ls); len(res.Alerts) != 0 {
				t.Fatalf("update %d raised %v", i, res.Alerts)
			}
		}
		fs, err := s.Findings(ctx, "h1", false)
		if err != nil || len(fs) != 1 {
			t.Fatalf("findings %v %v", fs, err)
		}
		got := fs[0]
		if !got.LastSeen.Equal(t0.Add(3*time.Minute)) || got.Count != 7 || got.DurationSeconds != 180 || got.State != FindingActive || got.Ended {
			t.Fatalf("after updates: last_seen %v count %d duration %v state %s", got.LastSeen, got.Count, got.DurationSeconds, got.State)
		}
		// Closed by an analyst, the session goes on: updates keep it closed.
		if err := s.CloseFinding(ctx, "h1", f.ID, "analyst", t0.Add(4*time.Minute)); err != nil {
			t.Fatal(err)
		}
		u := f
		u.Update, u.Count, u.Ended = true, 0, true
		ls := t0.Add(5 * time.Minute)
		u.LastSeen = &ls
		if res := send(u, ls); len(res.Alerts) != 0 {
			t.Fatalf("ended report raised %v", res.Alerts)
		}
		fs, _ = s.Findings(ctx, "h1", false)
		if got := fs[0]; got.Status != StatusClosed || got.State != FindingEnded || !got.EndedAt.Equal(ls) || got.Count != 7 {
			t.Fatalf("ended: status %s state %s ended_at %v count %d", got.Status, got.State, got.EndedAt, got.Count)
		}
		// Seen again later: a new report reopens it (its first alert is
		// still open, so no second one).
		again := f
		again.Time = t0.Add(time.Hour)
		send(again, again.Time)
		fs, _ = s.Findings(ctx, "h1", false)
		if got := fs[0]; got.Status != StatusOpen || got.State != FindingActive || !got.EndedAt.IsZero() {
			t.Fatalf("seen again: status %s state %s ended_at %v", got.Status, got.State, got.EndedAt)
		}
	})
}
