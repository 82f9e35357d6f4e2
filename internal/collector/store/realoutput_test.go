package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/collector/risk"
	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/testenv"
)

// agentBinary builds the real farmwatch-agent once per test binary.
func agentBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("FARMWATCH_AGENT_BIN"); b != "" {
		return b
	}
	out := filepath.Join(t.TempDir(), "farmwatch-agent")
	if runtime.GOOS == "windows" {
		out += ".exe"
	}
	cmd := exec.Command("go", "build", "-o", out, "github.com/farmwatch/farmwatch/cmd/agent")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build farmwatch-agent: %v\n%s", err, b)
	}
	return out
}

// asHost copies a fixture snapshot and names it hostID, as if recorded on
// that laptop.
func asHost(t *testing.T, fixture, hostID string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), hostID)
	if err := os.CopyFS(dir, os.DirFS(fixture)); err != nil {
		t.Fatalf("copy %s: %v", fixture, err)
	}
	var host map[string]any
	b, err := os.ReadFile(filepath.Join(dir, "host.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &host); err != nil {
		t.Fatal(err)
	}
	host["host_id"], host["hostname"] = hostID, hostID+"-laptop"
	b, _ = json.Marshal(host)
	if err := os.WriteFile(filepath.Join(dir, "host.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// scanJSON runs `farmwatch-agent scan --snapshot dir --format json` and
// decodes its findings exactly as the collector's ingest would.
func scanJSON(t *testing.T, bin, dir string) []report.Finding {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "scan", "--snapshot", dir, "--format", "json")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("scan %s: %v\n%s", dir, err, stderr.String())
	}
	var out []report.Finding
	dec := json.NewDecoder(&stdout)
	for dec.More() {
		var f report.Finding
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("scan %s: %v", dir, err)
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		t.Fatalf("scan %s: no findings", dir)
	}
	return out
}

// TestCorrelationOnRealAgentOutput feeds what the real agent binary reports
// for the repository's fixture snapshots into the collector's store and
// checks which fleet alerts it raises: the same JetKVM (its spoofing preset's
// serial is drawn at random per device) on two laptops, the same VNC
// controller on two laptops, the same self-hosted ScreenConnect relay on two
// laptops link them; two PiKVMs with the factory serial "CAFEBABE" and the
// preset EDID do not.
func TestCorrelationOnRealAgentOutput(t *testing.T) {
	if testing.Short() {
		testenv.Missing(t, "builds and runs the agent binary")
	}
	bin := agentBinary(t)
	root := filepath.Join("..", "..", "..", "testdata")
	type laptop struct{ id, fixture string }
	laptops := []laptop{
		{"jet-a", "hardware/linux/jetkvm-logitech"}, {"jet-b", "hardware/linux/jetkvm-logitech"},
		{"pi-a", "hardware/linux/pikvm"}, {"pi-b", "hardware/linux/pikvm"},
		{"vnc-a", "context/linux-ibus-hangul"}, {"vnc-b", "context/linux-ibus-hangul"},
		{"sc-a", "remoteaccess/windows-screenconnect-relay"}, {"sc-b", "remoteaccess/windows-screenconnect-relay"},
	}
	s := openSQLite(t)
	ctx := context.Background()
	for i, l := range laptops {
		fs := scanJSON(t, bin, asHost(t, filepath.Join(root, l.fixture), l.id))
		var items []store.Item
		for j := range fs {
			items = append(items, store.Item{Seq: int64(j + 1), Kind: store.KindFinding, Finding: &fs[j]})
		}
		if _, err := s.Ingest(ctx, store.Batch{Host: fs[0].Host, Items: items}, t0.Add(time.Duration(i)*time.Minute), testPolicy{min: report.SeverityCritical + 1}); err != nil {
			t.Fatalf("ingest %s: %v", l.id, err)
		}
	}
	alerts, err := s.Alerts(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, a := range alerts {
		if a.Kind == store.AlertSharedInfra {
			got[a.DedupKey] = a.Hosts
		}
	}
	want := map[string][]string{
		"shared:usb_serial:3&1a2b3c4&0&1":            {"jet-a", "jet-b"},
		"shared:peer:198.51.100.23":                  {"vnc-a", "vnc-b"},
		"shared:relay:relay.helpdesk-portal.example": {"sc-a", "sc-b"},
	}
	for k, hosts := range want {
		if !slices.Equal(got[k], hosts) {
			t.Errorf("alert %s: hosts %v, want %v", k, got[k], hosts)
		}
	}
	for k, hosts := range got {
		if _, ok := want[k]; ok {
			continue
		}
		// The two PiKVMs share only factory/preset serials: never a link.
		if slices.Contains(hosts, "pi-a") || strings.Contains(k, "cafebabe") || strings.Contains(k, "01010101") {
			t.Errorf("default serial linked hosts: %s %v", k, hosts)
		} else {
			t.Errorf("unexpected shared-infrastructure alert %s %v", k, hosts)
		}
	}
}

// TestFleetRiskOnRealAgentOutput: two laptops share the recorded JetKVM (the
// real agent's scan output); when one of them also shows a VNC session
// driven from outside (its own score high), the other's score rises with
// the shared KVM named as the reason; when a host goes silent its score
// rises too, and falls back when it heartbeats again.
func TestFleetRiskOnRealAgentOutput(t *testing.T) {
	if testing.Short() {
		testenv.Missing(t, "builds and runs the agent binary")
	}
	bin := agentBinary(t)
	root := filepath.Join("..", "..", "..", "testdata")
	s := openSQLite(t)
	ctx := context.Background()
	seq := map[string]int64{}
	ingest := func(id, fixture string, at time.Time) {
		t.Helper()
		fs := scanJSON(t, bin, asHost(t, filepath.Join(root, fixture), id))
		var items []store.Item
		for j := range fs {
			seq[id]++
			items = append(items, store.Item{Seq: seq[id], Kind: store.KindFinding, Finding: &fs[j]})
		}
		if _, err := s.Ingest(ctx, store.Batch{Host: fs[0].Host, Items: items}, at, testPolicy{min: report.SeverityCritical + 1}); err != nil {
			t.Fatalf("ingest %s: %v", id, err)
		}
	}
	riskOf := func(id string) risk.Result {
		h, err := s.Host(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return h.Risk
	}
	ingest("jet-a", "hardware/linux/jetkvm-logitech", t0)
	ingest("jet-b", "hardware/linux/jetkvm-logitech", t0.Add(time.Minute))
	alone := riskOf("jet-a")
	if alone.Score != alone.Base {
		t.Fatalf("jet-a shares the KVM with a host no riskier than itself: %+v", alone)
	}
	ingest("jet-b", "context/linux-ibus-hangul", t0.Add(2*time.Minute))
	b := riskOf("jet-b")
	a := riskOf("jet-a")
	if b.Base < 50 {
		t.Fatalf("jet-b with a KVM and a VNC session: %+v", b)
	}
	var reason string
	for _, c := range a.Contributions {
		if c.Kind == "fleet" && c.Host == "jet-b" {
			reason = c.Reason
		}
	}
	if a.Score <= alone.Score || a.Base != alone.Base || !strings.Contains(reason, "USB serial") {
		t.Fatalf("jet-a sharing the KVM of %s-risk jet-b: before %+v, after %+v", b.Level, alone, a)
	}
	t.Logf("jet-a: %d → %d (%s)", alone.Score, a.Score, reason)

	// jet-a goes silent: its score rises; a heartbeat brings it back.
	hb := &store.Heartbeat{Time: t0, IntervalSeconds: 60}
	seq["jet-a"]++
	if _, err := s.Ingest(ctx, store.Batch{Host: report.Host{ID: "jet-a"}, Items: []store.Item{{Seq: seq["jet-a"], Kind: store.KindHeartbeat, Heartbeat: hb}}}, t0.Add(3*time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckSilence(ctx, t0.Add(10*time.Minute), 3, testPolicy{}); err != nil {
		t.Fatal(err)
	}
	silent := riskOf("jet-a")
	if silent.Score != min(a.Score+risk.Silent, risk.Max) || silent.Contributions[len(silent.Contributions)-1].Kind != "silence" {
		t.Fatalf("silent jet-a: %+v", silent)
	}
	seq["jet-a"]++
	if _, err := s.Ingest(ctx, store.Batch{Host: report.Host{ID: "jet-a"}, Items: []store.Item{{Seq: seq["jet-a"], Kind: store.KindHeartbeat, Heartbeat: hb}}}, t0.Add(11*time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	if back := riskOf("jet-a"); back.Score != a.Score {
		t.Fatalf("jet-a heartbeats again: %+v, want score %d", back, a.Score)
	}
}
