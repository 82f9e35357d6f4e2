//go:build linux

package e2e

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fleetLaptop writes a snapshot of one company laptop: the repository's
// recorded JetKVM (its spoofing preset's random USB serial) and a VNC
// server driven from 198.51.100.23 (context/linux-ibus-hangul), attached to
// a network given as the Linux procfs tables the agent reads.
func fleetLaptop(t *testing.T, dir, id string, farm bool, gateway, gatewayMAC, selfMAC string, lan []string) string {
	t.Helper()
	snap := filepath.Join(dir, id)
	fixture := filepath.Join("..", "..", "testdata", "hardware", "linux", "ordinary-laptop")
	if farm {
		fixture = filepath.Join("..", "..", "testdata", "hardware", "linux", "jetkvm-logitech")
	}
	if err := os.CopyFS(snap, os.DirFS(fixture)); err != nil {
		t.Fatal(err)
	}
	write := func(rel, data string) {
		p := filepath.Join(snap, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("host.json", fmt.Sprintf(`{"hostname": %q, "host_id": %q, "os": "linux"}`, id+"-laptop", id))
	if farm {
		for _, f := range []string{"processes.json", "connections.json"} {
			b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "context", "linux-ibus-hangul", f))
			if err != nil {
				t.Fatal(err)
			}
			write(f, string(b))
		}
	}
	gw := strings.Split(gateway, ".")
	var gwHex string
	for i := 3; i >= 0; i-- {
		var n int
		fmt.Sscanf(gw[i], "%d", &n)
		gwHex += fmt.Sprintf("%02X", n)
	}
	write("proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"+
		"wlan0\t00000000\t"+gwHex+"\t0003\t0\t0\t600\t00000000\t0\t0\t0\n")
	arp := "IP address       HW type     Flags       HW address            Mask     Device\n" +
		fmt.Sprintf("%-16s 0x1         0x2         %s     *        wlan0\n", gateway, gatewayMAC)
	for i, m := range lan {
		arp += fmt.Sprintf("%-16s 0x1         0x2         %s     *        wlan0\n", fmt.Sprintf("%s%d", strings.TrimSuffix(gateway, "1"), 50+i), m)
	}
	write("proc/net/arp", arp)
	write("sys/class/net/wlan0/address", selfMAC+"\n")
	return snap
}

