//go:build linux

package wine

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/report"
)

// TestWinePcap feeds real captures (recorded from real software by
// scripts/record-pcaps.sh) to the Windows build under Wine and to the Linux
// build: the findings must be the same and not empty.
func TestWinePcap(t *testing.T) {
	l := wineLane(t)
	t.Parallel()
	for _, name := range []string{"rdp-xrdp-freerdp.pcap", "vnc-x11vnc-tigervnc.pcap"} {
		file := filepath.Join(repoRoot(), "testdata", "pcaps", name)
		so, se, code := l.agent(t, "pcap", "--format", "json", winPath(file))
		if code != 0 {
			t.Errorf("pcap %s under Wine: exit %d\n%s", name, code, tail(se, 2000))
			continue
		}
		lo, le, lcode := runLinux(t, l.agentLin, "pcap", "--format", "json", file)
		if lcode != 0 {
			t.Errorf("pcap %s (linux): exit %d\n%s", name, lcode, tail(le, 2000))
			continue
		}
		win, lin := findingKeys(t, so), findingKeys(t, lo)
		if len(win) == 0 || strings.Join(win, "\n") != strings.Join(lin, "\n") {
			t.Errorf("pcap %s: Windows build under Wine found\n  %s\nthe Linux build\n  %s", name, strings.Join(win, "\n  "), strings.Join(lin, "\n  "))
		}
	}
}

// findingKeys are the rule, tool, severity and summary of each finding,
// sorted.
func findingKeys(t *testing.T, out string) []string {
	t.Helper()
	var keys []string
	for _, f := range parseFindings(t, out) {
		keys = append(keys, fmt.Sprintf("%s %s %s %s", f.Rule, f.Tool, f.Severity, f.Summary))
	}
	sort.Strings(keys)
	return keys
}

