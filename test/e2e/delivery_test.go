//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/report/deliver"
	"github.com/farmwatch/farmwatch/internal/report/spool"
)

// deliveryLab is one collector (real binary, TLS) and one agent config
// whose only output is that collector. Detectors are off: the findings under
// test are put into the agent's spool, exactly as the pipeline does.
type deliveryLab struct {
	t        *testing.T
	dir      string
	data     string
	port     int
	cfg      string
	spoolDir string
	token    string
	coll     *exec.Cmd
	seq      int
}

const deliverySecret = "delivery-e2e-secret-0123456789"

func newDeliveryLab(t *testing.T, spoolCap int) *deliveryLab {
	t.Helper()
	l := &deliveryLab{t: t, dir: t.TempDir()}
	l.data = filepath.Join(l.dir, "collector")
	l.port = freePort(t)
	out, err := exec.Command(collector(t), "token", "add", "e2e", "--data-dir", l.data).CombinedOutput()
	if err != nil {
		t.Fatalf("token add: %v\n%s", err, out)
	}
	fields := strings.Fields(string(out))
	l.token = fields[len(fields)-1]
	l.startCollector()
	l.spoolDir = filepath.Join(l.dir, "spool")
	l.cfg = filepath.Join(l.dir, "agent.yaml")
	cfg := fmt.Sprintf(`log: {level: debug}
detectors:
  remoteaccess: {enabled: false}
  hardware: {enabled: false}
  tunnel: {enabled: false}
report:
  heartbeat_interval: 1s
  spool_dir: %s
  spool_max_bytes: %d
  collector:
    url: https://127.0.0.1:%d
    enroll_secret: %s
    credential_file: %s
    ca_file: %s
`, l.spoolDir, spoolCap, l.port, deliverySecret, filepath.Join(l.dir, "credential"), filepath.Join(l.data, "tls", "collector.crt"))
	if err := os.WriteFile(l.cfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *deliveryLab) startCollector() {
	l.coll = startProc(l.t, collector(l.t), "--listen", fmt.Sprintf("127.0.0.1:%d", l.port), "--data-dir", l.data, "--enroll-secret", deliverySecret)
	waitListen(l.t, fmt.Sprintf("127.0.0.1:%d", l.port))
}

func (l *deliveryLab) stopCollector() {
	_ = l.coll.Process.Signal(syscall.SIGTERM)
	_, _ = l.coll.Process.Wait()
}

// fill appends n new findings to the agent's collector spool (the agent is
// not running); it returns how many the spool dropped to stay in its cap.
func (l *deliveryLab) fill(n int, spoolCap int64) {
	l.t.Helper()
	sp, err := spool.Open(filepath.Join(l.spoolDir, "collector"), spoolCap)
	if err != nil {
		l.t.Fatal(err)
	}
	defer sp.Close()
	for i := 0; i < n; i++ {
		l.seq++
		f := report.Finding{ID: fmt.Sprintf("%024x", l.seq), Time: time.Now().UTC(), Detector: "e2e", Rule: "e2e.delivery",
			Category: report.CategoryAgent, Severity: report.SeverityLow, Confidence: 1, Count: 1,
			Summary: fmt.Sprintf("delivery test finding %d", l.seq), Evidence: map[string]any{"n": l.seq, "pad": strings.Repeat("x", 200)}}
		b, err := deliver.Encode(report.Item{Kind: report.KindFinding, Finding: &f})
		if err != nil {
			l.t.Fatal(err)
		}
		if _, err := sp.Append(b); err != nil {
			l.t.Fatal(err)
		}
	}
}

func (l *deliveryLab) startAgent() *exec.Cmd {
	l.t.Helper()
	cmd := exec.Command(agent(l.t), "run", "--config", l.cfg)
	logf, err := os.OpenFile(filepath.Join(l.dir, "agent.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		l.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait(); logf.Close() })
	return cmd
}

func (l *deliveryLab) get(path string, out any) {
	l.t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("https://127.0.0.1:%d%s", l.port, path), nil)
	req.Header.Set("Authorization", "Bearer "+l.token)
	resp, err := trustingClient(l.t, l.data).Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		l.t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		l.t.Fatal(err)
	}
}

type storedHost struct {
	ID        string `json:"id"`
	Heartbeat *struct {
		SpoolDropped int64 `json:"spool_dropped"`
	} `json:"heartbeat"`
}

type storedFinding struct {
	ID    string `json:"id"`
	Rule  string `json:"rule"`
	Count int    `json:"count"`
}

// stored returns the host and its e2e findings as the collector has them.
func (l *deliveryLab) stored() (storedHost, []storedFinding) {
	l.t.Helper()
	var hosts struct {
		Hosts []storedHost `json:"hosts"`
	}
	l.get("/api/v1/hosts", &hosts)
	if len(hosts.Hosts) == 0 {
		return storedHost{}, nil
	}
	if len(hosts.Hosts) != 1 {
		l.t.Fatalf("%d hosts enrolled, want 1", len(hosts.Hosts))
	}
	var fs struct {
		Findings []storedFinding `json:"findings"`
	}
	l.get("/api/v1/hosts/"+hosts.Hosts[0].ID+"/findings", &fs)
	var out []storedFinding
	for _, f := range fs.Findings {
		if f.Rule == "e2e.delivery" {
			out = append(out, f)
		}
	}
	return hosts.Hosts[0], out
}

// waitStored waits until the collector holds want e2e findings.
func (l *deliveryLab) waitStored(want int, within time.Duration) (storedHost, []storedFinding) {
	l.t.Helper()
	deadline := time.Now().Add(within)
	for {
		h, fs := l.stored()
		if len(fs) >= want || time.Now().After(deadline) {
			if len(fs) != want {
				log, _ := os.ReadFile(filepath.Join(l.dir, "agent.log"))
				l.t.Fatalf("collector holds %d findings, want %d\nagent log tail:\n%s", len(fs), want, tail(string(log), 3000))
			}
			return h, fs
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func exactlyOnce(t *testing.T, fs []storedFinding) {
	t.Helper()
	seen := map[string]bool{}
	for _, f := range fs {
		if seen[f.ID] {
			t.Fatalf("finding %s stored twice", f.ID)
		}
		seen[f.ID] = true
		if f.Count != 1 {
			t.Fatalf("finding %s has count %d after re-sends, want 1", f.ID, f.Count)
		}
	}
}

// ackedSeq reads how far the agent's collector spool is acknowledged.
func (l *deliveryLab) ackedSeq() int {
	b, err := os.ReadFile(filepath.Join(l.spoolDir, "collector", "state.json"))
	if err != nil {
		return 0
	}
	var st struct {
		Acked int `json:"acked"`
	}
	_ = json.Unmarshal(b, &st)
	return st.Acked
}

// TestKill9DuringSendingStoresEachFindingOnce kills the agent with SIGKILL
// twenty times in the middle of delivering (after some batches were
// acknowledged, before all were), then lets it finish: every finding is
// stored exactly once.
func TestKill9DuringSendingStoresEachFindingOnce(t *testing.T) {
	requireE2E(t)
	l := newDeliveryLab(t, 256<<20)
	total, midway := 0, 0
	for i := 0; i < 20; i++ {
		l.fill(1500, 256<<20)
		total += 1500
		before := l.ackedSeq()
		cmd := l.startAgent()
		deadline := time.Now().Add(20 * time.Second)
		for l.ackedSeq() == before && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		if a := l.ackedSeq(); a > before && a < l.seq {
			midway++
		}
	}
	if midway < 10 {
		t.Fatalf("only %d of 20 kills landed while batches were in flight", midway)
	}
	cmd := l.startAgent()
	_, fs := l.waitStored(total, 120*time.Second)
	exactlyOnce(t, fs)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	t.Logf("%d findings, 20 SIGKILLs (%d mid-delivery), all stored exactly once", total, midway)
}

// TestCollectorDownThenBack: findings spooled while the collector is down
// are delivered after it returns.
func TestCollectorDownThenBack(t *testing.T) {
	requireE2E(t)
	l := newDeliveryLab(t, 256<<20)
	l.stopCollector()
	l.fill(500, 256<<20)
	cmd := l.startAgent()
	// The agent tries, fails and backs off (twice) while the collector is
	// down: wait for that in its log rather than for a fixed time.
	waitFor(t, "two failed delivery attempts", func() bool {
		b, _ := os.ReadFile(filepath.Join(l.dir, "agent.log"))
		return strings.Count(string(b), `"delivery_failed"`) >= 2
	})
	l.startCollector()
	_, fs := l.waitStored(500, 90*time.Second)
	exactlyOnce(t, fs)
	_ = cmd.Process.Signal(syscall.SIGTERM)
}

// TestSpoolCapDropsAreCountedAndReported: more findings than the spool cap
// holds; the oldest are dropped, the drop count reaches the collector in
// the heartbeat, and the rest are delivered.
func TestSpoolCapDropsAreCountedAndReported(t *testing.T) {
	requireE2E(t)
	const spoolCap = 64 << 10
	l := newDeliveryLab(t, spoolCap)
	l.fill(2000, spoolCap)
	sp, err := spool.Open(filepath.Join(l.spoolDir, "collector"), spoolCap)
	if err != nil {
		t.Fatal(err)
	}
	st := sp.Stats()
	sp.Close()
	if st.Dropped == 0 {
		t.Fatalf("2000 findings fit in a %d-byte spool? %+v", spoolCap, st)
	}
	cmd := l.startAgent()
	h, fs := l.waitStored(2000-int(st.Dropped), 90*time.Second)
	exactlyOnce(t, fs)
	deadline := time.Now().Add(30 * time.Second)
	for (h.Heartbeat == nil || h.Heartbeat.SpoolDropped != int64(st.Dropped)) && time.Now().Before(deadline) {
		time.Sleep(300 * time.Millisecond)
		h, _ = l.stored()
	}
	if h.Heartbeat == nil || h.Heartbeat.SpoolDropped != int64(st.Dropped) {
		t.Fatalf("collector's last heartbeat reports %+v dropped, want %d", h.Heartbeat, st.Dropped)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	t.Logf("spool cap %d bytes: %d dropped and reported, %d delivered", spoolCap, st.Dropped, len(fs))
}
