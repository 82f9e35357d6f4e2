package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/collector/alert"
	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report"
)

// BenchmarkIngest measures end-to-end ingest over HTTP into SQLite: batches
// of 100 findings from 8 enrolled hosts sent by concurrent clients, with
// finding ids drawn from a per-host pool so both inserts and count updates
// happen. It reports findings/s and the p99 request latency.
func BenchmarkIngest(b *testing.B) {
	const batchSize, hosts = 100, 8
	st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	mctx, stopMaintain := context.WithCancel(context.Background())
	maintained := make(chan struct{})
	go func() { st.Maintain(mctx, time.Second, time.Now); close(maintained) }()
	defer func() { stopMaintain(); <-maintained }()
	srv, err := New(Options{Store: st, Policy: &alert.Policy{MinSeverity: report.SeverityHigh}, EnrollSecrets: []string{secret}, MaxInflight: 8})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	creds := make([]string, hosts)
	for i := range creds {
		body, _ := json.Marshal(EnrollRequest{EnrollSecret: secret, Host: report.Host{ID: fmt.Sprint("bench-", i)}})
		resp, err := client.Post(hs.URL+"/api/v1/enroll", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		var r EnrollResponse
		json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		creds[i] = r.Credential
	}
	var seqs [hosts]atomic.Int64
	var hostPick atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	sevs := []report.Severity{report.SeverityInfo, report.SeverityLow, report.SeverityMedium, report.SeverityHigh}
	cats := []report.Category{report.CategoryRemoteAccess, report.CategoryVPN, report.CategoryTunnel, report.CategoryLANDevice}
	b.SetParallelism(1) // GOMAXPROCS concurrent agents
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		h := int(hostPick.Add(1)-1) % hosts
		hid := fmt.Sprint("bench-", h)
		var mine []time.Duration
		for pb.Next() {
			req := IngestRequest{Host: report.Host{ID: hid, Name: hid}, Batch: make([]store.Item, batchSize)}
			for i := range req.Batch {
				seq := seqs[h].Add(1)
				subj := fmt.Sprint("subject-", seq%500)
				f := &report.Finding{ID: report.StableID(hid, "bench.rule", "tool", subj), Time: time.Now(), Host: req.Host, Detector: "bench",
					Rule: "bench.rule", Category: cats[seq%4], Tool: "tool", Severity: sevs[seq%4], Confidence: 0.8, Summary: "bench " + subj,
					Evidence: map[string]any{"pid": seq, "path": "/usr/bin/" + subj, report.EvInboundConnections: []string{fmt.Sprintf("tcp/5900 from 198.51.100.%d:443", seq%200)}}, Count: 1}
				req.Batch[i] = store.Item{Seq: seq, Kind: store.KindFinding, Finding: f}
			}
			body, _ := json.Marshal(req)
			r, _ := http.NewRequest("POST", hs.URL+"/api/v1/ingest", bytes.NewReader(body))
			r.Header.Set("Authorization", "Bearer "+creds[h])
			t0 := time.Now()
			resp, err := client.Do(r)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mine = append(mine, time.Since(t0))
			if resp.StatusCode != 200 {
				b.Errorf("ingest: %d", resp.StatusCode)
				return
			}
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p99 := lat[min(len(lat)-1, len(lat)*99/100)]
	b.ReportMetric(float64(len(lat)*batchSize)/elapsed.Seconds(), "findings/s")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
}
