//go:build linux

package source

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestLiveNetworkMatchesIPRoute compares this host's default route as read
// from /proc/net/route with what iproute2's `ip route` says.
func TestLiveNetworkMatchesIPRoute(t *testing.T) {
	ip, err := exec.LookPath("ip")
	if err != nil {
		if os.Getenv("FARMWATCH_E2E") == "1" {
			t.Fatal("ip not found: install the Debian package iproute2")
		}
		t.Skip("iproute2 (Debian package iproute2) not installed")
	}
	out, err := exec.Command(ip, "-4", "route", "show", "default").Output()
	if err != nil {
		t.Fatalf("ip route: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) < 5 || f[0] != "default" || f[1] != "via" {
		t.Skipf("no IPv4 default route via a gateway here: %q", out)
	}
	src, err := NewLive(context.Background(), "/")
	if err != nil {
		t.Fatal(err)
	}
	n, err := ReadNetwork(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if n.GatewayIP != f[2] || n.Interface != f[4] {
		t.Fatalf("ReadNetwork = %+v, ip route says %q", n, out)
	}
}
