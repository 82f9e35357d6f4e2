package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	. "github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/collector/store/storetest"
	"github.com/farmwatch/farmwatch/internal/report"
)

// backends runs fn against SQLite always and against PostgreSQL when
// FARMWATCH_TEST_POSTGRES holds a DSN (each run in a fresh schema).
func backends(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, openSQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, storetest.OpenPostgres(t))
	})
}

func openSQLite(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "fw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

func mkFinding(host, subject string, cat report.Category, sev report.Severity, ev map[string]any) report.Finding {
	return report.Finding{
		ID: report.StableID(host, "test.rule", "anydesk", subject), Time: t0, Host: report.Host{Name: host + "-name", ID: host},
		Detector: "test", Rule: "test.rule", Category: cat, Tool: "anydesk", Severity: sev, Confidence: 0.9,
		Summary: "test " + subject, Evidence: ev, Count: 1,
	}
}

type testPolicy struct{ min report.Severity }

func (p testPolicy) FindingAlert(h report.Host, f report.Finding) *Alert {
	if f.Severity < p.min || f.Allowed {
		return nil
	}
	return &Alert{DedupKey: "finding:" + h.ID + ":" + f.ID, Kind: AlertFinding, Severity: f.Severity, Title: f.Summary, Hosts: []string{h.ID}}
}
func (p testPolicy) Routed(Alert) bool { return true }

func TestMigrationsRecorded(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ms, err := Migrations()
		if err != nil || len(ms) == 0 {
			t.Fatalf("Migrations = %v, %v", ms, err)
		}
		got, err := s.AppliedMigrations(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(ms) || got[0] != ms[0].Version {
			t.Fatalf("applied %v, embedded %d", got, len(ms))
		}
	})
}

func TestIngestIdempotentAndCounts(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		host := report.Host{Name: "lap-1", ID: "h1"}
		a := mkFinding("h1", "a", report.CategoryRemoteAccess, report.SeverityHigh, nil)
		b := mkFinding("h1", "b", report.CategoryVPN, report.SeverityLow, nil)
		batch := Batch{Host: host, Items: []Item{
			{Seq: 1, Kind: KindFinding, Finding: &a},
			{Seq: 2, Kind: KindFinding, Finding: &b},
			{Seq: 3, Kind: KindHeartbeat, Heartbeat: &Heartbeat{Time: t0, AgentVersion: "1.0", IntervalSeconds: 60}},
		}}
		res, err := s.Ingest(ctx, batch, t0, testPolicy{min: report.SeverityHigh})
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 3 || res.Duplicates != 0 || len(res.Alerts) != 1 {
			t.Fatalf("first = %+v", res)
		}
		// Re-sent batch: nothing stored twice.
		res, err = s.Ingest(ctx, batch, t0.Add(time.Minute), testPolicy{min: report.SeverityHigh})
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 0 || res.Duplicates != 3 || len(res.Alerts) != 0 {
			t.Fatalf("resend = %+v", res)
		}
		// Same finding id, new seq: count and last_seen move, one row.
		a2 := a
		later := t0.Add(time.Hour)
		a2.Time, a2.LastSeen, a2.Count = later, &later, 2
		res, err = s.Ingest(ctx, Batch{Host: host, Items: []Item{{Seq: 4, Kind: KindFinding, Finding: &a2}, {Seq: 3, Kind: KindHeartbeat, Heartbeat: batch.Items[2].Heartbeat}}}, later, testPolicy{min: report.SeverityHigh})
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 1 || res.Duplicates != 1 || len(res.Alerts) != 0 {
			t.Fatalf("repeat = %+v", res)
		}
		fs, err := s.Findings(ctx, "h1", false)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != 2 {
			t.Fatalf("findings = %d, want 2", len(fs))
		}
		got := fs[0] // high first
		if got.ID != a.ID || got.Count != 3 || !got.LastSeen.Equal(later) || !got.FirstSeen.Equal(t0) {
			t.Fatalf("finding = id %s count %d last %v first %v", got.ID, got.Count, got.LastSeen, got.FirstSeen)
		}
		n, err := s.CountEvents(ctx, "h1")
		if err != nil || n != 4 {
			t.Fatalf("events = %d, %v; want 4", n, err)
		}
		h, err := s.Host(ctx, "h1")
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != "lap-1" || h.AgentVersion != "1.0" || h.HeartbeatInterval != 60 || h.OpenFindings != 2 || h.Risk.Score == 0 {
			t.Fatalf("host = %+v", h)
		}
		tl, err := s.Timeline(ctx, "h1", 10)
		if err != nil || len(tl) != 4 || tl[0].Seq != 4 {
			t.Fatalf("timeline = %+v, %v", tl, err)
		}
	})
}

