//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFleetLiveState runs the real collector and three real agents (`run
// --snapshot`, re-reporting every second) and checks what the analyst sees
// as it happens: an ongoing finding's last_seen and count advance at the
// collector with one alert only, and it is marked ended once it stops being
// seen; the live capture's counters and the spool backlog of the heartbeat
// are in the host API and /metrics; a host sharing the KVM (its USB serial) of a high-risk
// host and a host gone silent score higher with the reason; the silence
// alert is counted in the alert metrics.
func TestFleetLiveState(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts the collector and agent binaries")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the live capture on lo needs root (CAP_NET_RAW)")
	}
	dir := t.TempDir()
	hook := newAlertHook(t)

	const secret = "state-e2e-enroll-secret-0123456789"
	port := freePort(t)
	data := filepath.Join(dir, "collector")
	ccfg := filepath.Join(dir, "collector.yaml")
	if err := os.WriteFile(ccfg, []byte(fmt.Sprintf(`listen: 127.0.0.1:%d
data_dir: %s
enroll_secrets: [%s]
silence_heartbeats: 2
silence_check_every: 250ms
alerts:
  min_severity: high
  webhooks:
    - {name: soc, url: %q, format: json}
  rules:
    - {name: all, kinds: [finding, host_silent, shared_infrastructure], webhooks: [soc]}
`, port, data, secret, hook.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	cbin := collector(t)
	startProc(t, cbin, "--config", ccfg)
	waitListen(t, fmt.Sprintf("127.0.0.1:%d", port))
	tok, err := exec.Command(cbin, "token", "add", "e2e", "--data-dir", data).Output()
	if err != nil {
		t.Fatalf("token add: %v", err)
	}
	token := strings.TrimSpace(string(tok))
	hc := trustingClient(t, data)
	base := fmt.Sprintf("https://127.0.0.1:%d", port)
	get := func(path string, out any) bool {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if s, ok := out.(*string); ok {
			*s = string(b)
			return resp.StatusCode == 200
		}
		return resp.StatusCode == 200 && json.Unmarshal(b, out) == nil
	}
	metric := func(prefix string) float64 {
		var m string
		get("/metrics", &m)
		for _, line := range strings.Split(m, "\n") {
			if strings.HasPrefix(line, prefix) {
				var v float64
				fmt.Sscanf(strings.Fields(line)[len(strings.Fields(line))-1], "%g", &v)
				return v
			}
		}
		return -1
	}
	waitFor := func(what string, d time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out after %s waiting for %s", d, what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// live-1: a farm laptop (JetKVM + a VNC session driven from outside)
	// with the live capture on lo; kvm-only: the same JetKVM, no session;
	// quiet-1: an ordinary laptop, killed later.
	live := fleetLaptop(t, dir, "live-1", true, "192.168.50.1", "f4:92:bf:01:02:03", "a4:83:e7:00:00:01", nil)
	kvmOnly := fleetLaptop(t, dir, "kvm-only", true, "192.168.60.1", "f4:92:bf:01:02:04", "a4:83:e7:00:00:02", nil)
	for _, f := range []string{"processes.json", "connections.json"} {
		if err := os.Remove(filepath.Join(kvmOnly, f)); err != nil {
			t.Fatal(err)
		}
	}
	quiet := fleetLaptop(t, dir, "quiet-1", false, "10.20.0.1", "00:1a:2b:00:00:09", "3c:22:fb:00:00:09", nil)
	procs := map[string]*exec.Cmd{}
	for _, l := range []struct{ id, snap, extra string }{
		{"live-1", live, "  traffic: {enabled: true, settings: {interfaces: [lo], mode: capture, report_every: 1s}}\n"},
		{"kvm-only", kvmOnly, "  traffic: {enabled: false}\n"},
		{"quiet-1", quiet, "  traffic: {enabled: false}\n"},
	} {
		state := filepath.Join(dir, "state-"+l.id)
		cfg := filepath.Join(dir, l.id+".yaml")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`detectors:
%s  lan: {enabled: false}
  context: {enabled: false}
  tunnel: {enabled: false}
  hardware: {interval: 1s}
  remoteaccess: {interval: 1s}
report:
  heartbeat_interval: 1s
  report_every: 1s
  spool_dir: %s
  collector:
    url: https://127.0.0.1:%d
    enroll_secret: %s
    credential_file: %s
    ca_file: %s
`, l.extra, filepath.Join(state, "spool"), port, secret, filepath.Join(state, "credential"), filepath.Join(data, "tls", "collector.crt"))), 0o644); err != nil {
			t.Fatal(err)
		}
		procs[l.id] = startProc(t, agent(t), "run", "--config", cfg, "--snapshot", l.snap)
	}

	type finding struct {
		ID              string    `json:"id"`
		Rule            string    `json:"rule"`
		Category        string    `json:"category"`
		Count           int       `json:"count"`
		FirstSeen       time.Time `json:"first_seen"`
		LastSeen        time.Time `json:"last_seen"`
		State           string    `json:"state"`
		DurationSeconds float64   `json:"duration_seconds"`
	}
	findings := func(host string) map[string]finding {
		var r struct {
			Findings []finding `json:"findings"`
		}
		get("/api/v1/hosts/"+host+"/findings", &r)
		out := map[string]finding{}
		for _, f := range r.Findings {
			out[f.Category] = f
		}
		return out
	}
	// The ongoing findings are re-reported: last_seen and count advance.
	var first map[string]finding
	waitFor("live-1's KVM and VNC findings", 30*time.Second, func() bool {
		first = findings("live-1")
		return first["remote-access-hardware"].ID != "" && first["remote-access"].ID != ""
	})
	waitFor("live-1's findings re-reported (last_seen +3 s, count ≥ 4)", 30*time.Second, func() bool {
		now := findings("live-1")
		for _, c := range []string{"remote-access-hardware", "remote-access"} {
			f := now[c]
			if !f.LastSeen.After(first[c].LastSeen.Add(3*time.Second)) || f.Count < 4 || f.State != "active" || f.DurationSeconds < 3 {
				return false
			}
		}
		return true
	})
	// The VNC session ends: after three runs without it, it is marked ended.
	for _, f := range []string{"processes.json", "connections.json"} {
		if err := os.Remove(filepath.Join(live, f)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor("the ended VNC session marked ended", 30*time.Second, func() bool {
		fs := findings("live-1")
		return fs["remote-access"].State == "ended" && fs["remote-access-hardware"].State == "active"
	})

	// The capture counters and the spool backlog of the latest heartbeat.
	type host struct {
		Heartbeat struct {
			SpoolBytes        *int64 `json:"spool_bytes"`
			SpoolPending      *int64 `json:"spool_pending"`
			SpoolPendingBytes *int64 `json:"spool_pending_bytes"`
			Capture           []struct {
				Interface     string  `json:"interface"`
				Packets       uint64  `json:"packets"`
				KernelPackets uint64  `json:"kernel_packets"`
				KernelDrops   *uint64 `json:"kernel_drops"`
				Pauses        *uint64 `json:"pauses"`
			} `json:"capture"`
		} `json:"heartbeat"`
		Risk struct {
			Score         int `json:"score"`
			Base          int `json:"base"`
			Contributions []struct {
				Kind   string  `json:"kind"`
				Host   string  `json:"host"`
				Points float64 `json:"points"`
				Reason string  `json:"reason"`
			} `json:"contributions"`
		} `json:"risk"`
	}
	var h host
	waitFor("live-1's capture counters in the host API", 30*time.Second, func() bool {
		h = host{}
		return get("/api/v1/hosts/live-1", &h) && len(h.Heartbeat.Capture) == 1 && h.Heartbeat.Capture[0].KernelPackets > 0 && h.Heartbeat.Capture[0].Packets > 0
	})
	c := h.Heartbeat.Capture[0]
	if c.Interface != "lo" || c.KernelDrops == nil || c.Pauses == nil || h.Heartbeat.SpoolPending == nil || h.Heartbeat.SpoolPendingBytes == nil ||
		*h.Heartbeat.SpoolPendingBytes > *h.Heartbeat.SpoolBytes {
		t.Fatalf("heartbeat in the host API: %+v", h.Heartbeat)
	}
	t.Logf("live-1 heartbeat: capture on %s: %d packets analysed, %d kernel packets, %d drops, %d pauses; spool %d bytes on disk, %d pending (%d bytes)", c.Interface, c.Packets, c.KernelPackets, *c.KernelDrops, *c.Pauses, *h.Heartbeat.SpoolBytes, *h.Heartbeat.SpoolPending, *h.Heartbeat.SpoolPendingBytes)
	if v := metric(`farmwatch_agent_capture{counter="kernel_packets",host="live-1",interface="lo"}`); v <= 0 {
		t.Errorf("capture counter not in /metrics: %v", v)
	}
	if v := metric(`farmwatch_agent_spool{host="live-1",what="pending"}`); v < 0 {
		t.Errorf("spool backlog not in /metrics")
	}

	// kvm-only shares the JetKVM with live-1 (high risk): its score says so.
	var k host
	waitFor("kvm-only's score raised by the shared KVM", 30*time.Second, func() bool {
		k = host{}
		get("/api/v1/hosts/kvm-only", &k)
		for _, c := range k.Risk.Contributions {
			if c.Kind == "fleet" && c.Host == "live-1" && c.Points > 0 && strings.Contains(c.Reason, "USB serial") {
				return k.Risk.Score > k.Risk.Base
			}
		}
		return false
	})
	t.Logf("kvm-only risk: %+v", k.Risk)

	// quiet-1 goes silent (killed, no stop heartbeat).
	_ = syscall.Kill(-procs["quiet-1"].Process.Pid, syscall.SIGKILL)
	var q host
	waitFor("quiet-1's silence alert, metric and score", 30*time.Second, func() bool {
		q = host{}
		get("/api/v1/hosts/quiet-1", &q)
		silent := false
		for _, c := range q.Risk.Contributions {
			silent = silent || c.Kind == "silence" && strings.Contains(c.Reason, "silent")
		}
		return silent && q.Risk.Score > q.Risk.Base && metric(`farmwatch_alerts_raised_total{kind="host_silent"}`) == 1
	})
	t.Logf("quiet-1 risk: %+v", q.Risk)

	// One alert per finding, however often it was re-reported.
	per := map[string]int{}
	silentHook := false
	for _, a := range hook.Alerts() {
		if a["kind"] == "finding" {
			per[a["dedup_key"].(string)]++
		}
		silentHook = silentHook || a["kind"] == "host_silent"
	}
	for key, n := range per {
		if n != 1 {
			t.Errorf("alert %s delivered %d times", key, n)
		}
	}
	if len(per) == 0 || !silentHook {
		t.Errorf("webhook: finding alerts %v, host_silent %v", per, silentHook)
	}
	t.Logf("finding alerts delivered: %v", per)
}
