package alert

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/collector/config"
	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/collector/store/storetest"
	"github.com/farmwatch/farmwatch/internal/report"
)

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

// clock is an injectable, advanceable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock               { return &clock{t: t0} }
func host(id string) report.Host     { return report.Host{Name: id + "-lap", ID: id} }
func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "fw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func finding(hostID, subject string, cat report.Category, tool string, sev report.Severity, ev map[string]any) report.Finding {
	return report.Finding{ID: report.StableID(hostID, "t.rule", tool, subject), Time: t0, Host: host(hostID), Detector: "t", Rule: "t.rule",
		Category: cat, Tool: tool, Severity: sev, Confidence: 1, Summary: subject, Evidence: ev}
}

func hb(event string, interval int64) *store.Heartbeat {
	return &store.Heartbeat{Time: t0, AgentVersion: "1.0", IntervalSeconds: interval, Event: event}
}

func ingest(t *testing.T, s *store.Store, p store.Policy, now time.Time, h report.Host, items ...store.Item) store.IngestResult {
	t.Helper()
	r, err := s.Ingest(context.Background(), store.Batch{Host: h, Items: items}, now, p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPolicyRouting(t *testing.T) {
	hook := NewWebhook("soc", "http://127.0.0.1:1/x", "json")
	p := &Policy{MinSeverity: report.SeverityHigh, Rules: []Rule{
		{Name: "hw", MinSeverity: report.SeverityMedium, Categories: []string{"remote-access-hardware"}, Sinks: []Sink{hook}},
		{Name: "silent", Kinds: []string{store.AlertHostSilent}, Sinks: []Sink{hook}},
	}}
	low := finding("h1", "vpn", report.CategoryVPN, "wireguard", report.SeverityMedium, nil)
	if a := p.FindingAlert(host("h1"), low); a != nil {
		t.Fatalf("medium vpn finding raised %+v", a)
	}
	kvm := finding("h1", "kvm", report.CategoryRemoteAccessHardware, "pikvm", report.SeverityMedium, nil)
	a := p.FindingAlert(host("h1"), kvm)
	if a == nil || !p.Routed(*a) || len(p.SinksFor(*a)) != 1 {
		t.Fatalf("kvm finding alert = %+v", a)
	}
	high := finding("h1", "ad", report.CategoryRemoteAccess, "anydesk", report.SeverityHigh, nil)
	a = p.FindingAlert(host("h1"), high)
	if a == nil || p.Routed(*a) {
		t.Fatalf("high finding: alert %+v, routed %v (want alert, unrouted)", a, a != nil && p.Routed(*a))
	}
	high.Allowed = true
	if p.FindingAlert(host("h1"), high) != nil {
		t.Fatal("allowlisted finding raised an alert")
	}
	if !p.Routed(store.Alert{Kind: store.AlertHostSilent, Severity: report.SeverityHigh}) {
		t.Fatal("silent alert not routed")
	}
}

func TestFromConfig(t *testing.T) {
	p, err := FromConfig(config.Alerts{MinSeverity: "medium",
		Webhooks: []config.Webhook{{Name: "s", URL: "https://x/y", Format: "slack"}},
		Syslog:   &config.Syslog{Address: "127.0.0.1:6514"},
		Rules:    []config.Rule{{Name: "all", Webhooks: []string{"s"}, Syslog: true}}}, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if p.MinSeverity != report.SeverityMedium || len(p.Rules[0].Sinks) != 2 {
		t.Fatalf("policy = %+v", p)
	}
	if _, err := FromConfig(config.Alerts{MinSeverity: "high", Rules: []config.Rule{{Name: "x", Webhooks: []string{"nope"}}}}, "v1"); err == nil {
		t.Fatal("unknown webhook accepted")
	}
}

func TestWebhookJSONAndSlack(t *testing.T) {
	var mu sync.Mutex
	var bodies []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &m); err != nil || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		bodies = append(bodies, m)
		mu.Unlock()
	}))
	defer srv.Close()
	a := store.Alert{ID: "a1", Kind: store.AlertSharedInfra, Severity: report.SeverityCritical, Title: "Shared farm infrastructure", Hosts: []string{"h1", "h2"}}
	if err := NewWebhook("j", srv.URL, "json").Deliver(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if err := NewWebhook("s", srv.URL, "slack").Deliver(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if alert, _ := bodies[0]["alert"].(map[string]any); alert["id"] != "a1" || alert["severity"] != "critical" {
		t.Fatalf("json body = %v", bodies[0])
	}
	if text, _ := bodies[1]["text"].(string); !strings.Contains(text, "CRITICAL") || !strings.Contains(text, "h1, h2") || len(bodies[1]) != 1 {
		t.Fatalf("slack body = %v", bodies[1])
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer bad.Close()
	if err := NewWebhook("b", bad.URL, "json").Deliver(context.Background(), a); err == nil {
		t.Fatal("500 answer counted as delivered")
	}
}

func TestSyslogRFC5424CEF(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		n, _ := r.ReadString(' ')
		size, _ := strconv.Atoi(strings.TrimSpace(n))
		buf := make([]byte, size)
		io.ReadFull(r, buf)
		got <- string(buf)
	}()
	s, err := NewSyslog(config.Syslog{Address: ln.Addr().String()}, "1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	a := store.Alert{ID: "a1", Kind: store.AlertFinding, Severity: report.SeverityHigh, Title: "x|y", Detail: "a=b", Hosts: []string{"h1"}, CreatedAt: t0, Category: "vpn", Tool: "wireguard"}
	if err := s.Deliver(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	msg := <-got
	for _, want := range []string{"<107>1 ", " farmwatch-collector " + strconv.Itoa(os.Getpid()) + " finding [origin software=\"farmwatch-collector\" swVersion=\"1.2.3\"] CEF:", "CEF:0|farmwatch|farmwatch-collector|1.2.3|finding|x\\|y|8|", "msg=a\\=b", "dhost=h1", "cs3=wireguard"} {
		if !strings.Contains(msg, want) {
			t.Errorf("syslog message lacks %q:\n%s", want, msg)
		}
	}
}

// flakySink fails its first n deliveries.
type flakySink struct {
	mu        sync.Mutex
	failFirst int
	calls     int
	delivered []string
}

func (f *flakySink) Name() string { return "flaky" }
func (f *flakySink) Deliver(_ context.Context, a store.Alert) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls <= f.failFirst {
		return errors.New("unreachable")
	}
	f.delivered = append(f.delivered, a.ID)
	return nil
}

func TestDispatcherRetriesWithBackoff(t *testing.T) {
	backends(t, func(t *testing.T, s *store.Store) {
		clk := newClock()
		sink := &flakySink{failFirst: 2}
		p := &Policy{MinSeverity: report.SeverityHigh, Rules: []Rule{{Name: "all", Sinks: []Sink{sink}}}}
		f := finding("h1", "kvm", report.CategoryRemoteAccessHardware, "pikvm", report.SeverityCritical, nil)
		res := ingest(t, s, p, clk.Now(), host("h1"), store.Item{Seq: 1, Kind: store.KindFinding, Finding: &f})
		if len(res.Alerts) != 1 || res.Alerts[0].Delivery != store.DeliveryPending {
			t.Fatalf("alerts = %+v", res.Alerts)
		}
		d := NewDispatcher(s, p, zap.NewNop())
		d.Now = clk.Now
		d.MaxAttempts = 5
		ctx := context.Background()
		if err := d.Once(ctx); err != nil { // attempt 1 fails
			t.Fatal(err)
		}
		if err := d.Once(ctx); err != nil || sink.calls != 1 { // not due yet
			t.Fatalf("retried before backoff: calls %d, %v", sink.calls, err)
		}
		clk.Add(DefaultBackoff(1) + time.Millisecond)
		d.Once(ctx) // attempt 2 fails
		clk.Add(DefaultBackoff(2) + time.Millisecond)
		d.Once(ctx) // attempt 3 succeeds
		a, err := s.Alert(ctx, res.Alerts[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if sink.calls != 3 || len(sink.delivered) != 1 || a.Delivery != store.DeliveryDelivered || a.Attempts != 3 {
			t.Fatalf("calls %d delivered %v alert %+v", sink.calls, sink.delivered, a)
		}
		clk.Add(time.Hour)
		d.Once(ctx)
		if sink.calls != 3 {
			t.Fatal("delivered alert sent again")
		}
	})
}

func TestDispatcherGivesUp(t *testing.T) {
	backends(t, func(t *testing.T, s *store.Store) {
		clk := newClock()
		sink := &flakySink{failFirst: 100}
		p := &Policy{MinSeverity: report.SeverityHigh, Rules: []Rule{{Name: "all", Sinks: []Sink{sink}}}}
		a := &store.Alert{DedupKey: "k", Kind: store.AlertFinding, Severity: report.SeverityHigh, Title: "t"}
		if _, err := s.RaiseAlert(context.Background(), a, clk.Now(), p); err != nil {
			t.Fatal(err)
		}
		d := NewDispatcher(s, p, zap.NewNop())
		d.Now, d.MaxAttempts = clk.Now, 3
		for i := 0; i < 10; i++ {
			d.Once(context.Background())
			clk.Add(time.Hour)
		}
		got, _ := s.Alert(context.Background(), a.ID)
		if sink.calls != 3 || got.Delivery != store.DeliveryFailed || got.LastError == "" {
			t.Fatalf("calls %d, alert %+v", sink.calls, got)
		}
	})
}

func TestSilenceAlertUnlessAsleep(t *testing.T) {
	backends(t, func(t *testing.T, s *store.Store) {
		clk := newClock()
		p := &Policy{MinSeverity: report.SeverityHigh}
		ingest(t, s, p, clk.Now(), host("awake"), store.Item{Seq: 1, Kind: store.KindHeartbeat, Heartbeat: hb("", 60)})
		ingest(t, s, p, clk.Now(), host("sleeper"), store.Item{Seq: 1, Kind: store.KindHeartbeat, Heartbeat: hb("sleep", 60)})
		ingest(t, s, p, clk.Now(), host("woke"), store.Item{Seq: 1, Kind: store.KindHeartbeat, Heartbeat: hb("sleep", 60)}, store.Item{Seq: 2, Kind: store.KindHeartbeat, Heartbeat: hb("wake", 60)})
		var raised []store.Alert
		c := &SilenceChecker{Store: s, Policy: p, Log: zap.NewNop(), Now: clk.Now, Missed: 3, OnAlert: func(a store.Alert) { raised = append(raised, a) }}
		clk.Add(3 * time.Minute) // exactly 3 intervals: not yet
		if err := c.Once(context.Background()); err != nil || len(raised) != 0 {
			t.Fatalf("early silence alerts %+v, %v", raised, err)
		}
		clk.Add(time.Second)
		if err := c.Once(context.Background()); err != nil {
			t.Fatal(err)
		}
		var hosts []string
		for _, a := range raised {
			if a.Kind != store.AlertHostSilent {
				t.Fatalf("kind %s", a.Kind)
			}
			hosts = append(hosts, a.Hosts...)
		}
		if strings.Join(hosts, ",") != "awake,woke" && strings.Join(hosts, ",") != "woke,awake" {
			t.Fatalf("silent hosts = %v, want awake and woke (not sleeper)", hosts)
		}
		// Checking again does not repeat open alerts.
		raised = nil
		c.Once(context.Background())
		if len(raised) != 0 {
			t.Fatalf("repeated silence alerts: %+v", raised)
		}
		// A heartbeat resolves the silence alert; going silent again re-alerts.
		ingest(t, s, p, clk.Now(), host("awake"), store.Item{Seq: 2, Kind: store.KindHeartbeat, Heartbeat: hb("", 60)})
		open, _ := s.Alerts(context.Background(), "", 10)
		if len(open) != 1 || open[0].Hosts[0] != "woke" {
			t.Fatalf("open alerts after heartbeat = %+v", open)
		}
		clk.Add(4 * time.Minute)
		c.Once(context.Background())
		if len(raised) != 1 || raised[0].Hosts[0] != "awake" {
			t.Fatalf("re-silence = %+v", raised)
		}
	})
}

func TestStopAndUninstallAlerts(t *testing.T) {
	backends(t, func(t *testing.T, s *store.Store) {
		clk := newClock()
		p := &Policy{MinSeverity: report.SeverityHigh}
		r := ingest(t, s, p, clk.Now(), host("h1"), store.Item{Seq: 1, Kind: store.KindHeartbeat, Heartbeat: hb("stop", 60)})
		if len(r.Alerts) != 1 || r.Alerts[0].Kind != store.AlertAgentStopped || !strings.Contains(r.Alerts[0].Title, "stopped") {
			t.Fatalf("stop alerts = %+v", r.Alerts)
		}
		r = ingest(t, s, p, clk.Now(), host("h2"), store.Item{Seq: 7, Kind: store.KindHeartbeat, Heartbeat: hb("uninstall", 60)})
		if len(r.Alerts) != 1 || r.Alerts[0].Severity != report.SeverityHigh || !strings.Contains(r.Alerts[0].Title, "uninstalled") {
			t.Fatalf("uninstall alerts = %+v", r.Alerts)
		}
		// A stopped host's silence is explained: no silence alert.
		clk.Add(time.Hour)
		c := &SilenceChecker{Store: s, Policy: p, Log: zap.NewNop(), Now: clk.Now, Missed: 3}
		got, err := s.CheckSilence(context.Background(), clk.Now(), c.Missed, p)
		if err != nil || len(got) != 0 {
			t.Fatalf("silence for stopped hosts = %+v, %v", got, err)
		}
		// Resending the stop heartbeat does not alert twice.
		r = ingest(t, s, p, clk.Now(), host("h1"), store.Item{Seq: 1, Kind: store.KindHeartbeat, Heartbeat: hb("stop", 60)})
		if len(r.Alerts) != 0 || r.Duplicates != 1 {
			t.Fatalf("resent stop = %+v", r)
		}
	})
}

func TestSharedInfrastructureAlert(t *testing.T) {
	backends(t, func(t *testing.T, s *store.Store) {
		clk := newClock()
		p := &Policy{MinSeverity: report.SeverityCritical}
		kvm := func(h string) *report.Finding {
			f := finding(h, "kvm", report.CategoryRemoteAccessHardware, "pikvm", report.SeverityMedium, map[string]any{report.EvSerial: " 5A17C0DE ", "vendor": "x"})
			return &f
		}
		ad := func(h, id string) *report.Finding {
			f := finding(h, "ad", report.CategoryRemoteAccess, "anydesk", report.SeverityMedium, map[string]any{"remote_id": id})
			return &f
		}
		r := ingest(t, s, p, clk.Now(), host("h1"), store.Item{Seq: 1, Kind: store.KindFinding, Finding: kvm("h1")}, store.Item{Seq: 2, Kind: store.KindFinding, Finding: ad("h1", "123456789")})
		if len(r.Alerts) != 0 {
			t.Fatalf("one host raised %+v", r.Alerts)
		}
		r = ingest(t, s, p, clk.Now(), host("h2"), store.Item{Seq: 1, Kind: store.KindFinding, Finding: kvm("h2")}, store.Item{Seq: 2, Kind: store.KindFinding, Finding: ad("h2", "987654321")})
		if len(r.Alerts) != 1 {
			t.Fatalf("alerts = %+v", r.Alerts)
		}
		a := r.Alerts[0]
		if a.Kind != store.AlertSharedInfra || strings.Join(a.Hosts, ",") != "h1,h2" || !strings.Contains(a.Title, `USB serial "5a17c0de"`) || !strings.Contains(a.Detail, "h1-lap (h1), h2-lap (h2)") {
			t.Fatalf("alert = %+v", a)
		}
		// A third host widens the same alert instead of raising another.
		r = ingest(t, s, p, clk.Now(), host("h3"), store.Item{Seq: 1, Kind: store.KindFinding, Finding: kvm("h3")}, store.Item{Seq: 2, Kind: store.KindFinding, Finding: ad("h3", "123456789")})
		if len(r.Alerts) != 1 || !strings.Contains(r.Alerts[0].Title, "anydesk id 123456789") || strings.Join(r.Alerts[0].Hosts, ",") != "h1,h3" {
			t.Fatalf("third host alerts = %+v", r.Alerts)
		}
		got, err := s.Alert(context.Background(), a.ID)
		if err != nil || strings.Join(got.Hosts, ",") != "h1,h2,h3" || !strings.Contains(got.Title, "3 hosts") {
			t.Fatalf("widened alert = %+v, %v", got, err)
		}
	})
}

// backends runs fn on SQLite, and on PostgreSQL when FARMWATCH_TEST_POSTGRES is set.
func backends(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, openStore(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, storetest.OpenPostgres(t)) })
}
