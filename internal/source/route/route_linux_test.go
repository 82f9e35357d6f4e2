package route

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/farmwatch/farmwatch/internal/source/command"
	"github.com/farmwatch/farmwatch/internal/source/hostpath"
)

func TestParseProcRoute(t *testing.T) {
	const route = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n" +
		"wlan0\t0001A8C0\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0\n" +
		"tun0\t00000000\t00000000\t0001\t0\t0\t50\t00000080\t0\t0\t0\n"
	got := parseProcRoute(route)
	if len(got) != 2 || got[0] != "wlan0" || got[1] != "tun0" {
		t.Errorf("got %v", got)
	}
	if parseProcRoute("") != nil {
		t.Error("empty table gave interfaces")
	}
}

// TestDefaultInterfacesMatchIP compares the reader on this host's live
// /proc/net/route with iproute2's own answer (`ip -4 route show default`),
// and on a fixture root with the file written there.
func TestDefaultInterfacesMatchIP(t *testing.T) {
	ip := ""
	for _, p := range []string{"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"} {
		if _, err := os.Stat(p); err == nil {
			ip = p
			break
		}
	}
	if ip == "" {
		t.Fatal("iproute2's ip is not installed (Debian package iproute2)")
	}
	out, err := command.Run(context.Background(), ip, "-4", "-o", "route", "show", "default")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "dev" && !contains(want, f[i+1]) {
				want = append(want, f[i+1])
			}
		}
	}
	got := DefaultInterfaces(hostpath.Root("/"))
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("reader %v, ip route %v", got, want)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "proc", "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	table := "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"fx0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
	if err := os.WriteFile(filepath.Join(dir, "proc", "net", "route"), []byte(table), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := DefaultInterfaces(hostpath.Root(dir)); len(got) != 1 || got[0] != "fx0" {
		t.Errorf("fixture root: %v", got)
	}
}

func FuzzParseProcRoute(f *testing.F) {
	f.Add("Iface\tDestination\tGateway \tFlags\n" + "wlan0\t00000000\t0101A8C0\t0003\n")
	f.Add("")
	f.Add("header only\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, name := range parseProcRoute(s) {
			if name == "" {
				t.Fatal("empty interface name")
			}
		}
	})
}