func TestCloseFindingReopensOnNewReport(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := mkFinding("h1", "a", report.CategoryRemoteAccessHardware, report.SeverityCritical, nil)
		pol := testPolicy{min: report.SeverityHigh}
		if _, err := s.Ingest(ctx, Batch{Host: f.Host, Items: []Item{{Seq: 1, Kind: KindFinding, Finding: &f}}}, t0, pol); err != nil {
			t.Fatal(err)
		}
		if err := s.CloseFinding(ctx, "h1", f.ID, "alice", t0); err != nil {
			t.Fatal(err)
		}
		h, _ := s.Host(ctx, "h1")
		if h.Risk.Score != 0 || h.OpenFindings != 0 {
			t.Fatalf("closed finding still scores: %+v", h.Risk)
		}
		if err := s.CloseFinding(ctx, "h1", "nope", "alice", t0); err != ErrNotFound {
			t.Fatalf("close missing = %v", err)
		}
		res, err := s.Ingest(ctx, Batch{Host: f.Host, Items: []Item{{Seq: 2, Kind: KindFinding, Finding: &f}}}, t0.Add(time.Hour), pol)
		if err != nil {
			t.Fatal(err)
		}
		// Its first alert is still open, so no second one.
		if len(res.Alerts) != 0 {
			t.Fatalf("alerts on reopen with open alert = %+v", res.Alerts)
		}
		fs, _ := s.Findings(ctx, "h1", true)
		if len(fs) != 1 || fs[0].Status != StatusOpen {
			t.Fatalf("not reopened: %+v", fs)
		}
	})
}

func TestEnrollRotatesCredential(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		h := report.Host{Name: "n", ID: "h1"}
		if err := s.Enroll(ctx, h, "1.0", "hash1", t0); err != nil {
			t.Fatal(err)
		}
		if id, err := s.HostForCredential(ctx, "hash1"); err != nil || id != "h1" {
			t.Fatalf("cred1 = %q, %v", id, err)
		}
		if err := s.Enroll(ctx, h, "1.1", "hash2", t0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.HostForCredential(ctx, "hash1"); err != ErrNotFound {
			t.Fatalf("old credential still valid: %v", err)
		}
		if id, err := s.HostForCredential(ctx, "hash2"); err != nil || id != "h1" {
			t.Fatalf("cred2 = %q, %v", id, err)
		}
	})
}

func TestAlertsLifecycleAndDelivery(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := &Alert{DedupKey: "k1", Kind: AlertFinding, Severity: report.SeverityHigh, Title: "t", Hosts: []string{"h1"}}
		ok, err := s.RaiseAlert(ctx, a, t0, testPolicy{})
		if err != nil || !ok {
			t.Fatalf("raise = %v, %v", ok, err)
		}
		ok, err = s.RaiseAlert(ctx, &Alert{DedupKey: "k1", Kind: AlertFinding, Title: "t"}, t0, testPolicy{})
		if err != nil || ok {
			t.Fatalf("duplicate open alert raised: %v, %v", ok, err)
		}
		due, err := s.DueDeliveries(ctx, t0, time.Minute, 10)
		if err != nil || len(due) != 1 {
			t.Fatalf("due = %v, %v", due, err)
		}
		// Leased: not due again until the lease ends.
		if again, _ := s.DueDeliveries(ctx, t0.Add(time.Second), time.Minute, 10); len(again) != 0 {
			t.Fatalf("leased alert due again: %v", again)
		}
		if err := s.RecordDelivery(ctx, due[0], 1, errors.New("boom"), t0.Add(2*time.Second), false); err != nil {
			t.Fatal(err)
		}
		due, _ = s.DueDeliveries(ctx, t0.Add(3*time.Second), time.Minute, 10)
		if len(due) != 1 || due[0].LastError != "boom" {
			t.Fatalf("retry due = %+v", due)
		}
		if err := s.RecordDelivery(ctx, due[0], 2, nil, t0, false); err != nil {
			t.Fatal(err)
		}
		if err := s.SetAlertStatus(ctx, a.ID, StatusAcked, "alice", t0); err != nil {
			t.Fatal(err)
		}
		got, err := s.Alert(ctx, a.ID)
		if err != nil || got.Status != StatusAcked || got.AckedBy != "alice" || got.Delivery != DeliveryDelivered || got.Attempts != 2 {
			t.Fatalf("alert = %+v, %v", got, err)
		}
		if err := s.SetAlertStatus(ctx, a.ID, StatusClosed, "bob", t0); err != nil {
			t.Fatal(err)
		}
		if open, _ := s.Alerts(ctx, "", 10); len(open) != 0 {
			t.Fatalf("open alerts after close: %v", open)
		}
		// Closed: the same key may fire again.
		if ok, err := s.RaiseAlert(ctx, &Alert{DedupKey: "k1", Kind: AlertFinding, Title: "again"}, t0, testPolicy{}); err != nil || !ok {
			t.Fatalf("re-raise after close = %v, %v", ok, err)
		}
		if err := s.SetAlertStatus(ctx, "missing", StatusAcked, "x", t0); err != ErrNotFound {
			t.Fatalf("ack missing = %v", err)
		}
	})
}

