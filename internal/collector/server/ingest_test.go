package server

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report"
)

type errBody struct {
	Error string `json:"error"`
}

func TestEnroll(t *testing.T) {
	e := newEnv(t, nil)
	var eb errBody
	resp := e.do("POST", "/api/v1/enroll", "", EnrollRequest{EnrollSecret: "wrong-secret-0123456789", Host: report.Host{ID: "h1"}}, false, &eb)
	if resp.StatusCode != 401 || eb.Error == "" {
		t.Fatalf("wrong secret: %d %+v", resp.StatusCode, eb)
	}
	resp = e.do("POST", "/api/v1/enroll", "", EnrollRequest{EnrollSecret: secret}, false, &eb)
	if resp.StatusCode != 400 {
		t.Fatalf("empty host id: %d", resp.StatusCode)
	}
	c1 := e.enroll("h1")
	if len(c1) != 43 { // 32 bytes base64url, no padding
		t.Fatalf("credential %q is not a 32-byte base64url token", c1)
	}
	ok := IngestResponse{}
	if resp := e.do("POST", "/api/v1/ingest", c1, IngestRequest{Host: report.Host{ID: "h1"}}, false, &ok); resp.StatusCode != 200 {
		t.Fatalf("ingest with fresh credential: %d", resp.StatusCode)
	}
	c2 := e.enroll("h1")
	if c2 == c1 {
		t.Fatal("re-enroll did not rotate the credential")
	}
	if resp := e.do("POST", "/api/v1/ingest", c1, IngestRequest{Host: report.Host{ID: "h1"}}, false, &eb); resp.StatusCode != 401 {
		t.Fatalf("rotated-out credential: %d", resp.StatusCode)
	}
	if resp := e.do("POST", "/api/v1/ingest", c2, IngestRequest{Host: report.Host{ID: "h1"}}, false, &ok); resp.StatusCode != 200 {
		t.Fatalf("new credential: %d", resp.StatusCode)
	}
	// Only the hash is stored.
	if _, err := e.st.HostForCredential(t.Context(), c2); err == nil {
		t.Fatal("credential stored in clear")
	}
}

func TestIngestIdempotentResend(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		cred := e.enroll("h1")
		a := mkFinding("h1", "a", report.CategoryRemoteAccess, "anydesk", report.SeverityHigh, nil)
		b := mkFinding("h1", "b", report.CategoryVPN, "wireguard", report.SeverityLow, nil)
		req := batchOf("h1", 17, a, b)
		req.Batch = append(req.Batch, store.Item{Seq: 19, Kind: "heartbeat", Heartbeat: &store.Heartbeat{Time: t0, AgentVersion: "1.0", IntervalSeconds: 60,
			Detectors: map[string]store.DetectorHealth{"remoteaccess": {OK: true, LastRun: t0}}}})
		var r IngestResponse
		if resp := e.do("POST", "/api/v1/ingest", cred, req, false, &r); resp.StatusCode != 200 || r.Accepted != 3 || r.Duplicates != 0 {
			t.Fatalf("first: %d %+v", resp.StatusCode, r)
		}
		for i := 0; i < 3; i++ {
			r = IngestResponse{}
			if resp := e.do("POST", "/api/v1/ingest", cred, req, i%2 == 0, &r); resp.StatusCode != 200 || r.Accepted != 0 || r.Duplicates != 3 {
				t.Fatalf("resend %d: %d %+v", i, resp.StatusCode, r)
			}
		}
		// The same finding id under a new seq updates count/last_seen.
		a2 := *a
		later := t0.Add(3600e9)
		a2.LastSeen = &later
		r = IngestResponse{}
		e.do("POST", "/api/v1/ingest", cred, batchOf("h1", 20, &a2), false, &r)
		if r.Accepted != 1 {
			t.Fatalf("repeat finding: %+v", r)
		}
		fs, err := e.st.Findings(t.Context(), "h1", false)
		if err != nil || len(fs) != 2 {
			t.Fatalf("findings = %d, %v", len(fs), err)
		}
		if fs[0].ID != a.ID || fs[0].Count != 2 || !fs[0].LastSeen.Equal(later) {
			t.Fatalf("finding a = count %d last %v", fs[0].Count, fs[0].LastSeen)
		}
		if n, _ := e.st.CountEvents(t.Context(), "h1"); n != 4 {
			t.Fatalf("events = %d, want 4", n)
		}
	})
}

