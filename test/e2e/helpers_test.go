//go:build linux

// Package e2e runs the real farmwatch-agent binary against real software
// started on this machine (x11vnc, TigerVNC, xrdp, OpenSSH) and asserts its
// JSON findings. `make test` sets FARMWATCH_E2E=1 (missing software is then a
// failure) and FARMWATCH_AGENT_BIN; without them the tests skip.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type finding struct {
	ID         string         `json:"id"`
	Rule       string         `json:"rule"`
	Category   string         `json:"category"`
	Tool       string         `json:"tool"`
	Severity   string         `json:"severity"`
	Confidence float64        `json:"confidence"`
	Allowed    bool           `json:"allowed"`
	Summary    string         `json:"summary"`
	Evidence   map[string]any `json:"evidence"`
}

var severityRank = map[string]int{"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

// requireE2E skips unless end-to-end tests were asked for, and fails when
// they were but a needed program is missing.
func requireE2E(t *testing.T, programs ...string) {
	t.Helper()
	if os.Getenv("FARMWATCH_E2E") != "1" {
		t.Skip("end-to-end test: run through `make test` (FARMWATCH_E2E=1)")
	}
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s is not installed: `make deps` installs it (see .ci/debian-packages.txt)", p)
		}
	}
}

var agentBin string

func agent(t *testing.T) string {
	t.Helper()
	if agentBin != "" {
		return agentBin
	}
	if b := os.Getenv("FARMWATCH_AGENT_BIN"); b != "" {
		agentBin = b
		return b
	}
	out := filepath.Join(os.TempDir(), fmt.Sprintf("farmwatch-agent-e2e-%d", os.Getpid()))
	cmd := exec.Command("go", "build", "-o", out, "github.com/farmwatch/farmwatch/cmd/agent")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build agent: %v\n%s", err, b)
	}
	agentBin = out
	return out
}

// runAgent runs the agent and returns stdout, stderr and the exit code.
func runAgent(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, agent(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run agent %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

// scan runs `scan --format json` with extra args and parses its findings.
func scan(t *testing.T, args ...string) []finding {
	t.Helper()
	out, errOut, code := runAgent(t, append([]string{"scan", "--format", "json"}, args...)...)
	if code != 0 && code != 3 {
		t.Fatalf("scan exit %d\nstderr: %s", code, errOut)
	}
	return parseFindings(t, out)
}

func parseFindings(t *testing.T, out string) []finding {
	t.Helper()
	var fs []finding
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var f finding
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("bad JSON line %q: %v", line, err)
		}
		fs = append(fs, f)
	}
	return fs
}

// findingForPID returns the finding whose evidence lists pid.
func findingForPID(fs []finding, pid int, rule string) (finding, bool) {
	for _, f := range fs {
		if rule != "" && f.Rule != rule {
			continue
		}
		pids, _ := f.Evidence["pids"].([]any)
		for _, p := range pids {
			if n, ok := p.(float64); ok && int(n) == pid {
				return f, true
			}
		}
	}
	return finding{}, false
}

// startProc starts a long-running program in its own process group, killed
// at test cleanup.
func startProc(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logf, err := os.Create(filepath.Join(t.TempDir(), filepath.Base(name)+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		stopGroup(cmd)
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("%s output:\n%s", name, b)
		}
	})
	return cmd
}

// stopGroup ends a process started with its own process group: SIGTERM
// first, so programs that hold System V shared memory remove it as they
// exit (x11vnc leaves 27 segments behind when SIGKILLed, and a machine's
// table of 4096 fills after about 150 such kills: every later X client that
// uses MIT-SHM then fails), SIGKILL after 3 s for whatever is still there.
// Last, the segments that the group's programs created and left behind
// anyway (killed, or careless) are removed (see TestMain).
func stopGroup(cmd *exec.Cmd) {
	pgid := cmd.Process.Pid
	members := groupMembers(pgid)
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
	}
	// The leader may be gone while members of its group are not.
	for pid := range groupMembers(pgid) {
		members[pid] = true
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-done
	// SIGKILL is asynchronous: wait (≤ 2 s) until no member is left.
	for i := 0; i < 40 && syscall.Kill(-pgid, 0) == nil; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	sweepSHM(members)
}

// groupMembers lists the processes of process group pgid (and pgid itself).
func groupMembers(pgid int) map[int64]bool {
	out := map[int64]bool{int64(pgid): true}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.ParseInt(d.Name(), 10, 64)
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
		rest := string(b)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		if f := strings.Fields(rest); len(f) >= 3 && f[2] == strconv.Itoa(pgid) {
			out[pid] = true
		}
	}
	return out
}

// freeDisplay reports whether X display :n is free: no socket, or a socket
// and lock left by an X server that is gone (SIGKILL leaves both; they are
// removed here so the display can be used again).
func freeDisplay(n int) bool {
	sock, lock := fmt.Sprintf("/tmp/.X11-unix/X%d", n), fmt.Sprintf("/tmp/.X%d-lock", n)
	if _, err := os.Stat(sock); err != nil {
		return true
	}
	if !staleXLock(lock) {
		return false
	}
	_ = os.Remove(sock)
	_ = os.Remove(lock)
	return true
}

// staleXLock reports whether an X display lock file names a process that no
// longer exists (or is unreadable/missing).
func staleXLock(lock string) bool {
	b, err := os.ReadFile(lock)
	if err != nil {
		return true
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return true
	}
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

// waitListen waits until something accepts TCP connections on addr.
func waitListen(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s after 20s", addr)
}

// freePort returns a TCP port free on loopback now. It is taken below the
// kernel's ephemeral range (net.ipv4.ip_local_port_range), where ports bound
// to :0 and outgoing connections come from: the packages that run beside
// this one bind :0, and a port one of them got a moment after this test
// released it once made a collector's test talk to someone else's server.
// Within this package a port is handed out once.
func freePort(t *testing.T) int {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	lo, hi := 20000, 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if v, err := strconv.Atoi(f[0]); err == nil {
				hi = v
				lo = max(1024, min(lo, hi-10000))
			}
		}
	}
	start := lo + rand.IntN(hi-lo)
	for i := 0; i < hi-lo; i++ {
		p := lo + (start-lo+i)%(hi-lo)
		if portsGiven[p] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		portsGiven[p] = true
		return p
	}
	t.Fatalf("no free TCP port in %d-%d", lo, hi-1)
	return 0
}

var (
	portMu     sync.Mutex
	portsGiven = map[int]bool{}
)

// startXvfb starts a virtual X display and returns its name (":N").
func startXvfb(t *testing.T) string {
	t.Helper()
	for n := 90; n < 120; n++ {
		if !freeDisplay(n) {
			continue
		}
		sock, lock := fmt.Sprintf("/tmp/.X11-unix/X%d", n), fmt.Sprintf("/tmp/.X%d-lock", n)
		disp := fmt.Sprintf(":%d", n)
		// Registered before startProc's kill runs (cleanups run last-in
		// first-out): the socket and lock go once the server is dead.
		t.Cleanup(func() {
			if staleXLock(lock) {
				_ = os.Remove(sock)
				_ = os.Remove(lock)
			}
		})
		startProc(t, "Xvfb", disp, "-screen", "0", "800x600x24", "-nolisten", "tcp", "-noreset")
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := os.Stat(sock); err == nil {
				return disp
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("Xvfb %s did not start", disp)
	}
	t.Fatal("no free X display number")
	return ""
}