func TestUsersSessionsTokens(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.AddUser(ctx, "alice", "h", t0); err != nil {
			t.Fatal(err)
		}
		if u, err := s.User(ctx, "alice"); err != nil || u.PasswordHash != "h" {
			t.Fatalf("user = %+v, %v", u, err)
		}
		if _, err := s.User(ctx, "bob"); err != ErrNotFound {
			t.Fatalf("missing user = %v", err)
		}
		if err := s.CreateSession(ctx, "th", Session{User: "alice", CSRF: "c", ExpiresAt: t0.Add(time.Hour)}, t0); err != nil {
			t.Fatal(err)
		}
		if sess, err := s.Session(ctx, "th", t0); err != nil || sess.User != "alice" || sess.CSRF != "c" {
			t.Fatalf("session = %+v, %v", sess, err)
		}
		if _, err := s.Session(ctx, "th", t0.Add(2*time.Hour)); err != ErrNotFound {
			t.Fatalf("expired session = %v", err)
		}
		if err := s.DeleteSession(ctx, "th"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, "th", t0); err != ErrNotFound {
			t.Fatalf("deleted session = %v", err)
		}
		if err := s.AddAPIToken(ctx, "ci", "tok", t0); err != nil {
			t.Fatal(err)
		}
		if n, err := s.APIToken(ctx, "tok"); err != nil || n != "ci" {
			t.Fatalf("token = %q, %v", n, err)
		}
	})
}

// TestTwoCollectorsSameBatch: two stores on one database (two collectors
// behind a load balancer) receive the same batch at once; it is stored once.
func TestTwoCollectorsSameBatch(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			var dsn string
			if backend == "sqlite" {
				dsn = filepath.Join(t.TempDir(), "shared.db")
			} else {
				dsn = storetest.PostgresDSN(t)
			}
			ctx := context.Background()
			var stores [2]*Store
			for i := range stores {
				s, err := Open(ctx, dsn)
				if err != nil {
					t.Fatalf("open store %d: %v", i, err)
				}
				defer s.Close()
				stores[i] = s
			}
			host := report.Host{Name: "lap", ID: "h1"}
			var items []Item
			for i := 0; i < 50; i++ {
				f := mkFinding("h1", fmt.Sprint("s", i%10), report.CategoryRemoteAccessHardware, report.SeverityHigh, map[string]any{report.EvSerial: "KVM-1"})
				items = append(items, Item{Seq: int64(i), Kind: KindFinding, Finding: &f})
			}
			type out struct {
				res IngestResult
				err error
			}
			results := make(chan out, 8)
			var wg sync.WaitGroup
			for round := 0; round < 4; round++ {
				for _, s := range stores {
					wg.Add(1)
					go func(s *Store) {
						defer wg.Done()
						r, err := s.Ingest(ctx, Batch{Host: host, Items: items}, t0, testPolicy{min: report.SeverityHigh})
						results <- out{r, err}
					}(s)
				}
			}
			wg.Wait()
			close(results)
			accepted, alerts := 0, 0
			for r := range results {
				if r.err != nil {
					t.Fatalf("ingest: %v", r.err)
				}
				if r.res.Accepted+r.res.Duplicates != 50 {
					t.Fatalf("result %+v", r.res)
				}
				accepted += r.res.Accepted
				alerts += len(r.res.Alerts)
			}
			if accepted != 50 || alerts != 10 {
				t.Fatalf("accepted %d (want 50), alerts %d (want 10, one per finding id)", accepted, alerts)
			}
			n, _ := stores[1].CountEvents(ctx, "h1")
			fs, _ := stores[0].Findings(ctx, "h1", false)
			if n != 50 || len(fs) != 10 || fs[0].Count != 5 {
				t.Fatalf("events %d findings %d count %d", n, len(fs), fs[0].Count)
			}
		})
	}
}

