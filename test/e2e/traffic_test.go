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