// TestWineRun runs farmwatch-agent.exe `run` under Wine against a real
// farmwatch-collector (the Linux build) on loopback, with a real Xray
// (renamed) running under the same Wine: the collector must receive the
// agent's finding for it. (MeshAgent runs in TestWineScan, in parallel, and
// two MeshAgents do not run side by side.)
func TestWineRun(t *testing.T) {
	l := wineLane(t)
	t.Parallel()
	xray := filepath.Join(zooCache(), "identity", "go", "xray-windows-amd64.exe")
	if _, err := os.Stat(xray); err != nil {
		t.Fatalf("real Xray Windows build missing (scripts/zoo/identity-install.sh builds it): %v", err)
	}
	dir := t.TempDir()
	renamed := filepath.Join(dir, "tools", "winupdate.exe")
	copyFile(t, xray, renamed)
	xport := freePort(t)
	xcfg := filepath.Join(dir, "tools", "x.json")
	writeFile(xcfg, fmt.Sprintf(`{"inbounds":[{"listen":"127.0.0.1","port":%d,"protocol":"socks","settings":{"auth":"noauth"}}],"outbounds":[{"protocol":"freedom"}]}`, xport))
	l.start(t, winPath(renamed), "run", "-c", winPath(xcfg))
	waitFor(t, "renamed xray listening", 90*time.Second, func() (bool, string) { return dialable(fmt.Sprintf("127.0.0.1:%d", xport)), "" })

	data := filepath.Join(dir, "collector")
	out, err := exec.Command(l.collLin, "token", "add", "wine", "--data-dir", data).CombinedOutput()
	if err != nil {
		t.Fatalf("collector token add: %v\n%s", err, out)
	}
	fields := strings.Fields(string(out))
	token := fields[len(fields)-1]
	port := freePort(t)
	coll := exec.Command(l.collLin, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--data-dir", data, "--enroll-secret", "wine-enroll-secret-0001")
	coll.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	clog, err := os.Create(filepath.Join(dir, "collector.log"))
	if err != nil {
		t.Fatal(err)
	}
	coll.Stdout, coll.Stderr = clog, clog
	if err := coll.Start(); err != nil {
		t.Fatalf("start collector: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-coll.Process.Pid, syscall.SIGKILL)
		_ = coll.Wait()
		_ = clog.Close()
		if t.Failed() {
			b, _ := os.ReadFile(clog.Name())
			t.Logf("collector log:\n%s", tail(string(b), 3000))
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitFor(t, "collector listening", 30*time.Second, func() (bool, string) { return dialable(addr), "" })
	ca := filepath.Join(data, "tls", "collector.crt")

	cfg := filepath.Join(dir, "agent.yaml")
	writeFile(cfg, fmt.Sprintf(`log: {level: debug}
detectors:
  remoteaccess: {interval: 5s, timeout: 120s}
  hardware: {enabled: false}
  tunnel: {enabled: false}
  lan: {enabled: false}
  traffic: {enabled: false}
report:
  heartbeat_interval: 2s
  spool_dir: '%s'
  collector:
    url: https://%s
    enroll_secret: wine-enroll-secret-0001
    credential_file: '%s'
    ca_file: '%s'
`, winPath(filepath.Join(dir, "spool")), addr, winPath(filepath.Join(dir, "credential")), winPath(ca)))
	agentLog := filepath.Join(dir, "agent.log")
	l.start(t, l.agentExe, "run", "--config", winPath(cfg), "--log-file", winPath(agentLog))

	pem, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}}
	get := func(path string, v any) error {
		req, _ := http.NewRequest("GET", "https://"+addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s: HTTP %d", path, resp.StatusCode)
		}
		return json.NewDecoder(resp.Body).Decode(v)
	}
	waitFor(t, "the Xray finding from the agent under Wine at the collector", 4*time.Minute, func() (bool, string) {
		var hosts struct {
			Hosts []struct {
				ID string `json:"id"`
			} `json:"hosts"`
		}
		if err := get("/api/v1/hosts", &hosts); err != nil || len(hosts.Hosts) == 0 {
			b, _ := os.ReadFile(agentLog)
			return false, fmt.Sprintf("hosts %+v %v; agent log:\n%s", hosts, err, tail(string(b), 2000))
		}
		var fs struct {
			Findings []struct {
				Tool    string `json:"tool"`
				Summary string `json:"summary"`
			} `json:"findings"`
		}
		if err := get("/api/v1/hosts/"+hosts.Hosts[0].ID+"/findings", &fs); err != nil {
			return false, err.Error()
		}
		for _, f := range fs.Findings {
			if f.Tool == "xray" && strings.Contains(f.Summary, "winupdate.exe") {
				return true, ""
			}
		}
		b, _ := os.ReadFile(agentLog)
		return false, fmt.Sprintf("findings %+v; agent log:\n%s", fs.Findings, tail(string(b), 2000))
	})

	// Co-location from a Windows agent: its heartbeat carries the keyed
	// hash of the gateway MAC that Wine's iphlpapi maps from this machine's
	// ARP table, the very hash a Linux agent here would send.
	_, _, gwMAC, _ := linuxNetwork(t)
	waitFor(t, "the Windows agent's network identity at the collector", time.Minute, func() (bool, string) {
		kb, err := os.ReadFile(filepath.Join(dir, "credential.fleet-key"))
		if err != nil {
			return false, err.Error()
		}
		key, err := hex.DecodeString(strings.TrimSpace(string(kb)))
		if err != nil {
			return false, err.Error()
		}
		var hosts struct {
			Hosts []struct {
				Heartbeat *struct {
					Network *report.NetworkIdentity `json:"network"`
				} `json:"heartbeat"`
			} `json:"hosts"`
		}
		if err := get("/api/v1/hosts", &hosts); err != nil || len(hosts.Hosts) == 0 || hosts.Hosts[0].Heartbeat == nil || hosts.Hosts[0].Heartbeat.Network == nil {
			return false, fmt.Sprintf("no network identity yet: %+v %v", hosts, err)
		}
		n := hosts.Hosts[0].Heartbeat.Network
		if want := report.HashNetwork(key, report.NetGateway, gwMAC); n.Gateway != want {
			return false, fmt.Sprintf("gateway hash %q, want %q (HMAC of %s)", n.Gateway, want, gwMAC)
		}
		if len(n.LAN) == 0 || n.BSSID != "" || n.SSID != "" {
			return false, fmt.Sprintf("network identity %+v", n)
		}
		return true, ""
	})
}