// TestWidenedDuringDelivery: an alert widened (a third host joined) while
// its first version was being delivered stays pending, so the people it
// was sent to learn that the farm grew; marking it delivered would lose
// the widened version (seen in the three-agent fleet test).
func TestWidenedDuringDelivery(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := &Alert{DedupKey: "shared:kvm", Kind: AlertSharedInfra, Severity: report.SeverityCritical, Title: "2 hosts", Hosts: []string{"h1", "h2"}}
		if ok, err := s.RaiseAlert(ctx, a, t0, testPolicy{}); err != nil || !ok {
			t.Fatalf("raise = %v, %v", ok, err)
		}
		due, err := s.DueDeliveries(ctx, t0, time.Minute, 10)
		if err != nil || len(due) != 1 {
			t.Fatalf("due = %v, %v", due, err)
		}
		// While the sink is being called, a third host joins.
		wider := *a
		wider.Hosts, wider.Title = []string{"h1", "h2", "h3"}, "3 hosts"
		res, err := s.Widen(ctx, &wider, "h3", t0.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Widened) != 1 {
			t.Fatalf("widen did not widen: %+v", res)
		}
		// The first version's delivery succeeds afterwards.
		if err := s.RecordDelivery(ctx, due[0], 1, nil, t0.Add(time.Second), false); err != nil {
			t.Fatal(err)
		}
		again, err := s.DueDeliveries(ctx, t0.Add(2*time.Second), time.Minute, 10)
		if err != nil || len(again) != 1 || len(again[0].Hosts) != 3 {
			t.Fatalf("widened alert not due for delivery again: %+v, %v", again, err)
		}
		if err := s.RecordDelivery(ctx, again[0], 1, nil, t0.Add(2*time.Second), false); err != nil {
			t.Fatal(err)
		}
		got, err := s.Alert(ctx, a.ID)
		if err != nil || got.Delivery != DeliveryDelivered {
			t.Fatalf("widened alert after its delivery = %+v, %v", got, err)
		}
	})
}

// TestWidenedBetweenReadAndClaim widens an alert after DueDeliveries has
// read it and before it claims it, in the same millisecond the alert was
// raised (a fleet e2e run hit this: the collector sent the 2-host
// co-location alert, and its 3-host version waited out the whole lease).
// The old version must not be claimed; the next round sends the new one.
func TestWidenedBetweenReadAndClaim(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := &Alert{DedupKey: "colocation:gateway:x", Kind: AlertCoLocation, Severity: report.SeverityHigh, Title: "2 hosts", Hosts: []string{"h1", "h2"}}
		if ok, err := s.RaiseAlert(ctx, a, t0, testPolicy{}); err != nil || !ok {
			t.Fatalf("raise = %v, %v", ok, err)
		}
		wider := *a
		wider.Hosts, wider.Title = []string{"h1", "h2", "h3"}, "3 hosts"
		s.SetDueSelected(func() {
			s.SetDueSelected(nil)
			if res, err := s.Widen(ctx, &wider, "h3", t0); err != nil || len(res.Widened) != 1 {
				t.Errorf("widen = %+v, %v", res, err)
			}
		})
		due, err := s.DueDeliveries(ctx, t0, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range due {
			if len(d.Hosts) != 3 {
				t.Errorf("claimed the version read before widening: %v", d.Hosts)
			}
			if err := s.RecordDelivery(ctx, d, 1, nil, t0, false); err != nil {
				t.Fatal(err)
			}
		}
		if len(due) == 0 {
			again, err := s.DueDeliveries(ctx, t0.Add(time.Millisecond), time.Minute, 10)
			if err != nil || len(again) != 1 || len(again[0].Hosts) != 3 {
				t.Fatalf("widened alert not due at once: %+v, %v", again, err)
			}
		}
	})
}

// TestWidenedDuringDeliveryDueAtOnce: an alert widened while its old
// version was out for delivery is due at once afterwards, whatever the
// widening's own clock said, not when the old version's lease ends.
func TestWidenedDuringDeliveryDueAtOnce(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := &Alert{DedupKey: "shared:kvm:y", Kind: AlertSharedInfra, Severity: report.SeverityCritical, Title: "2 hosts", Hosts: []string{"h1", "h2"}}
		if ok, err := s.RaiseAlert(ctx, a, t0, testPolicy{}); err != nil || !ok {
			t.Fatalf("raise = %v, %v", ok, err)
		}
		due, err := s.DueDeliveries(ctx, t0, time.Hour, 10)
		if err != nil || len(due) != 1 {
			t.Fatalf("due = %v, %v", due, err)
		}
		wider := *a
		wider.Hosts = []string{"h1", "h2", "h3"}
		if _, err := s.Widen(ctx, &wider, "h3", t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordDelivery(ctx, due[0], 1, nil, t0.Add(time.Second), false); err != nil {
			t.Fatal(err)
		}
		again, err := s.DueDeliveries(ctx, t0.Add(time.Second), time.Hour, 10)
		if err != nil || len(again) != 1 || len(again[0].Hosts) != 3 {
			t.Fatalf("widened alert not due right after the old version's delivery: %+v, %v", again, err)
		}
	})
}
