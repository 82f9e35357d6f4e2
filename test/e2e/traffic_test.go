//go:build linux

package e2e

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunCapturesLiveTraffic runs the agent with live capture on loopback
// and holds a real VNC session with x11vnc open: the running agent reports
// the session from the wire while it lasts.
func TestRunCapturesLiveTraffic(t *testing.T) {
	requireE2E(t, "Xvfb", "x11vnc")
	disp := startXvfb(t)
	port := freePort(t)
	startProc(t, "x11vnc", "-display", disp, "-rfbport", fmt.Sprint(port), "-forever", "-shared", "-nopw", "-localhost", "-quiet")
	waitListen(t, fmt.Sprintf("127.0.0.1:%d", port))

	dir := t.TempDir()
	cfg := filepath.Join(dir, "farmwatch.yaml")
	body := "detectors:\n  remoteaccess: {enabled: false}\n  hardware: {enabled: false}\n  tunnel: {enabled: false}\n" +
		"  traffic:\n    settings: {interfaces: [lo], report_every: 1s, cpu_budget: 0.5}\nreport:\n  stdout: true\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(agent(t), "run", "--config", cfg)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "capture_started") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(stderr.String(), "capture_started") {
		t.Fatalf("capture not started within 10 s (the session would be missed); stderr:\n%s", stderr.String())
	}

	// A full RFB handshake (security None, ClientInit, ServerInit), then
	// the session stays open.
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rfbHandshake(t, conn)

	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("agent exited; stderr:\n%s", stderr.String())
			}
			if strings.Contains(l, `"rule":"network.vnc.session"`) && strings.Contains(l, `"detector":"traffic"`) {
				if !strings.Contains(l, fmt.Sprintf("127.0.0.1:%d", port)) {
					t.Fatalf("finding does not name the flow: %s", l)
				}
				// Attributed to the process serving the session, with the
				// kernel's RTT of the connection.
				if !strings.Contains(l, `"process":"x11vnc"`) || !strings.Contains(l, `"kernel_rtt_ms":`) {
					t.Fatalf("finding not attributed to x11vnc: %s", l)
				}
				_ = cmd.Process.Signal(syscall.SIGTERM)
				return
			}
		case <-timeout:
			t.Fatalf("no live VNC finding within 20 s; stderr:\n%s", stderr.String())
		}
	}
}

func rfbHandshake(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	ver := make([]byte, 12)
	if _, err := io.ReadFull(c, ver); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("RFB 003.008\n")); err != nil {
		t.Fatal(err)
	}
	n := make([]byte, 1)
	if _, err := io.ReadFull(c, n); err != nil || n[0] == 0 {
		t.Fatalf("security types: %v %v", n, err)
	}
	types := make([]byte, n[0])
	if _, err := io.ReadFull(c, types); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte{1}); err != nil { // None
		t.Fatal(err)
	}
	res := make([]byte, 4)
	if _, err := io.ReadFull(c, res); err != nil || binary.BigEndian.Uint32(res) != 0 {
		t.Fatalf("security result %v %v", res, err)
	}
	if _, err := c.Write([]byte{1}); err != nil { // ClientInit, shared
		t.Fatal(err)
	}
	head := make([]byte, 24)
	if _, err := io.ReadFull(c, head); err != nil {
		t.Fatal(err)
	}
	name := make([]byte, binary.BigEndian.Uint32(head[20:]))
	if _, err := io.ReadFull(c, name); err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Time{})
}

