package deliver

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
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

	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/report/spool"
)

func finding(i int) report.Finding {
	return report.Finding{ID: fmt.Sprintf("%024d", i), Time: time.Unix(1700000000, 0).UTC(), Host: report.Host{Name: "h1", ID: "id1"},
		Detector: "remoteaccess", Rule: "remoteaccess.process.running", Category: report.CategoryRemoteAccess, Tool: "anydesk",
		Severity: report.SeverityHigh, Confidence: 0.9, Summary: fmt.Sprintf("finding %d", i), Evidence: map[string]any{"n": i}}
}

func fill(t *testing.T, sp *spool.Spool, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		f := finding(i)
		b, err := Encode(report.Item{Kind: report.KindFinding, Finding: &f})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sp.Append(b); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeCollector implements the v1 ingest contract with scripted failures.
type fakeCollector struct {
	mu        sync.Mutex
	secret    string
	cred      string
	seqs      []uint64
	fail503   int
	reject400 bool
	enrolls   int
}

func (fc *fakeCollector) handler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/enroll", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Secret string      `json:"enroll_secret"`
			Host   report.Host `json:"host"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		fc.mu.Lock()
		defer fc.mu.Unlock()
		if req.Secret != fc.secret || req.Host.ID != "id1" {
			http.Error(w, `{"error":"bad secret"}`, http.StatusUnauthorized)
			return
		}
		fc.enrolls++
		fc.cred = fmt.Sprintf("cred-%d", fc.enrolls)
		fmt.Fprintf(w, `{"host_id":"id1","credential":%q}`, fc.cred)
	})
	mux.HandleFunc("POST /api/v1/ingest", func(w http.ResponseWriter, r *http.Request) {
		fc.mu.Lock()
		defer fc.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+fc.cred || fc.cred == "" {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		if fc.fail503 > 0 {
			fc.fail503--
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"error":"busy"}`, http.StatusServiceUnavailable)
			return
		}
		if fc.reject400 {
			fc.reject400 = false
			http.Error(w, `{"error":"malformed"}`, http.StatusBadRequest)
			return
		}
		if r.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("batch not gzip'd")
		}
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Errorf("gzip: %v", err)
			return
		}
		var b report.Batch
		if err := json.NewDecoder(zr).Decode(&b); err != nil {
			t.Errorf("decode batch: %v", err)
			return
		}
		for _, it := range b.Batch {
			if it.Kind != report.KindFinding || it.Finding == nil || it.Finding.Rule == "" {
				t.Errorf("bad item %+v", it)
			}
			fc.seqs = append(fc.seqs, it.Seq)
		}
		fmt.Fprintf(w, `{"accepted":%d,"duplicates":0}`, len(b.Batch))
	})
	return mux
}

func (fc *fakeCollector) received() []uint64 {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return append([]uint64(nil), fc.seqs...)
}

