//go:build linux

package e2e

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func assertRemoteAccess(t *testing.T, fs []finding, pid int, tool, rule string) finding {
	t.Helper()
	f, ok := findingForPID(fs, pid, rule)
	if !ok {
		var lines []string
		for _, f := range fs {
			lines = append(lines, fmt.Sprintf("%s %s %s %v", f.Rule, f.Tool, f.Severity, f.Evidence["pids"]))
		}
		t.Fatalf("no %s finding for pid %d; findings:\n%s", rule, pid, strings.Join(lines, "\n"))
	}
	if f.Tool != tool || f.Category != "remote-access" {
		t.Fatalf("pid %d reported as tool %q category %q, want %q remote-access: %+v", pid, f.Tool, f.Category, tool, f)
	}
	if severityRank[f.Severity] < severityRank["medium"] || f.Allowed {
		t.Fatalf("running %s reported at %s (allowed=%v), want medium or above", tool, f.Severity, f.Allowed)
	}
	return f
}

// The clean-machine check runs first: with none of the test software
// running, nothing at medium or above.
func TestAAACleanMachineHasNoMediumFindings(t *testing.T) {
	requireE2E(t)
	out, errOut, code := runAgent(t, "scan", "--format", "json", "--fail-on", "medium")
	if code != 0 {
		t.Fatalf("clean machine: scan --fail-on medium exited %d\nfindings:\n%s\nstderr: %s", code, out, errOut)
	}
	for _, f := range parseFindings(t, out) {
		if severityRank[f.Severity] >= severityRank["medium"] {
			t.Fatalf("clean machine finding at %s: %+v", f.Severity, f)
		}
	}
}

func TestX11VNCOnXvfb(t *testing.T) {
	requireE2E(t, "Xvfb", "x11vnc")
	disp := startXvfb(t)
	port := freePort(t)
	cmd := startProc(t, "x11vnc", "-display", disp, "-rfbport", fmt.Sprint(port), "-forever", "-shared", "-nopw", "-localhost", "-quiet")
	waitListen(t, fmt.Sprintf("127.0.0.1:%d", port))
	f := assertRemoteAccess(t, scan(t), cmd.Process.Pid, "vnc", "remoteaccess.process.running")
	if !strings.Contains(fmt.Sprint(f.Evidence["listening"]), fmt.Sprint(port)) {
		t.Errorf("listening socket %d not in evidence: %v", port, f.Evidence)
	}
	if _, ok := findingForPID(scan(t), cmd.Process.Pid, "remoteaccess.session.inbound"); ok {
		t.Fatal("session reported before any client connected")
	}
	// A viewer connects: RFB handshake up to the security types.
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	banner := make([]byte, 12)
	if _, err := io.ReadFull(conn, banner); err != nil || !strings.HasPrefix(string(banner), "RFB ") {
		t.Fatalf("RFB banner: %q %v", banner, err)
	}
	if _, err := conn.Write([]byte("RFB 003.008\n")); err != nil {
		t.Fatal(err)
	}
	s := assertRemoteAccess(t, scan(t), cmd.Process.Pid, "vnc", "remoteaccess.session.inbound")
	if s.Severity != "high" || !strings.Contains(fmt.Sprint(s.Evidence["session"]), "inbound connection") {
		t.Fatalf("inbound VNC session: %+v", s)
	}
}

func TestTigerVNCXvnc(t *testing.T) {
	requireE2E(t, "Xvnc")
	port := freePort(t)
	var disp int
	for disp = 70; disp < 90; disp++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", disp)); err != nil {
			break
		}
	}
	cmd := startProc(t, "Xvnc", fmt.Sprintf(":%d", disp), "-rfbport", fmt.Sprint(port), "-SecurityTypes", "None", "-localhost", "-geometry", "800x600")
	waitListen(t, fmt.Sprintf("127.0.0.1:%d", port))
	assertRemoteAccess(t, scan(t), cmd.Process.Pid, "vnc", "remoteaccess.process.running")
}

