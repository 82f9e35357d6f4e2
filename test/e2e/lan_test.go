//go:build linux

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The LAN detector's end-to-end test builds a neighbour in a network
// namespace of its own, linked to the root namespace by a veth pair with
// addresses in 10.200.80.0/24 only: its MAC has a Raspberry Pi OUI, an
// avahi-daemon inside it (private config, runtime dir and service files;
// no D-Bus, so it never meets a host avahi) publishes a "pikvm" service,
// and python3's http.server serves a page titled "PiKVM". The real agent
// in the root namespace must hear the mDNS answer over the veth and, with
// the opt-in active check configured, read the title. Everything is
// removed at cleanup.

const (
	lanNS       = "fwlan80"
	lanHostDev  = "fwlan80h"
	lanPeerDev  = "fwlan80p"
	lanHostAddr = "10.200.80.1"
	lanPeerAddr = "10.200.80.2"
	lanPeerMAC  = "dc:a6:32:80:00:02"
)

func lanRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// lanNeighbour creates the namespace, veth pair, avahi and web server.
func lanNeighbour(t *testing.T) {
	t.Helper()
	_ = exec.Command("ip", "link", "del", lanHostDev).Run()
	_ = exec.Command("ip", "netns", "del", lanNS).Run()
	lanRun(t, "ip", "netns", "add", lanNS)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", lanNS).Run() })
	lanRun(t, "ip", "-n", lanNS, "link", "set", "lo", "up")
	lanRun(t, "ip", "link", "add", lanHostDev, "type", "veth", "peer", "name", lanPeerDev)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", lanHostDev).Run() })
	lanRun(t, "ip", "link", "set", lanPeerDev, "netns", lanNS)
	lanRun(t, "ip", "addr", "add", lanHostAddr+"/24", "dev", lanHostDev)
	lanRun(t, "ip", "link", "set", lanHostDev, "up")
	lanRun(t, "ip", "-n", lanNS, "link", "set", "dev", lanPeerDev, "address", lanPeerMAC)
	lanRun(t, "ip", "-n", lanNS, "addr", "add", lanPeerAddr+"/24", "dev", lanPeerDev)
	lanRun(t, "ip", "-n", lanNS, "link", "set", lanPeerDev, "up")

	dir := t.TempDir()
	www := filepath.Join(dir, "www")
	avahi := filepath.Join(dir, "avahi")
	for _, d := range []string{www, filepath.Join(avahi, "services")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		filepath.Join(www, "index.html"): "<!doctype html><html><head><title>PiKVM</title></head><body>kvmd</body></html>\n",
		filepath.Join(avahi, "avahi-daemon.conf"): fmt.Sprintf(`[server]
host-name=pikvm
domain-name=local
use-ipv4=yes
use-ipv6=no
allow-interfaces=%s
enable-dbus=no
[wide-area]
enable-wide-area=no
[publish]
publish-addresses=yes
publish-hinfo=no
publish-workstation=no
publish-domain=no
[reflector]
[rlimits]
`, lanPeerDev),
		filepath.Join(avahi, "services", "pikvm.service"): `<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group>
  <name>pikvm</name>
  <service><type>_http._tcp</type><port>80</port></service>
  <service><type>_pikvm._tcp</type><port>443</port></service>
</service-group>
`,
	}
	for p, s := range files {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// `ip netns exec` runs in a mount namespace of its own (/ made a
	// slave), so the tmpfs /run and the bind-mounted /etc/avahi are seen
	// by this avahi-daemon only.
	startProc(t, "ip", "netns", "exec", lanNS, "sh", "-c",
		"mount -t tmpfs tmpfs /run && mount --bind "+avahi+" /etc/avahi && exec avahi-daemon --no-drop-root --no-chroot --no-rlimits -f "+filepath.Join(avahi, "avahi-daemon.conf"))
	startProc(t, "ip", "netns", "exec", lanNS, "python3", "-m", "http.server", "80", "--bind", lanPeerAddr, "--directory", www)
	// Connecting puts the neighbour in the root namespace's ARP table.
	waitListen(t, lanPeerAddr+":80")
	b, _ := os.ReadFile("/proc/net/arp")
	if !strings.Contains(string(b), lanPeerMAC) {
		t.Fatalf("neighbour %s not in /proc/net/arp:\n%s", lanPeerMAC, b)
	}
	// Let avahi finish probing its names before the agent asks.
	time.Sleep(2 * time.Second)
}

func lanConfig(t *testing.T, settings string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "farmwatch.yaml")
	cfg := "detectors:\n  lan:\n    settings:\n" + settings
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func lanFinding(fs []finding, rule string) (finding, bool) {
	for _, f := range fs {
		if f.Rule == rule && f.Evidence["ip"] == lanPeerAddr {
			return f, true
		}
	}
	return finding{}, false
}

func TestLANKVMNeighbour(t *testing.T) {
	requireE2E(t, "ip", "avahi-daemon", "python3")
	lanNeighbour(t)

	// Passive (the default): the Raspberry Pi OUI from the ARP table and
	// the pikvm service heard over mDNS on the veth.
	passive := scan(t, "--config", lanConfig(t, "      listen_seconds: 4\n"))
	f, ok := lanFinding(passive, "lan.mdns.kvm")
	if !ok {
		t.Fatalf("passive: no lan.mdns.kvm for %s in %+v", lanPeerAddr, passive)
	}
	svcs := fmt.Sprint(f.Evidence["services"])
	if f.Tool != "pikvm" || f.Severity != "medium" || f.Category != "lan-device" ||
		f.Evidence["mac"] != strings.ToUpper(lanPeerMAC) || !strings.Contains(fmt.Sprint(f.Evidence["oui_vendor"]), "Raspberry Pi") ||
		!strings.Contains(svcs, "_pikvm._tcp") || !strings.Contains(svcs, "_http._tcp") || f.Evidence["mdns_name"] != "pikvm.local" {
		t.Fatalf("passive finding: %+v", f)
	}
	if _, ok := lanFinding(passive, "lan.webui.kvm"); ok {
		t.Fatal("the active check ran without being configured")
	}

	// Opt-in active check: the web UI title confirms it.
	active := scan(t, "--config", lanConfig(t, "      listen_seconds: 4\n      active_check: true\n      active_ports: [443, 80]\n"))
	f, ok = lanFinding(active, "lan.webui.kvm")
	if !ok {
		t.Fatalf("active: no lan.webui.kvm for %s in %+v", lanPeerAddr, active)
	}
	if f.Tool != "pikvm" || f.Severity != "high" || f.Evidence["title"] != "PiKVM" || f.Evidence["url"] != "http://"+lanPeerAddr+":80/" {
		t.Fatalf("active finding: %+v", f)
	}

	// An office network silences the detector.
	quiet := scan(t, "--config", lanConfig(t, "      listen_seconds: 2\n      active_check: true\n      office_networks: [10.200.80.0/24]\n"))
	for _, f := range quiet {
		if strings.HasPrefix(f.Rule, "lan.") {
			t.Fatalf("office network: got %+v", f)
		}
	}

	// A snapshot recorded with `collect` holds the ARP table and what was
	// heard; scanning it reports the same device without the network.
	snap := filepath.Join(t.TempDir(), "snap")
	if out, errOut, code := runAgent(t, "collect", "--out", snap); code != 0 {
		t.Fatalf("collect exit %d\n%s\n%s", code, out, errOut)
	}
	for _, n := range []string{"proc/net/arp", "mdns.json", "neighbors.json", "lan-addresses.json"} {
		if _, err := os.Stat(filepath.Join(snap, n)); err != nil {
			t.Fatalf("snapshot lacks %s: %v", n, err)
		}
	}
	f, ok = lanFinding(scan(t, "--snapshot", snap), "lan.mdns.kvm")
	if !ok || f.Tool != "pikvm" {
		t.Fatalf("snapshot: %+v %v", f, ok)
	}
}
