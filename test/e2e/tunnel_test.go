//go:build linux

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The tunnel detector's end-to-end tests create tun devices, OpenVPN and
// WireGuard tunnels, socat relays, ssh forwards and relays into a local VNC
// server on this machine. Every address is in 10.200.7x.0/24 and lives only on links these tests create
// (a veth pair whose other end is in a network namespace of their own), so
// no packet leaves the machine; everything is removed at cleanup, also on
// failure.

// tnRun runs a command and fails the test on error.
func tnRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// tnNetns creates a network namespace (removing a leftover of the same
// name first) and deletes it at cleanup.
func tnNetns(t *testing.T, name string) {
	t.Helper()
	_ = exec.Command("ip", "netns", "del", name).Run()
	tnRun(t, "ip", "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	tnRun(t, "ip", "-n", name, "link", "set", "lo", "up")
}

// tnVeth links the root namespace (host end, hostAddr) with ns (peer end,
// peerAddr); deleting the host end at cleanup removes both.
func tnVeth(t *testing.T, ns, host, peer, hostAddr, peerAddr string) {
	t.Helper()
	_ = exec.Command("ip", "link", "del", host).Run()
	tnRun(t, "ip", "link", "add", host, "type", "veth", "peer", "name", peer)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", host).Run() })
	tnRun(t, "ip", "link", "set", peer, "netns", ns)
	tnRun(t, "ip", "addr", "add", hostAddr, "dev", host)
	tnRun(t, "ip", "link", "set", host, "up")
	tnRun(t, "ip", "-n", ns, "addr", "add", peerAddr, "dev", peer)
	tnRun(t, "ip", "-n", ns, "link", "set", peer, "up")
}

// tnLink deletes a leftover link of that name and removes the new one at
// cleanup.
func tnLink(t *testing.T, name string) {
	t.Helper()
	_ = exec.Command("ip", "link", "del", name).Run()
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", name).Run() })
}

// scanIn runs the agent inside a network namespace: it then sees that
// namespace's interfaces, routes and sockets as the host's.
func scanIn(t *testing.T, ns string) []finding {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, agent(t), "scan", "--format", "json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() != 3 {
		t.Fatalf("scan in %s: exit %d\n%s", ns, ee.ExitCode(), stderr.String())
	} else if err != nil && !ok {
		t.Fatalf("scan in %s: %v", ns, err)
	}
	return parseFindings(t, stdout.String())
}

// tunnelFinding returns the first finding of rule whose evidence key holds
// each given substring.
func tunnelFinding(fs []finding, rule string, ev map[string]string) (finding, bool) {
next:
	for _, f := range fs {
		if f.Rule != rule {
			continue
		}
		for k, sub := range ev {
			if !strings.Contains(fmt.Sprint(f.Evidence[k]), sub) {
				continue next
			}
		}
		return f, true
	}
	return finding{}, false
}

func mustTunnelFinding(t *testing.T, fs []finding, rule string, ev map[string]string) finding {
	t.Helper()
	f, ok := tunnelFinding(fs, rule, ev)
	if !ok {
		var lines []string
		for _, f := range fs {
			if f.Rule != "" && strings.HasPrefix(f.Rule, "tunnel.") {
				lines = append(lines, fmt.Sprintf("%s %s %s %v", f.Rule, f.Tool, f.Severity, f.Evidence))
			}
		}
		t.Fatalf("no %s finding with %v; tunnel findings:\n%s", rule, ev, strings.Join(lines, "\n"))
	}
	return f
}

func hasPID(f finding, pid int) bool {
	pids, _ := f.Evidence["pids"].([]any)
	for _, p := range pids {
		if n, ok := p.(float64); ok && int(n) == pid {
			return true
		}
	}
	return false
}