func TestIngestAuthErrors(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		c1 := e.enroll("h1")
		e.enroll("h2")
		req := batchOf("h2", 1, mkFinding("h2", "x", report.CategoryVPN, "wireguard", report.SeverityLow, nil))
		var eb errBody
		cases := []struct {
			name, bearer string
			want         int
		}{
			{"no credential", "", 401},
			{"unknown credential", "bm90LWEtY3JlZGVudGlhbA", 401},
			{"other host's credential", c1, 403},
		}
		for _, c := range cases {
			eb = errBody{}
			resp := e.do("POST", "/api/v1/ingest", c.bearer, req, false, &eb)
			if resp.StatusCode != c.want || eb.Error == "" {
				t.Errorf("%s: %d %+v, want %d with a JSON error", c.name, resp.StatusCode, eb, c.want)
			}
		}
		if n, _ := e.st.CountEvents(t.Context(), "h2"); n != 0 {
			t.Fatalf("rejected requests stored %d events", n)
		}
	})
}

func TestIngestBadRequests(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		cred := e.enroll("h1")
		good := mkFinding("h1", "ok", report.CategoryVPN, "wireguard", report.SeverityLow, nil)
		badSev := *good
		badSev.Confidence = 3
		badID := *good
		badID.ID = "NOT-HEX"
		otherHost := *good
		otherHost.Host.ID = "h9"
		cases := []struct {
			name string
			body any
			want int
		}{
			{"malformed JSON", `{"host": {"id": "h1"}, "batch": [`, 400},
			{"wrong types", `{"host": {"id": "h1"}, "batch": [{"seq": "x"}]}`, 400},
			{"invalid finding", batchOf("h1", 1, good, &badSev), 400},
			{"bad finding id", batchOf("h1", 1, &badID), 400},
			{"finding of another host", batchOf("h1", 1, &otherHost), 400},
			{"unknown kind", `{"host": {"id": "h1"}, "batch": [{"seq": 1, "kind": "bogus"}]}`, 400},
			{"finding missing", `{"host": {"id": "h1"}, "batch": [{"seq": 1, "kind": "finding"}]}`, 400},
			{"bad event", `{"host": {"id": "h1"}, "batch": [{"seq": 1, "kind": "heartbeat", "heartbeat": {"event": "party"}}]}`, 400},
			{"negative seq", `{"host": {"id": "h1"}, "batch": [{"seq": -1, "kind": "heartbeat", "heartbeat": {}}]}`, 400},
		}
		for _, c := range cases {
			var eb errBody
			resp := e.do("POST", "/api/v1/ingest", cred, c.body, false, &eb)
			if resp.StatusCode != c.want || eb.Error == "" {
				t.Errorf("%s: %d %q, want %d with a JSON error", c.name, resp.StatusCode, eb.Error, c.want)
			}
		}
		// A batch rejected for one bad item stores none of it.
		if n, _ := e.st.CountEvents(t.Context(), "h1"); n != 0 {
			t.Fatalf("rejected batches stored %d events", n)
		}
		// Bad gzip and unsupported encodings.
		req, _ := http.NewRequest("POST", e.http.URL+"/api/v1/ingest", strings.NewReader("not gzip"))
		req.Header.Set("Authorization", "Bearer "+cred)
		req.Header.Set("Content-Encoding", "gzip")
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 400 {
			t.Fatalf("bad gzip: %v %v", resp.StatusCode, err)
		}
		req, _ = http.NewRequest("POST", e.http.URL+"/api/v1/ingest", strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+cred)
		req.Header.Set("Content-Encoding", "br")
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 415 {
			t.Fatalf("brotli: %v %v", resp.StatusCode, err)
		}
	})
}

