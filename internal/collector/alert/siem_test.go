package alert

// The receivers here are local servers following the published APIs
// (Splunk HEC: POST /services/collector/event, `Authorization: Splunk
// <token>`, {"text":"Success","code":0}, 503 when busy; Elasticsearch
// _bulk: NDJSON action + document lines, per-item results, 429 when
// overloaded). Neither Splunk nor Elasticsearch/OpenSearch is packaged in
// Debian or npm, so no real receiver runs in this test.

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/collector/config"
	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report"
)

func siemAlert() store.Alert {
	t := time.Date(2026, 12, 6, 19, 0, 0, 0, time.UTC)
	return store.Alert{ID: "a1", Kind: "shared_infrastructure", Severity: report.SeverityCritical, Category: "remote-access-hardware",
		Title: "3 hosts share one IP-KVM", Detail: "serial X", Hosts: []string{"h1", "h2", "h3"}, Status: "open", CreatedAt: t, UpdatedAt: t}
}

// hec is a Splunk HEC receiver: it answers busy (503) the first `busy` times.
type hec struct {
	mu     sync.Mutex
	busy   int
	events []HECEvent
}

func (h *hec) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/services/collector/event" {
		http.Error(w, `{"text":"The requested URL was not found on this server.","code":404}`, http.StatusNotFound)
		return
	}
	if r.Header.Get("Authorization") != "Splunk tok-123" {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"text":"Invalid token","code":4}`) //nolint:errcheck
		return
	}
	if h.busy > 0 {
		h.busy--
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"text":"Server is busy","code":9}`) //nolint:errcheck
		return
	}
	dec := json.NewDecoder(r.Body)
	for dec.More() {
		var e HECEvent
		if err := dec.Decode(&e); err != nil || e.Event == nil {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"text":"Invalid data format","code":6}`) //nolint:errcheck
			return
		}
		h.events = append(h.events, e)
	}
	io.WriteString(w, `{"text":"Success","code":0}`) //nolint:errcheck
}

func TestSplunkHEC(t *testing.T) {
	h := &hec{busy: 1}
	srv := httptest.NewTLSServer(h)
	defer srv.Close()
	s, err := NewSIEM(config.Webhook{Name: "splunk", URL: srv.URL, Format: "splunk_hec", Token: "tok-123", Index: "sec"})
	if err != nil {
		t.Fatal(err)
	}
	s.Client = srv.Client()
	ctx := context.Background()
	if err := s.Deliver(ctx, siemAlert()); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("busy receiver: err = %v, want a 503 error for the dispatcher to retry", err)
	}
	if err := s.Deliver(ctx, siemAlert()); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if len(h.events) != 1 || h.events[0].Index != "sec" || h.events[0].Sourcetype != "farmwatch:alert" || h.events[0].Time != 1796583600 {
		t.Fatalf("events = %+v", h.events)
	}
	bad, _ := NewSIEM(config.Webhook{Name: "splunk", URL: srv.URL, Format: "splunk_hec", Token: "wrong"})
	bad.Client = srv.Client()
	if err := bad.Deliver(ctx, siemAlert()); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("wrong token: %v", err)
	}
}

// bulk is an Elasticsearch _bulk receiver: 429 the first `busy` times,
// then per-item results, failing the items whose document is in `reject`.
type bulk struct {
	mu     sync.Mutex
	busy   int
	reject bool
	docs   []map[string]any
	auth   []string
}

func (b *bulk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.URL.Path != "/_bulk" || r.Header.Get("Content-Type") != "application/x-ndjson" {
		http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
		return
	}
	b.auth = append(b.auth, r.Header.Get("Authorization"))
	if b.busy > 0 {
		b.busy--
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":{"type":"es_rejected_execution_exception"},"status":429}`) //nolint:errcheck
		return
	}
	sc := bufio.NewScanner(r.Body)
	var items []any
	failed := false
	for sc.Scan() {
		var action map[string]map[string]any
		if err := json.Unmarshal(sc.Bytes(), &action); err != nil || action["create"] == nil || !sc.Scan() {
			http.Error(w, `{"error":"malformed action"}`, http.StatusBadRequest)
			return
		}
		var doc map[string]any
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			http.Error(w, `{"error":"malformed doc"}`, http.StatusBadRequest)
			return
		}
		if b.reject {
			failed = true
			items = append(items, map[string]any{"create": map[string]any{"_index": action["create"]["_index"], "status": 400,
				"error": map[string]any{"type": "mapper_parsing_exception", "reason": "failed to parse field [event.severity]"}}})
			continue
		}
		b.docs = append(b.docs, doc)
		items = append(items, map[string]any{"create": map[string]any{"_index": action["create"]["_index"], "_id": action["create"]["_id"], "status": 201, "result": "created"}})
	}
	json.NewEncoder(w).Encode(map[string]any{"took": 1, "errors": failed, "items": items}) //nolint:errcheck
}

func TestElasticsearchBulk(t *testing.T) {
	b := &bulk{busy: 1}
	srv := httptest.NewServer(b)
	defer srv.Close()
	s, err := NewSIEM(config.Webhook{Name: "es", URL: srv.URL, Format: "elasticsearch", APIKey: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Deliver(ctx, siemAlert()); err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("overloaded receiver: err = %v, want a 429 error", err)
	}
	if err := s.Deliver(ctx, siemAlert()); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if len(b.docs) != 1 || b.auth[0] != "ApiKey k1" {
		t.Fatalf("docs %v auth %v", b.docs, b.auth)
	}
	d := b.docs[0]
	ev := d["event"].(map[string]any)
	if d["@timestamp"] != "2026-12-06T19:00:00Z" || ev["kind"] != "alert" || ev["severity"] != 99.0 || d["rule"].(map[string]any)["id"] != "shared_infrastructure" {
		t.Fatalf("ECS doc = %v", d)
	}
	if hosts := d["related"].(map[string]any)["hosts"].([]any); len(hosts) != 3 {
		t.Fatalf("related.hosts = %v", hosts)
	}
	b.reject = true
	if err := s.Deliver(ctx, siemAlert()); err == nil || !strings.Contains(err.Error(), "mapper_parsing_exception") {
		t.Fatalf("partial bulk failure: err = %v", err)
	}
	basic, _ := NewSIEM(config.Webhook{Name: "os", URL: srv.URL, Format: "elasticsearch", Username: "u", Password: "p"})
	b.reject = false
	if err := basic.Deliver(ctx, siemAlert()); err != nil || !strings.HasPrefix(b.auth[len(b.auth)-1], "Basic ") {
		t.Fatalf("basic auth: %v %v", err, b.auth)
	}
}

func TestWebhookOCSF(t *testing.T) {
	b, err := NewWebhook("x", "http://127.0.0.1:1", "ocsf").Body(siemAlert())
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil || ev["class_uid"] != 2004.0 || len(ev["resources"].([]any)) != 3 {
		t.Fatalf("body %s: %v", b, err)
	}
}