// waitFor polls until cond holds (20 s).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestTunnelTunDevice brings up a tun device: reported live as a low VPN
// interface, and the same from a snapshot recorded with `collect`.
func TestTunnelTunDevice(t *testing.T) {
	requireE2E(t, "ip")
	const dev = "fwtntun0"
	tnLink(t, dev)
	tnRun(t, "ip", "tuntap", "add", "dev", dev, "mode", "tun")
	tnRun(t, "ip", "link", "set", dev, "up")
	f := mustTunnelFinding(t, scan(t), "tunnel.interface.up", map[string]string{"interface": dev})
	if f.Tool != "tun" || f.Category != "vpn" || f.Severity != "low" || f.Evidence["driver"] != "tun" || f.Evidence["default_route"] != false {
		t.Fatalf("tun device finding: %+v", f)
	}
	snap := filepath.Join(t.TempDir(), "snap")
	if out, errOut, code := runAgent(t, "collect", "--out", snap); code != 0 {
		t.Fatalf("collect exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(snap, "sys/class/net", dev, "tun_flags")); err != nil {
		t.Fatalf("snapshot lacks the device's sysfs files: %v", err)
	}
	mustTunnelFinding(t, scan(t, "--snapshot", snap), "tunnel.interface.up", map[string]string{"interface": dev, "driver": "tun"})
	// Down: reported at info only.
	tnRun(t, "ip", "link", "set", dev, "down")
	f = mustTunnelFinding(t, scan(t), "tunnel.interface.down", map[string]string{"interface": dev})
	if f.Severity != "info" {
		t.Fatalf("down tun device at %s", f.Severity)
	}
}

// TestTunnelWireGuard brings up a WireGuard device with generated keys and
// a peer inside a namespace's range: the kernel's, or — on a kernel without
// the WireGuard module — the reference userspace implementation
// (wireguard-go, Debian package), which holds a tun device.
func TestTunnelWireGuard(t *testing.T) {
	requireE2E(t, "ip", "wg")
	const dev = "fwtnwg0"
	tnLink(t, dev)
	driver := "wireguard"
	if out, err := exec.Command("ip", "link", "add", dev, "type", "wireguard").CombinedOutput(); err != nil {
		if !strings.Contains(string(out), "Unknown device type") && !strings.Contains(string(out), "not supported") {
			t.Fatalf("ip link add wireguard: %v\n%s", err, out)
		}
		t.Logf("this kernel has no WireGuard module (%s): using wireguard-go", strings.TrimSpace(string(out)))
		requireE2E(t, "wireguard-go")
		driver = "tun"
		startProc(t, "env", "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1", "wireguard-go", "-f", dev)
		waitFor(t, "wireguard-go's "+dev, func() bool { return exec.Command("wg", "show", dev).Run() == nil })
	}
	dir := t.TempDir()
	priv := strings.TrimSpace(tnRun(t, "wg", "genkey"))
	if err := os.WriteFile(filepath.Join(dir, "priv"), []byte(priv+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("wg", "pubkey")
	cmd.Stdin = strings.NewReader(priv + "\n")
	peerPub, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	tnRun(t, "wg", "set", dev, "private-key", filepath.Join(dir, "priv"), "listen-port", "0",
		"peer", strings.TrimSpace(string(peerPub)), "allowed-ips", "10.200.72.2/32")
	tnRun(t, "ip", "addr", "add", "10.200.72.1/24", "dev", dev)
	tnRun(t, "ip", "link", "set", dev, "up")
	f := mustTunnelFinding(t, scan(t), "tunnel.interface.up", map[string]string{"interface": dev})
	if f.Tool != "wireguard" || f.Evidence["driver"] != driver || f.Severity != "low" || !strings.Contains(fmt.Sprint(f.Evidence["addresses"]), "10.200.72.1/24") {
		t.Fatalf("WireGuard finding (driver %s): %+v", driver, f)
	}
}

// TestTunnelOpenVPN runs a point-to-point OpenVPN tunnel between the root
// namespace and a namespace over a veth pair. The root end is reported as
// an OpenVPN interface held by its openvpn process (low); inside the
// namespace, where the default route goes through the tunnel, medium.
func TestTunnelOpenVPN(t *testing.T) {
	requireE2E(t, "ip", "openvpn")
	const ns, devA, devB = "fwtnvpn", "fwtnovpn0", "fwtnovpn1"
	tnNetns(t, ns)
	tnVeth(t, ns, "fwtnv0", "fwtnv1", "10.200.73.1/24", "10.200.73.2/24")
	dir := t.TempDir()
	key := filepath.Join(dir, "static.key")
	tnRun(t, "openvpn", "--genkey", "secret", key)
	port := fmt.Sprint(freePort(t))
	common := []string{"--dev-type", "tun", "--proto", "udp", "--lport", port, "--rport", port,
		"--secret", key, "--cipher", "AES-256-CBC", "--auth", "SHA256", "--verb", "3"}
	a := startProc(t, "openvpn", append([]string{"--dev", devA, "--local", "10.200.73.1", "--remote", "10.200.73.2",
		"--ifconfig", "10.200.74.1", "10.200.74.2"}, common...)...)
	startProc(t, "ip", append([]string{"netns", "exec", ns, "openvpn", "--dev", devB, "--local", "10.200.73.2", "--remote", "10.200.73.1",
		"--ifconfig", "10.200.74.2", "10.200.74.1"}, common...)...)
	waitFor(t, devA+" up", func() bool {
		return strings.Contains(tnRunQuiet("ip", "-4", "addr", "show", devA), "10.200.74.1")
	})
	waitFor(t, devB+" up", func() bool {
		return strings.Contains(tnRunQuiet("ip", "-n", ns, "-4", "addr", "show", devB), "10.200.74.2")
	})
	tnRun(t, "ip", "-n", ns, "route", "add", "default", "dev", devB)

	f := mustTunnelFinding(t, scan(t), "tunnel.interface.up", map[string]string{"interface": devA})
	if f.Tool != "openvpn" || f.Severity != "low" || !hasPID(f, a.Process.Pid) || !strings.Contains(fmt.Sprint(f.Evidence["addresses"]), "10.200.74.1") {
		t.Fatalf("OpenVPN interface finding (openvpn pid %d): %+v", a.Process.Pid, f)
	}
	g := mustTunnelFinding(t, scanIn(t, ns), "tunnel.interface.default_route", map[string]string{"interface": devB})
	if g.Tool != "openvpn" || g.Severity != "medium" || g.Evidence["default_route"] != true || !strings.Contains(fmt.Sprint(g.Evidence["default_routes"]), "0.0.0.0/0") {
		t.Fatalf("default route through OpenVPN: %+v", g)
	}
}

func tnRunQuiet(name string, args ...string) string {
	out, _ := exec.Command(name, args...).CombinedOutput()
	return string(out)
}

// TestTunnelSocatRelay runs `socat TCP-LISTEN:p,fork,reuseaddr
// TCP:10.200.71.2:p2` with a peer in a namespace connected through it: a
// medium relay finding with the owning process and the inbound peer.
func TestTunnelSocatRelay(t *testing.T) {
	requireE2E(t, "ip", "socat")
	const ns = "fwtnrly"
	tnNetns(t, ns)
	tnVeth(t, ns, "fwtnr0", "fwtnr1", "10.200.71.1/24", "10.200.71.2/24")
	backend := freePort(t)
	startProc(t, "ip", "netns", "exec", ns, "socat", fmt.Sprintf("TCP-LISTEN:%d,bind=10.200.71.2,fork,reuseaddr", backend), "EXEC:/bin/cat")
	port := freePort(t)
	target := fmt.Sprintf("TCP:10.200.71.2:%d", backend)
	relay := startProc(t, "socat", fmt.Sprintf("TCP-LISTEN:%d,fork,reuseaddr", port), target)
	waitListen(t, fmt.Sprintf("10.200.71.1:%d", port))
	// A peer in the namespace uses the relay and keeps the connection open.
	startProc(t, "ip", "netns", "exec", ns, "socat", fmt.Sprintf("TCP:10.200.71.1:%d", port), "EXEC:sleep 60")
	var f finding
	waitFor(t, "inbound relay connection reported", func() bool {
		var ok bool
		f, ok = tunnelFinding(scan(t), "tunnel.relay.listener", map[string]string{"inbound_connections": "from 10.200.71.2:", "forward_to": target})
		return ok
	})
	if f.Tool != "socat" || f.Category != "relay" || f.Severity != "medium" || !hasPID(f, relay.Process.Pid) ||
		f.Evidence["remote_peers"] != true || f.Evidence["name"] != "socat" || !strings.Contains(fmt.Sprint(f.Evidence["listening"]), fmt.Sprintf(":%d", port)) {
		t.Fatalf("socat relay finding (pid %d): %+v", relay.Process.Pid, f)
	}
	if !strings.Contains(fmt.Sprint(f.Evidence["outbound_connections"]), fmt.Sprintf("to 10.200.71.2:%d", backend)) {
		t.Fatalf("relayed connection to the target missing: %v", f.Evidence)
	}
	if !strings.Contains(fmt.Sprint(f.Evidence["cmdline"]), "TCP-LISTEN") || f.Evidence["path"] == "" {
		t.Fatalf("owning process missing from evidence: %v", f.Evidence)
	}
}

// TestTunnelSSHRemoteForward has an ssh client ask a local sshd (with
// GatewayPorts) for a remote forward bound to a veth address; a peer in a
// namespace connects to it. The sshd session holding the listener is
// reported as a medium relay.
func TestTunnelSSHRemoteForward(t *testing.T) {
	requireE2E(t, "ip", "ssh", "ssh-keygen", "/usr/sbin/sshd", "socat")
	const ns = "fwtnssh"
	tnNetns(t, ns)
	tnVeth(t, ns, "fwtns0", "fwtns1", "10.200.75.1/24", "10.200.75.2/24")
	dir := t.TempDir()
	tnRun(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, "hostkey"))
	tnRun(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, "userkey"))
	pub, err := os.ReadFile(filepath.Join(dir, "userkey.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	cfg := fmt.Sprintf("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nAuthorizedKeysFile %s\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nStrictModes no\nUsePAM no\nPidFile %s\nAllowTcpForwarding yes\nGatewayPorts clientspecified\n",
		port, filepath.Join(dir, "hostkey"), filepath.Join(dir, "authorized_keys"), filepath.Join(dir, "sshd.pid"))
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	startProc(t, "/usr/sbin/sshd", "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	waitListen(t, fmt.Sprintf("127.0.0.1:%d", port))
	backend := freePort(t)
	startProc(t, "socat", fmt.Sprintf("TCP-LISTEN:%d,bind=127.0.0.1,fork,reuseaddr", backend), "EXEC:/bin/cat")
	waitListen(t, fmt.Sprintf("127.0.0.1:%d", backend))
	fwd := freePort(t)
	user := os.Getenv("USER")
	if user == "" {
		user = "root"
	}
	startProc(t, "ssh", "-N", "-p", fmt.Sprint(port), "-i", filepath.Join(dir, "userkey"),
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes",
		"-R", fmt.Sprintf("10.200.75.1:%d:127.0.0.1:%d", fwd, backend), user+"@127.0.0.1")
	waitListen(t, fmt.Sprintf("10.200.75.1:%d", fwd))
	startProc(t, "ip", "netns", "exec", ns, "socat", fmt.Sprintf("TCP:10.200.75.1:%d", fwd), "EXEC:sleep 60")
	var f finding
	waitFor(t, "inbound forward connection reported", func() bool {
		var ok bool
		f, ok = tunnelFinding(scan(t), "tunnel.relay.ssh_remote_forward", map[string]string{"inbound_connections": "from 10.200.75.2:"})
		return ok
	})
	if f.Tool != "ssh" || f.Category != "relay" || f.Severity != "medium" || f.Evidence["name"] != "sshd" ||
		!strings.Contains(fmt.Sprint(f.Evidence["listening"]), fmt.Sprintf("10.200.75.1:%d", fwd)) || f.Evidence["side"] != "server" {
		t.Fatalf("sshd remote forward finding: %+v", f)
	}
	pids, _ := f.Evidence["pids"].([]any)
	if len(pids) != 1 || !strings.HasPrefix(fmt.Sprint(f.Evidence["cmdline"]), "[sshd:") {
		t.Fatalf("owning sshd session process missing: %v", f.Evidence)
	}
}

// TestTunnelPolicyDefaultRoute routes a namespace's default through a tun
// device the way wg-quick does (table 51820, "not fwmark" rule, main table
// with suppress_prefixlength 0): /proc/net/route does not show it, the
// netlink dump does, and the agent run inside the namespace reports the
// default route through the tunnel at medium.
func TestTunnelPolicyDefaultRoute(t *testing.T) {
	requireE2E(t, "ip")
	const ns, dev = "fwtnpol", "fwtnpol0"
	tnNetns(t, ns)
	tnRun(t, "ip", "-n", ns, "tuntap", "add", "dev", dev, "mode", "tun")
	tnRun(t, "ip", "-n", ns, "addr", "add", "10.200.76.1/24", "dev", dev)
	tnRun(t, "ip", "-n", ns, "link", "set", dev, "up")
	// Before the policy rules: an ordinary tun device, low.
	f := mustTunnelFinding(t, scanIn(t, ns), "tunnel.interface.up", map[string]string{"interface": dev})
	if f.Severity != "low" {
		t.Fatalf("tun without default route: %+v", f)
	}
	tnRun(t, "ip", "-n", ns, "route", "add", "default", "dev", dev, "table", "51820")
	// The table alone is not the default route of the host.
	if _, ok := tunnelFinding(scanIn(t, ns), "tunnel.interface.default_route", map[string]string{"interface": dev}); ok {
		t.Fatal("a table no rule selects was taken for the default route")
	}
	tnRun(t, "ip", "-n", ns, "rule", "add", "not", "fwmark", "51820", "table", "51820", "priority", "32765")
	tnRun(t, "ip", "-n", ns, "rule", "add", "table", "main", "suppress_prefixlength", "0", "priority", "32764")
	g := mustTunnelFinding(t, scanIn(t, ns), "tunnel.interface.default_route", map[string]string{"interface": dev})
	if g.Severity != "medium" || !strings.Contains(fmt.Sprint(g.Evidence["default_routes"]), "table 51820") {
		t.Fatalf("policy-routed default: %+v", g)
	}
}

// tnVNCPort returns a TCP port in the VNC range (5900–5999) free on
// loopback now.
func tnVNCPort(t *testing.T) int {
	t.Helper()
	for p := 5930; p < 6000; p++ {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			l.Close()
			return p
		}
	}
	t.Fatal("no free port in 5930-5999")
	return 0
}

// tnRenamedSocat copies socat under a bland name, so that nothing
// recognises it by name.
func tnRenamedSocat(t *testing.T, name string) string {
	t.Helper()
	src, err := exec.LookPath("socat")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

func tnPIDsOf(f finding, key string) []int {
	var out []int
	pids, _ := f.Evidence[key].([]any)
	for _, p := range pids {
		if n, ok := p.(float64); ok {
			out = append(out, int(n))
		}
	}
	return out
}

// TestTunnelRelayToLocalListener drives a real x11vnc (on Xvfb, listening
// on loopback only) from a "controller" network namespace through relays
// that no name identifies: a copy of socat called "syncd" that dials out
// to a TigerVNC viewer waiting for reverse connections in the namespace
// and into the local VNC server (the reverse-tunnel shape), then a copy
// called "fwdsvc" that accepts from the namespace and connects to the
// local VNC server (a plain port forward). Both are the controlled host:
// high, naming the relay and x11vnc; the first also from a snapshot.
func TestTunnelRelayToLocalListener(t *testing.T) {
	requireE2E(t, "ip", "socat", "x11vnc", "Xvfb", "vncviewer")
	const ns = "fwtnlrl"
	tnNetns(t, ns)
	tnVeth(t, ns, "fwtnl0", "fwtnl1", "10.200.79.1/24", "10.200.79.2/24")
	disp := startXvfb(t)
	dir := t.TempDir()
	vncPort := tnVNCPort(t)
	vncLog := filepath.Join(dir, "x11vnc.log")
	vnc := startProc(t, "x11vnc", "-display", disp, "-localhost", "-rfbport", fmt.Sprint(vncPort), "-forever", "-shared", "-nopw", "-o", vncLog)
	waitListen(t, fmt.Sprintf("127.0.0.1:%d", vncPort))
	vncClients := func() int {
		b, _ := os.ReadFile(vncLog)
		return strings.Count(string(b), "Got connection from client")
	}
	before := vncClients() // waitListen's probe connected once

	// (1) The controller's viewer listens in the namespace; the relay dials
	// it and the local VNC server.
	const ctlPort = 7009
	startProc(t, "ip", "netns", "exec", ns, "env", "DISPLAY="+disp, "vncviewer", "-listen", fmt.Sprint(ctlPort))
	waitFor(t, "the viewer listening in the namespace", func() bool {
		return strings.Contains(tnRunQuiet("ip", "netns", "exec", ns, "ss", "-ltn"), fmt.Sprintf("%d", ctlPort))
	})
	syncd := tnRenamedSocat(t, "syncd")
	relay := startProc(t, syncd, fmt.Sprintf("TCP:10.200.79.2:%d", ctlPort), fmt.Sprintf("TCP:127.0.0.1:%d", vncPort))
	waitFor(t, "the viewer's session reaching x11vnc through the relay", func() bool { return vncClients() > before })
	var f finding
	waitFor(t, "the reverse relay reported", func() bool {
		var ok bool
		f, ok = tunnelFinding(scan(t), "tunnel.relay.to_local_listener", map[string]string{"name": "syncd"})
		return ok
	})
	sum := sha256.Sum256([]byte(mustRead(t, syncd)))
	if f.Severity != "high" || f.Category != "relay" || f.Tool != "unknown" || !hasPID(f, relay.Process.Pid) ||
		f.Evidence["listener_name"] != "x11vnc" || !slices.Contains(tnPIDsOf(f, "listener_pids"), vnc.Process.Pid) ||
		f.Evidence["service"] != "vnc" || f.Evidence["direction"] != "outbound" || f.Evidence["path"] != syncd ||
		f.Evidence["exe_sha256"] != hex.EncodeToString(sum[:]) ||
		!strings.Contains(fmt.Sprint(f.Evidence["outside_endpoints"]), fmt.Sprintf("tcp/10.200.79.2:%d (outbound)", ctlPort)) ||
		!strings.Contains(fmt.Sprint(f.Evidence["local_connections"]), fmt.Sprintf("127.0.0.1:%d", vncPort)) {
		t.Fatalf("reverse relay finding (syncd pid %d, x11vnc pid %d): %+v", relay.Process.Pid, vnc.Process.Pid, f)
	}
	t.Logf("reverse relay: %s %v", f.Summary, f.Evidence)
	// The same from a snapshot recorded with collect.
	snap := filepath.Join(t.TempDir(), "snap")
	if out, errOut, code := runAgent(t, "collect", "--out", snap); code != 0 {
		t.Fatalf("collect exit %d\n%s\n%s", code, out, errOut)
	}
	g := mustTunnelFinding(t, scan(t, "--snapshot", snap), "tunnel.relay.to_local_listener", map[string]string{"name": "syncd"})
	if g.Severity != "high" || !hasPID(g, relay.Process.Pid) || g.Evidence["listener_name"] != "x11vnc" || g.ID != f.ID {
		t.Fatalf("reverse relay from the snapshot: %+v", g)
	}

	// (2) A port forward accepting from the namespace into the local VNC
	// server; the viewer in the namespace connects to it.
	fwdsvc := tnRenamedSocat(t, "fwdsvc")
	fwdPort := freePort(t)
	startProc(t, fwdsvc, fmt.Sprintf("TCP-LISTEN:%d,bind=10.200.79.1,fork,reuseaddr", fwdPort), fmt.Sprintf("TCP:127.0.0.1:%d", vncPort))
	waitListen(t, fmt.Sprintf("10.200.79.1:%d", fwdPort))
	before = vncClients()
	startProc(t, "ip", "netns", "exec", ns, "env", "DISPLAY="+disp, "vncviewer", fmt.Sprintf("10.200.79.1::%d", fwdPort))
	waitFor(t, "the namespace viewer reaching x11vnc through the forward", func() bool { return vncClients() > before })
	waitFor(t, "the inbound relay reported", func() bool {
		var ok bool
		f, ok = tunnelFinding(scan(t), "tunnel.relay.to_local_listener", map[string]string{"name": "fwdsvc", "direction": "inbound"})
		return ok
	})
	if f.Severity != "high" || f.Evidence["listener_name"] != "x11vnc" || !slices.Contains(tnPIDsOf(f, "listener_pids"), vnc.Process.Pid) ||
		!strings.Contains(fmt.Sprint(f.Evidence["outside_endpoints"]), "tcp/10.200.79.2:") || f.Evidence["path"] != fwdsvc || len(tnPIDsOf(f, "pids")) == 0 {
		t.Fatalf("inbound relay finding: %+v", f)
	}
	t.Logf("inbound relay: %s %v", f.Summary, f.Evidence)
}
