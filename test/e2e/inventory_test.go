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
	"testing"
	"time"
)

// inventoryLaptop writes a snapshot of a laptop with a Korean input method
// and a VNC session driven from outside (the recorded
// context/linux-ibus-hangul host), with the given time zone, locale and
// machine serial.
func inventoryLaptop(t *testing.T, dir, name, serial, zone, locale string) string {
	t.Helper()
	snap := filepath.Join(dir, name)
	if err := os.CopyFS(snap, os.DirFS(filepath.Join("..", "..", "testdata", "context", "linux-ibus-hangul"))); err != nil {
		t.Fatal(err)
	}
	for rel, data := range map[string]string{
		"host.json":          fmt.Sprintf(`{"hostname": %q, "host_id": %q, "os": "linux", "serial": %q}`, name, name+"-id", serial),
		"etc/timezone":       zone + "\n",
		"etc/default/locale": "LANG=" + locale + "\n",
	} {
		p := filepath.Join(snap, rel)
		_ = os.Remove(p) // CopyFS leaves files read-only
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return snap
}

// TestInventoryRegionEndToEnd runs the real collector with an imported
// Intune Devices export and two real agents (`run --snapshot`) on laptops
// with the same software: one in Asia/Pyongyang with a ko_KP locale whose
// inventory row says its user is in the US, one in Asia/Seoul issued to a
// user in Korea. The first is scored higher and its explanation names the
// person, the expected region and what disagrees (time zone, locale, the
// Korean input method, and the configured egress network the agent
// connects from, here loopback declared as the Seoul office); the second
// gains nothing. The Kandji export imported first with the CLI lists its
// rows as unmatched.
func TestInventoryRegionEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts the collector and agent binaries")
	}
	dir := t.TempDir()
	const secret = "inventory-e2e-enroll-secret-0123456789"
	port := freePort(t)
	data := filepath.Join(dir, "collector")
	ccfg := filepath.Join(dir, "collector.yaml")
	if err := os.WriteFile(ccfg, []byte(fmt.Sprintf(`listen: 127.0.0.1:%d
data_dir: %s
enroll_secrets: [%s]
inventory:
  egress_networks:
    - {name: Seoul office, country: KR, networks: [127.0.0.0/8]}
`, port, data, secret)), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := collector(t)
	// The CLI import, before any host exists: every row is unmatched.
	out, err := exec.Command(bin, "inventory", "import", filepath.Join("..", "..", "internal", "collector", "inventory", "testdata", "kandji-devices.json"), "--config", ccfg).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "imported 2 devices (kandji)") || !strings.Contains(string(out), "inventory rows matching no host: 2") {
		t.Fatalf("inventory import: %v\n%s", err, out)
	}
	tokOut, err := exec.Command(bin, "token", "add", "e2e", "--config", ccfg).Output()
	if err != nil {
		t.Fatalf("token add: %v", err)
	}
	token := strings.TrimSpace(string(tokOut))
	startProc(t, bin, "--config", ccfg)
	waitListen(t, fmt.Sprintf("127.0.0.1:%d", port))

	far := inventoryLaptop(t, dir, "lap-0042", "PF3FARM42", "Asia/Pyongyang", "ko_KP.UTF-8")
	home := inventoryLaptop(t, dir, "lap-0043", "PF3HOME43", "Asia/Seoul", "ko_KR.UTF-8")
	for _, snap := range []string{far, home} {
		state := filepath.Join(snap + "-state")
		cfg := snap + ".yaml"
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`detectors:
  traffic: {enabled: false}
  lan: {enabled: false}
  tunnel: {enabled: false}
  hardware: {enabled: false}
  remoteaccess: {enabled: false}
report:
  heartbeat_interval: 1s
  spool_dir: %s
  collector:
    url: https://127.0.0.1:%d
    enroll_secret: %s
    credential_file: %s
    ca_file: %s
`, filepath.Join(state, "spool"), port, secret, filepath.Join(state, "credential"), filepath.Join(data, "tls", "collector.crt"))), 0o644); err != nil {
			t.Fatal(err)
		}
		startProc(t, agent(t), "run", "--config", cfg, "--snapshot", snap)
	}

	hc := trustingClient(t, data)
	base := fmt.Sprintf("https://127.0.0.1:%d", port)
	do := func(method, path string, body io.Reader, out any) int {
		t.Helper()
		req, err := http.NewRequest(method, base+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if out != nil && resp.StatusCode == 200 {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("%s %s: %v in %s", method, path, err, b)
			}
		}
		if resp.StatusCode != 200 {
			t.Logf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return resp.StatusCode
	}
	// Wait until both agents delivered their region facts and a heartbeat
	// (with the serial).
	type host struct {
		ID        string `json:"id"`
		Heartbeat *struct {
			Serial string `json:"serial"`
		} `json:"heartbeat"`
		Risk struct {
			Score         int `json:"score"`
			Contributions []struct {
				Rule   string  `json:"rule"`
				Points float64 `json:"points"`
				Reason string  `json:"reason"`
			} `json:"contributions"`
		} `json:"risk"`
	}
	ready := func(id string) bool {
		var h host
		var fs struct {
			Findings []struct {
				Rule string `json:"rule"`
			} `json:"findings"`
		}
		if do("GET", "/api/v1/hosts/"+id, nil, &h) != 200 || h.Heartbeat == nil || h.Heartbeat.Serial == "" {
			return false
		}
		do("GET", "/api/v1/hosts/"+id+"/findings", nil, &fs)
		for _, f := range fs.Findings {
			if f.Rule == "context.region.facts" {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(60 * time.Second)
	for !(ready("lap-0042-id") && ready("lap-0043-id")) {
		if time.Now().After(deadline) {
			t.Fatal("the agents' region facts and serials did not reach the collector")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("agents' facts and serials at the collector after %v", time.Since(deadline.Add(-60*time.Second)).Round(time.Millisecond))
	var before host
	do("GET", "/api/v1/hosts/lap-0042-id", nil, &before)

	// The Intune admin center's Devices export, by REST.
	export := "Device ID,Device name,Serial number,OS,Primary user UPN,Primary user email address,Primary user display name,Country\n" +
		"d-1,LAPTOP-RENAMED,PF3FARM42,Linux,ada@example.com,ada@example.com,Ada Lovelace,US\n" +
		"d-2,lap-0043,PF3HOME43,Linux,minji@example.com,minji@example.com,Kim Minji,KR\n" +
		"d-3,LAP-0099,PF3GONE99,Windows,alan@example.com,alan@example.com,Alan Turing,GB\n"
	var imp struct {
		Format  string `json:"format"`
		Devices int    `json:"devices"`
		Matched []struct {
			Host struct{ ID string } `json:"host"`
			By   string              `json:"by"`
		} `json:"matched"`
		UnmatchedRecords []struct{ Serial string } `json:"unmatched_records"`
		UnmatchedHosts   []struct{ ID string }     `json:"unmatched_hosts"`
	}
	if code := do("PUT", "/api/v1/inventory", strings.NewReader(export), &imp); code != 200 {
		t.Fatalf("PUT /api/v1/inventory: %d", code)
	}
	if imp.Format != "intune" || imp.Devices != 3 || len(imp.Matched) != 2 || len(imp.UnmatchedRecords) != 1 || imp.UnmatchedRecords[0].Serial != "PF3GONE99" || len(imp.UnmatchedHosts) != 0 {
		t.Fatalf("import = %+v", imp)
	}
	for _, m := range imp.Matched {
		if m.By != "serial" {
			t.Fatalf("%s matched by %s, want serial", m.Host.ID, m.By)
		}
	}
	if code := do("POST", "/api/v1/inventory", strings.NewReader("Device name,Country\nx,ZZ\n"), nil); code != 400 {
		t.Fatalf("a bad export answered %d, want 400", code)
	}

	var farH, homeH host
	do("GET", "/api/v1/hosts/lap-0042-id", nil, &farH)
	do("GET", "/api/v1/hosts/lap-0043-id", nil, &homeH)
	explain := func(h host) string {
		var b strings.Builder
		for _, c := range h.Risk.Contributions {
			fmt.Fprintf(&b, "  %5.1f %-32s %s\n", c.Points, c.Rule, c.Reason)
		}
		return b.String()
	}
	t.Logf("before the import lap-0042 scored %d; after: lap-0042 %d\n%slap-0043 %d\n%s", before.Risk.Score, farH.Risk.Score, explain(farH), homeH.Risk.Score, explain(homeH))
	if farH.Risk.Score <= homeH.Risk.Score || farH.Risk.Score <= before.Risk.Score {
		t.Fatalf("lap-0042 (US user, Pyongyang time) scored %d, lap-0043 (Korean user in Seoul) %d, lap-0042 before the import %d", farH.Risk.Score, homeH.Risk.Score, before.Risk.Score)
	}
	ex := explain(farH)
	for _, want := range []string{"Ada Lovelace <ada@example.com>", "expected region US", "time zone Asia/Pyongyang disagrees", "locale ko_KP.UTF-8 [ko] disagrees", "input method", "egress network Seoul office (KR) disagrees"} {
		if !strings.Contains(ex, want) {
			t.Fatalf("lap-0042's explanation lacks %q:\n%s", want, ex)
		}
	}
	hx := explain(homeH)
	if !strings.Contains(hx, "Kim Minji <minji@example.com>") || !strings.Contains(hx, "agree") || strings.Contains(hx, "disagrees") {
		t.Fatalf("lap-0043's explanation:\n%s", hx)
	}
}
