package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/collector/alert"
	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/collector/store/storetest"
	"github.com/farmwatch/farmwatch/internal/report"
)

const secret = "enroll-secret-0123456789"

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

type env struct {
	t     *testing.T
	st    *store.Store
	srv   *Server
	http  *httptest.Server
	clock *clock
}

func newEnv(t *testing.T, mod func(*Options)) *env {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "fw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newEnvWith(t, st, mod)
}

// backends runs fn with a server on SQLite, and on PostgreSQL when
// FARMWATCH_TEST_POSTGRES is set.
func backends(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newEnv(t, nil)) })
	t.Run("postgres", func(t *testing.T) { fn(t, newEnvWith(t, storetest.OpenPostgres(t), nil)) })
}

func newEnvWith(t *testing.T, st *store.Store, mod func(*Options)) *env {
	t.Helper()
	clk := &clock{t: t0}
	o := Options{Store: st, Policy: &alert.Policy{MinSeverity: report.SeverityHigh}, Now: clk.Now, EnrollSecrets: []string{secret}, MaxBodyBytes: 64 << 10}
	if mod != nil {
		mod(&o)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &env{t: t, st: st, srv: srv, http: hs, clock: clk}
}

// do sends a JSON (optionally gzip) request and decodes a JSON answer.
func (e *env) do(method, path, bearer string, body any, gz bool, out any) *http.Response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		var b []byte
		pre := false
		switch v := body.(type) {
		case rawGzip:
			b, pre = v, true
		case []byte:
			b = v
		case string:
			b = []byte(v)
		default:
			var err error
			if b, err = json.Marshal(v); err != nil {
				e.t.Fatal(err)
			}
		}
		if gz && !pre {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(b)
			zw.Close()
			b = buf.Bytes()
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.http.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %d, not JSON: %q", method, path, resp.StatusCode, data)
		}
	}
	return resp
}

func (e *env) enroll(id string) string {
	e.t.Helper()
	var r EnrollResponse
	resp := e.do("POST", "/api/v1/enroll", "", EnrollRequest{EnrollSecret: secret, Host: report.Host{Name: id + "-lap", ID: id}, AgentVersion: "1.0"}, false, &r)
	if resp.StatusCode != 200 || r.HostID != id || r.Credential == "" {
		e.t.Fatalf("enroll %s: %d %+v", id, resp.StatusCode, r)
	}
	return r.Credential
}

func mkFinding(hostID, subject string, cat report.Category, tool string, sev report.Severity, ev map[string]any) *report.Finding {
	return &report.Finding{ID: report.StableID(hostID, "test.rule", tool, subject), Time: t0, Host: report.Host{Name: hostID + "-lap", ID: hostID},
		Detector: "test", Rule: "test.rule", Category: cat, Tool: tool, Severity: sev, Confidence: 1, Summary: "saw " + subject, Evidence: ev, Count: 1}
}

func batchOf(hostID string, firstSeq int64, fs ...*report.Finding) IngestRequest {
	req := IngestRequest{Host: report.Host{Name: hostID + "-lap", ID: hostID}}
	for i, f := range fs {
		req.Batch = append(req.Batch, store.Item{Seq: firstSeq + int64(i), Kind: store.KindFinding, Finding: f})
	}
	return req
}

func timeAfter(ms int) <-chan time.Time { return time.After(time.Duration(ms) * time.Millisecond) }

// rawGzip is a body that is already gzip-compressed.
type rawGzip []byte
