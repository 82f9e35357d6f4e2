//go:build linux

package source

import (
	"context"
	"fmt"
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
		switch {
		case os.Getenv("FARMWATCH_NETID_NS") != "":
			t.Fatalf("no default route in the namespace made for this test: %q", out)
		case os.Getenv("FARMWATCH_E2E") != "1":
			t.Skipf("no IPv4 default route via a gateway here: %q", out)
		}
		// This machine has none: compare in a namespace that has one.
		inNamespaceWithGateway(t, ip)
		return
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

// inNamespaceWithGateway runs TestLiveNetworkMatchesIPRoute again in a new
// network namespace whose default route goes via a gateway on a veth.
func inNamespaceWithGateway(t *testing.T, ip string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("FARMWATCH_E2E=1, no default route here, and not root: a network namespace with one cannot be made")
	}
	ns := fmt.Sprintf("fwnetid%d", os.Getpid())
	sh := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	sh("netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command(ip, "netns", "del", ns).Run() })
	sh("-n", ns, "link", "add", "fwgw0", "type", "veth", "peer", "name", "fwgw1")
	sh("-n", ns, "addr", "add", "10.77.0.2/24", "dev", "fwgw0")
	for _, l := range []string{"lo", "fwgw0", "fwgw1"} {
		sh("-n", ns, "link", "set", l, "up")
	}
	sh("-n", ns, "route", "add", "default", "via", "10.77.0.1", "dev", "fwgw0")
	cmd := exec.Command(ip, "netns", "exec", ns, os.Args[0], "-test.run=^TestLiveNetworkMatchesIPRoute$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "FARMWATCH_NETID_NS=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestLiveNetworkMatchesIPRoute") {
		t.Fatalf("in namespace %s (default via 10.77.0.1 dev fwgw0): %v\n%s", ns, err, out)
	}
}
