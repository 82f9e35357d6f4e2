//go:build linux

package wine

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/source"
)

// TestWineNetwork runs the Windows network reader behind the agent's
// co-location identity (internal/source/winnet through test/wine/netprobe:
// GetIpForwardTable2, GetIpInterfaceTable, GetIpNetTable2 and wlanapi.dll,
// called for real) under Wine, whose iphlpapi answers from this Linux
// host's kernel tables, and asserts it finds the same default gateway, the
// same gateway MAC and the same neighbours as /proc/net/route and
// /proc/net/arp say. Costs one small go build and one Wine run (about a
// second once the lane is up).
func TestWineNetwork(t *testing.T) {
	l := wineLane(t)
	iface, gw, gwMAC, neigh := linuxNetwork(t)

	exe := filepath.Join(l.dir, "bin", "netprobe.exe")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", exe, "./test/wine/netprobe")
	build.Dir = repoRoot()
	build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build netprobe: %v\n%s", err, b)
	}
	start := time.Now()
	so, se, code := l.wine2(ctx, exe)
	t.Logf("netprobe under Wine (%s, exit %d): %s", time.Since(start).Round(time.Millisecond), code, so)
	var got struct {
		Interface, GatewayIP, GatewayMAC, SelfMAC, SSID, BSSID string
		Neighbours                                             []string
		Error                                                  string `json:"error"`
	}
	if err := json.Unmarshal([]byte(so), &got); err != nil {
		t.Fatalf("netprobe output: %v\nstdout %q\nstderr %s", err, so, tail(se, 2000))
	}
	if code != 0 || got.Error != "" {
		t.Errorf("netprobe: exit %d, error %q", code, got.Error)
	}
	if got.GatewayIP != gw || got.GatewayMAC != gwMAC || got.Interface != iface {
		t.Errorf("Windows reader under Wine: gateway %s %s on %q; Linux: %s %s on %q", got.GatewayIP, got.GatewayMAC, got.Interface, gw, gwMAC, iface)
	}
	want := map[string]bool{}
	for _, m := range neigh {
		want[m] = true
	}
	for _, m := range got.Neighbours {
		if !want[m] {
			t.Errorf("neighbour %s under Wine is not in /proc/net/arp on %s", m, iface)
		}
	}
	if len(got.Neighbours) == 0 {
		t.Error("no neighbours under Wine")
	}
	if got.SSID != "" || got.BSSID != "" {
		t.Errorf("Wi-Fi under Wine, which has none: %q %q", got.SSID, got.BSSID)
	}
}

// linuxNetwork returns this machine's IPv4 default route (interface and
// gateway), the gateway's MAC and the MACs of the complete ARP entries on
// that interface, from /proc/net/route and /proc/net/arp.
func linuxNetwork(t *testing.T) (iface, gw, gwMAC string, neigh []string) {
	t.Helper()
	route, err := os.ReadFile("/proc/net/route")
	if err != nil {
		t.Fatal(err)
	}
	arp, err := os.ReadFile("/proc/net/arp")
	if err != nil {
		t.Fatal(err)
	}
	iface, gw = source.ParseProcRoute(route)
	if gw == "" {
		t.Fatalf("this machine has no IPv4 default route via a gateway; /proc/net/route:\n%s", route)
	}
	for _, e := range source.ParseProcARP(arp) {
		if e.Interface != iface {
			continue
		}
		if e.IP == gw {
			gwMAC = e.MAC
		}
		neigh = append(neigh, e.MAC)
	}
	if gwMAC == "" {
		t.Fatalf("no complete ARP entry for the gateway %s on %s; /proc/net/arp:\n%s", gw, iface, arp)
	}
	return iface, gw, gwMAC, neigh
}
