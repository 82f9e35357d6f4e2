//go:build linux

package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunReloadRetunesAndStopsCapture runs the agent with live capture on
// loopback, then reloads its config with SIGHUP: a retuned traffic setting
// (cpu_budget) restarts capture with the new value and the old capture
// socket closes; disabling traffic closes every capture socket of the
// agent — no restart.
func TestRunReloadRetunesAndStopsCapture(t *testing.T) {
	requireE2E(t)
	if os.Geteuid() != 0 {
		t.Fatal("live capture (AF_PACKET) needs root: run `make test` as root")
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "farmwatch.yaml")
	others := "detectors:\n  remoteaccess: {enabled: false}\n  hardware: {enabled: false}\n  tunnel: {enabled: false}\n  lan: {enabled: false}\n  context: {enabled: false}\n"
	write := func(traffic string) {
		t.Helper()
		if err := os.WriteFile(cfgPath, []byte(others+traffic+"report:\n  file: "+filepath.Join(dir, "f.jsonl")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("  traffic:\n    settings: {interfaces: [lo], cpu_budget: 0.5}\n")
	cmd := exec.Command(agent(t), "run", "--config", cfgPath)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	pid := cmd.Process.Pid
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; stderr:\n%s", what, stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	logCount := func(substr string) int { return strings.Count(stderr.String(), substr) }

	waitFor("capture at cpu_budget 0.5", func() bool {
		return logCount(`"capture_started"`) == 1 && strings.Contains(stderr.String(), `"cpu_budget":0.5`)
	})
	first := packetSockets(t, pid)
	if len(first) == 0 {
		t.Fatalf("capture started but the agent holds no AF_PACKET socket; stderr:\n%s", stderr.String())
	}

	// Retune: capture restarts at the new budget; the old socket closes.
	write("  traffic:\n    settings: {interfaces: [lo], cpu_budget: 0.25}\n")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("capture restarted at cpu_budget 0.25", func() bool {
		return logCount(`"capture_started"`) == 2 && strings.Contains(stderr.String(), `"cpu_budget":0.25`)
	})
	waitFor("the old capture socket to close", func() bool {
		now := packetSockets(t, pid)
		for ino := range first {
			if now[ino] {
				return false
			}
		}
		return len(now) > 0
	})

	// Disable traffic: every capture socket closes, the agent keeps running.
	write("  traffic: {enabled: false}\n")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("capture to stop", func() bool { return len(packetSockets(t, pid)) == 0 && logCount(`"live_actor_stopped"`) == 1 })
	if logCount(`"config_reloaded"`) != 2 || logCount(`"config_reload_needs_restart"`) != 0 {
		t.Fatalf("reload logs; stderr:\n%s", stderr.String())
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("agent gone after disabling traffic: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("agent exit: %v\n%s", err, stderr.String())
	}
}

// packetSockets returns the inodes of the AF_PACKET sockets process pid
// holds open: its socket fds matched against /proc/net/packet.
func packetSockets(t *testing.T, pid int) map[uint64]bool {
	t.Helper()
	f, err := os.Open("/proc/net/packet")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	packet := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) >= 9 && fs[0] != "sk" {
			packet[fs[8]] = true
		}
	}
	fds, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint64]bool{}
	for _, fd := range fds {
		l, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + fd.Name())
		if err != nil || !strings.HasPrefix(l, "socket:[") {
			continue
		}
		ino := strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")
		if n, err := strconv.ParseUint(ino, 10, 64); err == nil && packet[ino] {
			out[n] = true
		}
	}
	return out
}