// TestFleetFarmEndToEnd runs the real collector and three real agents
// (`run --snapshot`, each with its own state directory and host id) whose
// laptops share one JetKVM, one gateway and one remote VNC controller, plus
// two agents on the configured office network: the webhook receives one
// shared-KVM, one shared-peer and one co-location alert, and nothing links
// the office laptops. The collector's fleet page, host list and alerts page
// then show the farm in headless Chromium (screenshots checked).
func TestFleetFarmEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts the collector and agent binaries")
	}
	dir := t.TempDir()
	hook := newAlertHook(t)

	const secret = "fleet-e2e-enroll-secret-0123456789"
	const officeGW = "00:1a:2b:00:00:01"
	port := freePort(t)
	data := filepath.Join(dir, "collector")
	ccfg := filepath.Join(dir, "collector.yaml")
	if err := os.WriteFile(ccfg, []byte(fmt.Sprintf(`listen: 127.0.0.1:%d
data_dir: %s
enroll_secrets: [%s]
alerts:
  webhooks:
    - {name: soc, url: %q, format: json}
  rules:
    - {name: fleet, kinds: [shared_infrastructure, co_location], webhooks: [soc]}
colocation:
  office_networks:
    - {name: HQ, gateway_macs: [%q]}
`, port, data, secret, hook.URL, officeGW)), 0o644); err != nil {
		t.Fatal(err)
	}
	startProc(t, collector(t), "--config", ccfg)
	waitListen(t, fmt.Sprintf("127.0.0.1:%d", port))

	farmMACs := []string{"a4:83:e7:00:00:01", "a4:83:e7:00:00:02", "a4:83:e7:00:00:03"}
	officeMACs := []string{"3c:22:fb:00:00:01", "3c:22:fb:00:00:02"}
	type lap struct {
		id   string
		snap string
	}
	var laps []lap
	for i, m := range farmMACs {
		id := fmt.Sprintf("farm-%d", i+1)
		others := slices.DeleteFunc(slices.Clone(farmMACs), func(x string) bool { return x == m })
		laps = append(laps, lap{id, fleetLaptop(t, dir, id, true, "192.168.50.1", "f4:92:bf:01:02:03", m, others)})
	}
	for i, m := range officeMACs {
		id := fmt.Sprintf("office-%d", i+1)
		others := slices.DeleteFunc(slices.Clone(officeMACs), func(x string) bool { return x == m })
		laps = append(laps, lap{id, fleetLaptop(t, dir, id, false, "10.10.0.1", officeGW, m, others)})
	}
	for _, l := range laps {
		state := filepath.Join(dir, "state-"+l.id)
		cfg := filepath.Join(dir, l.id+".yaml")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`detectors:
  traffic: {enabled: false}
  lan: {enabled: false}
  context: {enabled: false}
  tunnel: {enabled: false}
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
		startProc(t, agent(t), "run", "--config", cfg, "--snapshot", l.snap)
	}

	// Poll the webhook until the three farm alerts arrived and every agent
	// has sent a heartbeat with its network (office ones included).
	kinds := func() map[string][]string {
		out := map[string][]string{}
		for _, a := range hook.Alerts() {
			var hs []string
			for _, h := range a["hosts"].([]any) {
				hs = append(hs, h.(string))
			}
			// The latest delivery of each alert: a widened alert is sent again.
			k, title := a["kind"].(string), a["title"].(string)
			switch {
			case k != "shared_infrastructure":
			case strings.Contains(title, "USB serial"):
				k += ":kvm"
			case strings.Contains(title, "remote peer"):
				k += ":peer"
			default:
				k += ":" + title
			}
			out[k] = hs
		}
		return out
	}
	farm := []string{"farm-1", "farm-2", "farm-3"}
	complete := func(got map[string][]string) bool {
		n := 0
		for k, hs := range got {
			if slices.Equal(hs, farm) && (k == "co_location" || k == "shared_infrastructure:kvm" || k == "shared_infrastructure:peer") {
				n++
			}
		}
		return n == 3
	}
	deadline := time.Now().Add(60 * time.Second)
	for !complete(kinds()) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	// Both office agents send their network: wait until the collector has
	// recognised it as the office's several times.
	hc := trustingClient(t, data)
	officeBeats := func() float64 {
		resp, err := hc.Get(fmt.Sprintf("https://127.0.0.1:%d/metrics", port))
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var v float64
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, `farmwatch_heartbeat_networks_total{network="office"}`) {
				fmt.Sscanf(strings.Fields(line)[1], "%g", &v)
			}
		}
		return v
	}
	for officeBeats() < 4 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := officeBeats(); n < 4 {
		t.Fatalf("the office agents' networks did not reach the collector (%v office heartbeats)", n)
	}
	got := kinds()
	if !complete(got) {
		t.Fatalf("webhook did not receive the shared-KVM, shared-peer and co-location alerts for %v; got %v", farm, got)
	}
	// The office laptops sent their (hashed) network too, and stayed quiet.
	for _, k := range []string{"co_location", "shared_infrastructure"} {
		for kk, hs := range got {
			if strings.HasPrefix(kk, k) && (slices.Contains(hs, "office-1") || slices.Contains(hs, "office-2")) {
				t.Errorf("office laptops linked: %s %v", kk, hs)
			}
		}
	}
	for kk, hs := range got {
		if strings.HasPrefix(kk, "co_location") && !slices.Equal(hs, farm) {
			t.Errorf("co-location alert for %v, want %v", hs, farm)
		}
	}
	t.Logf("webhook alerts: %v", got)
	checkFleetPagesInChromium(t, data, port, farm, []string{"office-1", "office-2"})
}