func runSender(t *testing.T, s *Sender) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	return func() { cancel(); <-done }
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestSenderEnrollsDeliversInOrderAndRetries(t *testing.T) {
	fc := &fakeCollector{secret: "s3cret", fail503: 1}
	srv := httptest.NewTLSServer(fc.handler(t))
	defer srv.Close()
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	writeCA(t, srv, caFile)
	credFile := filepath.Join(dir, "state", "credential")
	col, err := NewCollector(CollectorConfig{URL: srv.URL, EnrollSecret: "s3cret", CredentialFile: credFile, CAFile: caFile}, report.Host{Name: "h1", ID: "id1"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spool.Open(filepath.Join(dir, "spool"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	fill(t, sp, 250)
	start := time.Now()
	stop := runSender(t, &Sender{Spool: sp, Transport: col, BatchSize: 100, MinBackoff: 10 * time.Millisecond})
	defer stop()
	waitFor(t, "all 250 delivered", func() bool { return len(fc.received()) == 250 })
	if time.Since(start) < 900*time.Millisecond {
		t.Errorf("Retry-After: 1 not honoured (done after %s)", time.Since(start))
	}
	for i, seq := range fc.received() {
		if seq != uint64(i+1) {
			t.Fatalf("delivery out of order or duplicated at %d: seq %d", i, seq)
		}
	}
	waitFor(t, "spool drained", func() bool { return sp.Stats().Pending == 0 })
	st, err := os.Stat(credFile)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("credential file mode %v, want 0600", st.Mode().Perm())
	}
	if b, _ := os.ReadFile(credFile); strings.TrimSpace(string(b)) != "cred-1" {
		t.Fatalf("credential file holds %q", b)
	}
}

func TestSenderReenrollsOn401AndSkipsRejected(t *testing.T) {
	fc := &fakeCollector{secret: "s", reject400: true}
	srv := httptest.NewServer(fc.handler(t))
	defer srv.Close()
	col, err := NewCollector(CollectorConfig{URL: strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), EnrollSecret: "s"}, report.Host{Name: "h1", ID: "id1"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	col.credential = "stale"
	sp, _ := spool.Open(t.TempDir(), 0)
	defer sp.Close()
	fill(t, sp, 20)
	s := &Sender{Spool: sp, Transport: col, BatchSize: 10, MinBackoff: 5 * time.Millisecond}
	stop := runSender(t, s)
	defer stop()
	waitFor(t, "spool drained", func() bool { return sp.Stats().Pending == 0 })
	if got := fc.received(); len(got) != 10 || got[0] != 11 {
		t.Fatalf("want the second batch (11..20) delivered after the first was rejected, got %v", got)
	}
	if s.Rejected() != 10 || fc.enrolls != 1 {
		t.Fatalf("rejected=%d enrolls=%d", s.Rejected(), fc.enrolls)
	}
}

func TestWrongEnrollSecretKeepsSpool(t *testing.T) {
	fc := &fakeCollector{secret: "right"}
	srv := httptest.NewServer(fc.handler(t))
	defer srv.Close()
	col, _ := NewCollector(CollectorConfig{URL: srv.URL, EnrollSecret: "wrong"}, report.Host{Name: "h1", ID: "id1"}, "test")
	sp, _ := spool.Open(t.TempDir(), 0)
	defer sp.Close()
	fill(t, sp, 3)
	err := col.Send(context.Background(), []report.Item{{Seq: 1, Kind: report.KindFinding}})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong secret: %v", err)
	}
	if sp.Stats().Pending != 3 {
		t.Fatal("spool changed")
	}
}

func TestNewCollectorRefusesPlainHTTP(t *testing.T) {
	if _, err := NewCollector(CollectorConfig{URL: "http://collector.example", EnrollSecret: "x"}, report.Host{}, ""); err == nil {
		t.Fatal("plain http to a remote host accepted")
	}
}

func TestSyslogCEFOverTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 10)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			lenStr, err := r.ReadString(' ')
			if err != nil {
				return
			}
			n, _ := strconv.Atoi(strings.TrimSpace(lenStr))
			buf := make([]byte, n)
			if _, err := io.ReadFull(r, buf); err != nil {
				return
			}
			got <- string(buf)
		}
	}()
	s, err := NewSyslog(SyslogConfig{Address: ln.Addr().String()}, "host one", "v1")
	if err != nil {
		t.Fatal(err)
	}
	f := finding(1)
	f.Summary = "AnyDesk | running = yes\nsecond line"
	if err := s.Send(context.Background(), []report.Item{{Seq: 7, Kind: report.KindFinding, Finding: &f}}); err != nil {
		t.Fatal(err)
	}
	msg := <-got
	for _, want := range []string{"<107>1 2023-11-14T22:13:20.000000Z host_one farmwatch-agent ", `[origin software="farmwatch-agent" swVersion="v1"][meta sequenceId="7"] CEF:`, "CEF:0|farmwatch|farmwatch-agent|v1|remoteaccess.process.running|AnyDesk \\| running = yes second line|8|", `msg=AnyDesk | running \= yes\nsecond line`, "cs1=anydesk"} {
		if !strings.Contains(msg, want) {
			t.Errorf("syslog message lacks %q:\n%s", want, msg)
		}
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: time.Second, 3: 4 * time.Second, 20: time.Minute} {
		for i := 0; i < 50; i++ {
			d := Backoff(attempt, time.Second, time.Minute)
			if d < want*3/4 || d > want*5/4 {
				t.Fatalf("Backoff(%d) = %s, want %s ±25%%", attempt, d, want)
			}
		}
	}
}

func writeCA(t *testing.T, srv *httptest.Server, path string) {
	t.Helper()
	var b strings.Builder
	for _, c := range srv.TLS.Certificates[0].Certificate {
		b.WriteString("-----BEGIN CERTIFICATE-----\n")
		enc := base64Std(c)
		for len(enc) > 64 {
			b.WriteString(enc[:64] + "\n")
			enc = enc[64:]
		}
		b.WriteString(enc + "\n-----END CERTIFICATE-----\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