// TestRunConnectionTelemetry runs the agent's traffic detector from the
// connection table (mode "connections", what Windows uses) against real
// software: an inbound x11vnc session from a peer in a network namespace,
// and a socat relay forwarding that peer's data to an echo server in the
// namespace. Expect the VNC session attributed to x11vnc with the kernel's
// counters and RTT, and the relay found by matching byte counters of the
// two connections socat holds.
func TestRunConnectionTelemetry(t *testing.T) {
	requireE2E(t, "ip", "socat", "Xvfb", "x11vnc")
	const ns = "fwtele"
	tnNetns(t, ns)
	tnVeth(t, ns, "fwtel0", "fwtel1", "10.200.72.1/24", "10.200.72.2/24")
	disp := startXvfb(t)
	vport := freePort(t)
	vnc := startProc(t, "x11vnc", "-display", disp, "-rfbport", fmt.Sprint(vport), "-forever", "-shared", "-nopw", "-quiet")
	waitListen(t, fmt.Sprintf("10.200.72.1:%d", vport))
	backend := freePort(t)
	startProc(t, "ip", "netns", "exec", ns, "socat", fmt.Sprintf("TCP-LISTEN:%d,bind=10.200.72.2,fork,reuseaddr", backend), "EXEC:/bin/cat")
	rport := freePort(t)
	startProc(t, "socat", fmt.Sprintf("TCP-LISTEN:%d,fork,reuseaddr", rport), fmt.Sprintf("TCP:10.200.72.2:%d", backend))
	waitListen(t, fmt.Sprintf("10.200.72.1:%d", rport))

	dir := t.TempDir()
	cfg := filepath.Join(dir, "farmwatch.yaml")
	body := "detectors:\n  remoteaccess: {enabled: false}\n  hardware: {enabled: false}\n  tunnel: {enabled: false}\n  lan: {enabled: false}\n  context: {enabled: false}\n" +
		"  traffic:\n    settings: {mode: connections, poll_every: 1s, report_every: 2s}\nreport:\n  stdout: true\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(agent(t), "run", "--config", cfg)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })

	// The peer holds a VNC connection open, and sends 48 KiB through the
	// relay (echoed back) while keeping that connection open too.
	startProc(t, "ip", "netns", "exec", ns, "bash", "-c", fmt.Sprintf("sleep 30 | socat - TCP:10.200.72.1:%d >/dev/null", vport))
	startProc(t, "ip", "netns", "exec", ns, "bash", "-c",
		fmt.Sprintf("(head -c 49152 /dev/zero | tr '\\0' x; sleep 30) | socat - TCP:10.200.72.1:%d >/dev/null", rport))

	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var sawVNC, sawRelay bool
	timeout := time.After(25 * time.Second)
	for !sawVNC || !sawRelay {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("agent exited; stderr:\n%s", stderr.String())
			}
			fs := parseFindings(t, l)
			for _, f := range fs {
				switch {
				case f.Rule == "network.vnc.session" && f.Evidence["source"] == "connection-table":
					if f.Severity != "high" || f.Evidence["direction"] != "inbound" || f.Evidence["process"] != "x11vnc" ||
						int(f.Evidence["pid"].(float64)) != vnc.Process.Pid || f.Evidence["server"] != fmt.Sprintf("10.200.72.1:%d", vport) {
						t.Fatalf("VNC session from the connection table: %+v", f)
					}
					if rtt, ok := f.Evidence["kernel_rtt_ms"].(float64); !ok || rtt <= 0 {
						t.Fatalf("no kernel RTT on the session: %v", f.Evidence)
					}
					sawVNC = true
				case f.Rule == "network.behavior.relay" && f.Evidence["source"] == "connection-table":
					if f.Evidence["process"] != "socat" || f.Severity != "high" ||
						!strings.Contains(fmt.Sprint(f.Evidence["outbound"]), fmt.Sprintf("10.200.72.2:%d", backend)) ||
						!strings.Contains(fmt.Sprint(f.Evidence["inbound"]), fmt.Sprintf("10.200.72.1:%d", rport)) {
						t.Fatalf("relay from the connection table: %+v", f)
					}
					sawRelay = true
				}
			}
		case <-timeout:
			t.Fatalf("telemetry findings within 25 s: vnc=%v relay=%v; stderr:\n%s", sawVNC, sawRelay, stderr.String())
		}
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
}
