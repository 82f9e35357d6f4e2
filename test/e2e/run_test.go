//go:build linux

package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	psnet "github.com/shirou/gopsutil/v4/net"
)

// TestRunReloadAndGracefulStop runs the agent in the foreground: findings
// reach the JSON Lines file, an invalid config sent with SIGHUP is rejected
// while the agent keeps running on the old one, a valid edit of the file is
// reloaded without a signal, and SIGTERM stops it within five seconds with
// exit code 0.
func TestRunReloadAndGracefulStop(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "farmwatch.yaml")
	findings := filepath.Join(dir, "findings.jsonl")
	// Snapshot-free run on this host; the allowlist makes sure there is at
	// least one finding on any machine: its expired entry is reported.
	cfg := "log: {level: info}\ndetectors:\n  remoteaccess: {interval: 1s}\nreport:\n  file: " + findings + "\nallowlist:\n  - {tool: anydesk, hosts: ['*'], owner: it, reason: pilot, expires: 2020-01-01}\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(agent(t), "run", "--config", cfgPath)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitFile := func(what string, cond func(string) bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			b, _ := os.ReadFile(findings)
			if cond(string(b)) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for %s; stderr:\n%s", what, stderr.String())
	}
	waitFile("the expired-allowlist finding", func(s string) bool { return strings.Contains(s, "agent.allowlist.expired") })
	if n := strings.Count(mustRead(t, findings), "agent.allowlist.expired"); n != 1 {
		t.Fatalf("finding repeated %d times inside the de-duplication window", n)
	}
	// The agent opens no listening port: nothing accepts connections. (The
	// LAN detector's passive mDNS receiver joins a multicast group for a
	// few seconds per run; it accepts nothing.)
	conns, err := psnet.ConnectionsPid("tcp", int32(cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		if c.Status == "LISTEN" {
			t.Fatalf("agent listens: %+v", c)
		}
	}

	if err := os.WriteFile(cfgPath, []byte(cfg+"bogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// The agent handles the reload between detector runs, which take tens
	// of seconds on a busy machine: wait for it, not for a fixed time.
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(stderr.String(), "config_reload_rejected") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(stderr.String(), "config_reload_rejected") || !strings.Contains(stderr.String(), `bogus`) {
		t.Fatalf("invalid config not rejected on SIGHUP; stderr:\n%s", stderr.String())
	}
	if cmd.ProcessState != nil {
		t.Fatal("agent exited after an invalid reload")
	}

	// A valid change to the file is picked up without a signal.
	if err := os.WriteFile(cfgPath, []byte(cfg+"# edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(90 * time.Second)
	for !strings.Contains(stderr.String(), "config_reloaded") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(stderr.String(), "config_reloaded") {
		t.Fatalf("config file change not reloaded; stderr:\n%s", stderr.String())
	}

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("agent exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("agent did not stop within 5 s of SIGTERM")
	}
	t.Logf("stopped %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(stderr.String(), "agent_stopped") {
		t.Fatalf("no agent_stopped log:\n%s", stderr.String())
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// syncBuffer is a bytes.Buffer safe for the exec copier and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