func TestIngestTooLarge(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxBodyBytes = 16 << 10 })
	cred := e.enroll("h1")
	big := mkFinding("h1", "big", report.CategoryVPN, "wireguard", report.SeverityLow, map[string]any{"blob": strings.Repeat("x", 20<<10)})
	var eb errBody
	if resp := e.do("POST", "/api/v1/ingest", cred, batchOf("h1", 1, big), false, &eb); resp.StatusCode != 413 || eb.Error == "" {
		t.Fatalf("plain oversized: %d %+v", resp.StatusCode, eb)
	}
	// Compressed small, decompressed over the limit (a gzip bomb).
	if resp := e.do("POST", "/api/v1/ingest", cred, batchOf("h1", 1, big), true, &eb); resp.StatusCode != 413 {
		t.Fatalf("gzip expansion: %d %+v", resp.StatusCode, eb)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	io.Copy(zw, io.LimitReader(zeros{}, 10<<20))
	zw.Close()
	if buf.Len() > 16<<10 {
		t.Fatalf("bomb is %d bytes compressed", buf.Len())
	}
	if resp := e.do("POST", "/api/v1/ingest", cred, rawGzip(buf.Bytes()), true, &eb); resp.StatusCode != 413 {
		t.Fatalf("10 MiB gzip bomb: %d", resp.StatusCode)
	}
	// Under the limit it goes through, compressed or not.
	small := mkFinding("h1", "small", report.CategoryVPN, "wireguard", report.SeverityLow, nil)
	var r IngestResponse
	if resp := e.do("POST", "/api/v1/ingest", cred, batchOf("h1", 1, small), true, &r); resp.StatusCode != 200 || r.Accepted != 1 {
		t.Fatalf("gzip ingest: %d %+v", resp.StatusCode, r)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestBadAgentsDoNotAffectOthers(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxBodyBytes = 32 << 10 })
	good := e.enroll("good")
	bad := e.enroll("bad")
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 20; i++ {
			f := mkFinding("good", fmt.Sprint("f", i), report.CategoryVPN, "wireguard", report.SeverityLow, nil)
			var r IngestResponse
			if resp := e.do("POST", "/api/v1/ingest", good, batchOf("good", int64(i), f), i%2 == 0, &r); resp.StatusCode != 200 || r.Accepted != 1 {
				errs <- fmt.Sprintf("good batch %d: %d %+v", i, resp.StatusCode, r)
			}
		}
	}()
	go func() {
		defer wg.Done()
		huge := strings.Repeat("A", 64<<10)
		for i := 0; i < 20; i++ {
			var body any = `{"host": {"id": "bad"}, "batch": [{` // truncated JSON
			if i%3 == 1 {
				body = `{"host": {"id": "bad"}, "batch": [], "pad": "` + huge + `"}`
			} else if i%3 == 2 {
				body = batchOf("good", 100, mkFinding("good", "spoof", report.CategoryVPN, "x", report.SeverityLow, nil))
			}
			resp := e.do("POST", "/api/v1/ingest", bad, body, false, nil)
			if resp.StatusCode < 400 {
				errs <- fmt.Sprintf("bad request %d accepted: %d", i, resp.StatusCode)
			}
		}
	}()
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	if n, _ := e.st.CountEvents(t.Context(), "good"); n != 20 {
		t.Fatalf("good host has %d events, want 20", n)
	}
	if n, _ := e.st.CountEvents(t.Context(), "bad"); n != 0 {
		t.Fatalf("bad host has %d events", n)
	}
}

// slowBody blocks reads until released, holding an ingest slot.
type slowBody struct{ release chan struct{} }

func (b slowBody) Read(p []byte) (int, error) {
	<-b.release
	return 0, io.EOF
}

func TestOverloadReturns503(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxInflight = 1; o.QueueWait = 50e6 })
	cred := e.enroll("h1")
	hold := slowBody{release: make(chan struct{})}
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", e.http.URL+"/api/v1/ingest", hold)
		req.Header.Set("Authorization", "Bearer "+cred)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	// Wait until the slow request holds the only slot.
	for i := 0; i < 200 && len(e.srv.sem) == 0; i++ {
		<-timeAfter(10)
	}
	var eb errBody
	resp := e.do("POST", "/api/v1/ingest", cred, IngestRequest{Host: report.Host{ID: "h1"}}, false, &eb)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("overloaded: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	close(hold.release)
	<-done
	if resp := e.do("POST", "/api/v1/ingest", cred, IngestRequest{Host: report.Host{ID: "h1"}}, false, nil); resp.StatusCode != 200 {
		t.Fatalf("after overload: %d", resp.StatusCode)
	}
}
