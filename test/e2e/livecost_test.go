//go:build linux

package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLiveVNCUnderDownload: the running agent captures the host's link to
// a peer namespace while iperf3 downloads from the peer at up to 1 Gbit/s;
// a real TigerVNC viewer in the namespace opens a session to x11vnc on
// this host. The session must come out of the agent as a high inbound VNC
// finding within 10 s of the viewer's start — with report_every at its
// default 60 s, only the early path can do that. Costs ~15 s.
func TestLiveVNCUnderDownload(t *testing.T) {
	requireE2E(t, "ip", "iperf3", "Xvfb", "x11vnc", "xtigervncviewer")
	const ns = "fwlvnc"
	tnNetns(t, ns)
	tnVeth(t, ns, "fwlvnc0", "fwlvnc1", "10.200.74.1/24", "10.200.74.2/24")
	disp := startXvfb(t)
	vport := freePort(t)
	startProc(t, "x11vnc", "-display", disp, "-rfbport", fmt.Sprint(vport), "-forever", "-shared", "-nopw", "-quiet", "-listen", "10.200.74.1")
	waitListen(t, fmt.Sprintf("10.200.74.1:%d", vport))
	startProc(t, "ip", "netns", "exec", ns, "iperf3", "-s", "-B", "10.200.74.2", "-1")

	dir := t.TempDir()
	cfg := filepath.Join(dir, "farmwatch.yaml")
	body := "detectors:\n  remoteaccess: {enabled: false}\n  hardware: {enabled: false}\n  tunnel: {enabled: false}\n  lan: {enabled: false}\n  context: {enabled: false}\n" +
		"  traffic:\n    settings: {interfaces: [fwlvnc0]}\nreport:\n  stdout: true\n"
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
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(stderr.String(), "capture_started"); {
		if time.Now().After(deadline) {
			t.Fatalf("agent did not start capturing:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The download runs before and during the session.
	iperf := startProc(t, "iperf3", "-c", "10.200.74.2", "-R", "-t", "20", "-b", "1G")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if out, _ := exec.Command("ss", "-Htn", "state", "established", "dst", "10.200.74.2").Output(); strings.Count(string(out), "\n") >= 2 {
			break // control and data connections up
		}
		if time.Now().After(deadline) {
			t.Fatal("iperf3 download did not start")
		}
	}
	viewerDisp := startXvfb(t)
	start := time.Now()
	startProc(t, "ip", "netns", "exec", ns, "env", "DISPLAY="+viewerDisp, "xtigervncviewer", "-Shared", fmt.Sprintf("10.200.74.1::%d", vport))

	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("agent exited; stderr:\n%s", stderr.String())
			}
			for _, f := range parseFindings(t, l) {
				if f.Rule != "network.vnc.session" {
					continue
				}
				if f.Severity != "high" || f.Evidence["direction"] != "inbound" || f.Evidence["server"] != fmt.Sprintf("10.200.74.1:%d", vport) {
					t.Fatalf("VNC session finding: %+v", f)
				}
				t.Logf("inbound VNC session reported %v after the viewer started, under the download", time.Since(start).Round(time.Millisecond))
				if iperf.ProcessState != nil {
					t.Fatal("the download had ended before the finding")
				}
				_ = cmd.Process.Signal(syscall.SIGTERM)
				return
			}
		case <-timeout:
			t.Fatalf("no VNC session finding within 10 s of the viewer's start; stderr:\n%s", stderr.String())
		}
	}
}