func TestXrdp(t *testing.T) {
	requireE2E(t, "xrdp")
	port := freePort(t)
	// xrdp forks into the background unless --nodaemon; it writes its pid
	// file under /var/run/xrdp.
	if err := os.MkdirAll("/var/run/xrdp", 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := startProc(t, "xrdp", "--nodaemon", "--port", fmt.Sprint(port))
	waitListen(t, fmt.Sprintf("127.0.0.1:%d", port))
	f := assertRemoteAccess(t, scan(t), cmd.Process.Pid, "rdp", "remoteaccess.process.running")
	if !strings.Contains(fmt.Sprint(f.Evidence["listening"]), fmt.Sprint(port)) {
		t.Errorf("listening port %d not in evidence: %v", port, f.Evidence)
	}
}

// TestSSHReverseTunnel opens `ssh -R` to a local sshd and expects the
// client reported as a reverse tunnel, and the session on sshd.
func TestSSHReverseTunnel(t *testing.T) {
	requireE2E(t, "ssh", "ssh-keygen", "/usr/sbin/sshd")
	dir := t.TempDir()
	run := func(name string, args ...string) {
		if b, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, b)
		}
	}
	run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, "hostkey"))
	run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, "userkey"))
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
	cfg := fmt.Sprintf("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nAuthorizedKeysFile %s\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nStrictModes no\nUsePAM no\nPidFile %s\nAllowTcpForwarding yes\n",
		port, filepath.Join(dir, "hostkey"), filepath.Join(dir, "authorized_keys"), filepath.Join(dir, "sshd.pid"))
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	sshd := startProc(t, "/usr/sbin/sshd", "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	waitListen(t, fmt.Sprintf("127.0.0.1:%d", port))
	fwd := freePort(t)
	user := os.Getenv("USER")
	if user == "" {
		user = "root"
	}
	client := startProc(t, "ssh", "-N", "-p", fmt.Sprint(port), "-i", filepath.Join(dir, "userkey"),
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes",
		"-R", fmt.Sprintf("127.0.0.1:%d:127.0.0.1:5900", fwd), user+"@127.0.0.1")
	// The forward exists once sshd listens on it for the client.
	waitListen(t, fmt.Sprintf("127.0.0.1:%d", fwd))
	fs := scan(t)
	f, ok := findingForPID(fs, client.Process.Pid, "remoteaccess.ssh.reverse_tunnel")
	if !ok {
		t.Fatalf("ssh -R (pid %d) not reported: %+v", client.Process.Pid, fs)
	}
	if f.Tool != "ssh" || f.Category != "remote-access" || f.Severity != "high" {
		t.Fatalf("reverse tunnel finding: %+v", f)
	}
	if !strings.Contains(fmt.Sprint(f.Evidence["remote_forwards"]), fmt.Sprint(fwd)) {
		t.Fatalf("forward spec missing from evidence: %v", f.Evidence)
	}
	// sshd itself runs and has the client's session.
	assertRemoteAccess(t, fs, sshd.Process.Pid, "ssh", "remoteaccess.process.running")
}

// TestRenamedX11VNC copies x11vnc to /tmp under an innocent name: it must
// still be reported as VNC, flagged renamed, identified by its binary.
func TestRenamedX11VNC(t *testing.T) {
	requireE2E(t, "Xvfb", "x11vnc")
	src, _ := exec.LookPath("x11vnc")
	dir, err := os.MkdirTemp("/tmp", "fw-renamed-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	dst := filepath.Join(dir, "updater")
	copyFile(t, src, dst)
	disp := startXvfb(t)
	port := freePort(t)
	cmd := startProc(t, dst, "-display", disp, "-rfbport", fmt.Sprint(port), "-forever", "-nopw", "-localhost", "-quiet")
	waitListen(t, fmt.Sprintf("127.0.0.1:%d", port))
	var f finding
	var ok bool
	for i := 0; i < 3 && !ok; i++ { // the process name settles after exec
		f, ok = findingForPID(scan(t), cmd.Process.Pid, "remoteaccess.process.renamed")
		if !ok {
			time.Sleep(300 * time.Millisecond)
		}
	}
	if !ok {
		t.Fatalf("renamed x11vnc at %s not reported as renamed", dst)
	}
	if f.Tool != "vnc" || f.Category != "remote-access" || f.Severity != "high" || f.Evidence["renamed"] != true {
		t.Fatalf("renamed copy finding: %+v", f)
	}
	if f.Evidence["path"] != dst {
		t.Fatalf("evidence path %v, want %s", f.Evidence["path"], dst)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
