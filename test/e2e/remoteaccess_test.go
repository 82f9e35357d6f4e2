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
	"syscall"
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

// The clean-machine check: with none of the test software running,
// nothing at medium or above. Other packages' tests run real remote-access
// software side by side with this package, so `make test` runs this test
// alone before everything else (and skips it in the full run).
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
	// Other packages' tests may run an x11vnc with a client at the same
	// time, and the agent reports one finding per executable with every
	// pid: a session counts only with a connection into this port.
	sessionHere := func(fs []finding) bool {
		for _, f := range fs {
			if f.Rule == "remoteaccess.session.inbound" && strings.Contains(fmt.Sprint(f.Evidence["inbound_connections"]), fmt.Sprintf("tcp/%d from ", port)) {
				return true
			}
		}
		return false
	}
	if sessionHere(scan(t)) {
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
	fs := scan(t)
	s := assertRemoteAccess(t, fs, cmd.Process.Pid, "vnc", "remoteaccess.session.inbound")
	if s.Severity != "high" || !strings.Contains(fmt.Sprint(s.Evidence["session"]), "inbound connection") || !sessionHere(fs) {
		t.Fatalf("inbound VNC session on port %d: %+v", port, s)
	}
}

func TestTigerVNCXvnc(t *testing.T) {
	requireE2E(t, "Xvnc")
	port := freePort(t)
	var disp int
	for disp = 70; disp < 90 && !freeDisplay(disp); disp++ {
	}
	if disp == 90 {
		t.Fatal("no free X display number in :70-:89")
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

// zooCache is where scripts/zoo/identity-install.sh keeps the real
// binaries (npm packages, Go builds) these tests run.
func zooCache() string {
	if d := os.Getenv("ZOO_CACHE"); d != "" {
		return d
	}
	return "/var/cache/farmwatch-zoo"
}

// meshCentralDir is the installed meshcentral@1.1.55 npm package, or "".
func meshCentralDir() string {
	pjs, _ := filepath.Glob(filepath.Join(zooCache(), "*", "node_modules", "meshcentral", "package.json"))
	for _, pj := range pjs {
		if b, err := os.ReadFile(pj); err == nil && strings.Contains(string(b), `"version": "1.1.55"`) {
			return filepath.Dir(pj)
		}
	}
	return ""
}

// isolatedNetns creates a network namespace with only loopback (removed at
// cleanup): the tools started in it cannot reach any other address.
func isolatedNetns(t *testing.T) string {
	t.Helper()
	ns := fmt.Sprintf("fw-id-%d", os.Getpid())
	_ = exec.Command("ip", "netns", "del", ns).Run()
	for _, args := range [][]string{{"netns", "add", ns}, {"-n", ns, "link", "set", "lo", "up"}} {
		if b, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, b)
		}
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	return ns
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRenamedRealBinaries starts real single-binary tools (MeshAgent from
// meshcentral 1.1.55, ngrok 2.3.41, Xray, sing-box, tailscaled, Debian's
// V2Ray and TigerVNC Xvnc) copied to a temporary directory under bland names, inside
// a network namespace with only loopback, and requires each to be reported
// as remoteaccess.process.renamed for the right tool — identified by
// content (byte markers, Go build info), never by name.
func TestRenamedRealBinaries(t *testing.T) {
	requireE2E(t, "ip")
	mc := meshCentralDir()
	z := zooCache()
	type tcase struct {
		name, src, tool, catalogID string
		args                       func(dir string) []string
		setup                      func(dir string)
		evidence                   map[string]any // extra evidence the finding must carry
		env                        []string       // variables set to the case's directory
	}
	free := func() int { return freePort(t) }
	display := 0
	for n := 170; n < 200; n++ {
		if freeDisplay(n) {
			display = n
			break
		}
	}
	cases := []tcase{
		{name: "updater", src: filepath.Join(mc, "agents", "meshagent_x86-64"), tool: "meshcentral", catalogID: "meshcentral",
			// MeshAgent reads <its name>.msh beside itself; the server is
			// unreachable, so it keeps retrying.
			setup: func(dir string) {
				writeFile(t, filepath.Join(dir, "updater.msh"), "MeshName=farm\nMeshType=2\nMeshID=0x"+strings.Repeat("AB", 48)+
					"\nServerID="+strings.Repeat("CD", 48)+"\nMeshServer=wss://127.0.0.1:9/agent.ashx\n")
			},
			// the .msh beside it names the server and the device group
			evidence: map[string]any{"relay": "127.0.0.1:9", "remote_id": "0x" + strings.Repeat("AB", 48), "mesh_name": "farm"}},
		{name: "svc-monitor", src: filepath.Join(z, "ngrok", "node_modules", "@expo", "ngrok-bin-linux-x64", "ngrok"), tool: "ngrok", catalogID: "ngrok",
			// No authtoken, no network: it retries its session for ever.
			setup: func(dir string) { writeFile(t, filepath.Join(dir, "ngrok.yml"), "") },
			args: func(dir string) []string {
				return []string{"http", "80", "--log", "stdout", "--config", filepath.Join(dir, "ngrok.yml")}
			}},
		{name: "netcfgd", src: filepath.Join(z, "identity", "go", "xray-linux-amd64"), tool: "xray", catalogID: "xray",
			setup: func(dir string) {
				writeFile(t, filepath.Join(dir, "x.json"), fmt.Sprintf(`{"log":{"loglevel":"warning"},"inbounds":[{"listen":"127.0.0.1","port":%d,"protocol":"socks"}],"outbounds":[{"protocol":"freedom"}]}`, free()))
			},
			args: func(dir string) []string { return []string{"run", "-c", filepath.Join(dir, "x.json")} }},
		{name: "sysmond", src: filepath.Join(z, "identity", "go", "sing-box-linux-amd64"), tool: "sing-box", catalogID: "sing-box",
			setup: func(dir string) {
				writeFile(t, filepath.Join(dir, "s.json"), fmt.Sprintf(`{"log":{"level":"warn"},"inbounds":[{"type":"socks","listen":"127.0.0.1","listen_port":%d}],"outbounds":[{"type":"direct"}]}`, free()))
			},
			args: func(dir string) []string { return []string{"run", "-c", filepath.Join(dir, "s.json")} }},
		{name: "cfgsync", src: "/usr/bin/v2ray", tool: "v2ray", catalogID: "v2ray",
			setup: func(dir string) {
				writeFile(t, filepath.Join(dir, "v.json"), fmt.Sprintf(`{"log":{"loglevel":"warning"},"inbounds":[{"listen":"127.0.0.1","port":%d,"protocol":"socks"}],"outbounds":[{"protocol":"freedom"}]}`, free()))
			},
			args: func(dir string) []string { return []string{"-config", filepath.Join(dir, "v.json")} }},
		{name: "netd", src: filepath.Join(z, "identity", "go", "tailscaled-linux-amd64"), tool: "tailscale", catalogID: "tailscale",
			// userspace networking, state and logs in dir: nothing outside
			// it is written; the control server is unreachable, so it waits.
			args: func(dir string) []string {
				return []string{"--tun=userspace-networking", "--statedir=" + filepath.Join(dir, "state"), "--socket=" + filepath.Join(dir, "ts.sock"), "--port=0", "--no-logs-no-support"}
			},
			env: []string{"STATE_DIRECTORY"}},
		{name: "xsrv", src: "/usr/bin/Xtigervnc", tool: "vnc", catalogID: "tigervnc",
			args: func(string) []string {
				return []string{fmt.Sprintf(":%d", display), "-rfbport", fmt.Sprint(free()), "-SecurityTypes", "None", "-localhost", "-geometry", "640x480"}
			}},
	}
	var missing []string
	if mc == "" {
		missing = append(missing, "npm meshcentral@1.1.55 under "+z+"/*/node_modules")
	}
	for _, c := range cases {
		if mc == "" && strings.HasPrefix(c.src, "agents") {
			continue // named above
		}
		if _, err := os.Stat(c.src); err != nil {
			missing = append(missing, c.src)
		}
	}
	if display == 0 {
		missing = append(missing, "a free X display number in :170-:199")
	}
	if len(missing) > 0 {
		t.Fatalf("real binaries missing (scripts/zoo/identity-install.sh installs them):\n  %s", strings.Join(missing, "\n  "))
	}
	ns := isolatedNetns(t)
	pids := map[string]int{}
	paths := map[string]string{}
	for _, c := range cases {
		dir, err := os.MkdirTemp("/tmp", "fw-id-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		dst := filepath.Join(dir, c.name)
		copyFile(t, c.src, dst)
		if c.setup != nil {
			c.setup(dir)
		}
		var args []string
		if c.args != nil {
			args = c.args(dir)
		}
		argv := []string{"netns", "exec", ns}
		if len(c.env) > 0 {
			argv = append(argv, "env")
			for _, e := range c.env {
				argv = append(argv, e+"="+dir)
			}
		}
		cmd := startProc(t, "ip", append(append(argv, dst), args...)...)
		pids[c.name], paths[c.name] = cmd.Process.Pid, dst
	}
	// Each one has exec'd its copy (not still `ip netns exec`) before the
	// scan: wait for that, not for a fixed time.
	for _, c := range cases {
		pid, dst := pids[c.name], paths[c.name]
		waitFor(t, fmt.Sprintf("%s (pid %d) to exec %s", c.name, pid, dst), func() bool {
			exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
			return err == nil && exe == dst || syscall.Kill(pid, 0) != nil
		})
	}
	for _, c := range cases {
		pid := pids[c.name]
		if err := syscall.Kill(pid, 0); err != nil {
			t.Errorf("%s (%s) exited early: it must stay up for the scan", c.name, c.src)
		}
	}
	fs := scan(t)
	for _, c := range cases {
		f, ok := findingForPID(fs, pids[c.name], "remoteaccess.process.renamed")
		if !ok {
			var lines []string
			for _, f := range fs {
				lines = append(lines, fmt.Sprintf("%s %s %v %v", f.Rule, f.Tool, f.Evidence["pids"], f.Evidence["matched"]))
			}
			t.Errorf("%s copied to %s (pid %d) not reported as renamed; findings:\n%s", c.src, paths[c.name], pids[c.name], strings.Join(lines, "\n"))
			continue
		}
		if f.Tool != c.tool || f.Evidence["catalog_id"] != c.catalogID || f.Severity != "high" || f.Evidence["renamed"] != true || f.Evidence["path"] != paths[c.name] {
			t.Errorf("%s: finding tool %q catalog_id %v severity %s renamed %v path %v, want %s/%s high renamed %s",
				c.name, f.Tool, f.Evidence["catalog_id"], f.Severity, f.Evidence["renamed"], f.Evidence["path"], c.tool, c.catalogID, paths[c.name])
			continue
		}
		for k, v := range c.evidence {
			if f.Evidence[k] != v {
				t.Errorf("%s: evidence %s = %v, want %v", c.name, k, f.Evidence[k], v)
			}
		}
		t.Logf("%s (%s) → %s by %v", paths[c.name], filepath.Base(c.src), c.catalogID, f.Evidence["matched"])
	}
}

// TestMeshCentralServer runs the real MeshCentral 1.1.55 server the way its
// documentation does (`node node_modules/meshcentral`) in a network
// namespace with only loopback: the node process must be reported as the
// MeshCentral server, at medium or above.
func TestMeshCentralServer(t *testing.T) {
	requireE2E(t, "ip", "node")
	mc := meshCentralDir()
	if mc == "" {
		t.Fatalf("npm meshcentral@1.1.55 is not installed under %s/*/node_modules: run scripts/zoo/identity-install.sh", zooCache())
	}
	ns := isolatedNetns(t)
	dir, err := os.MkdirTemp("/tmp", "fw-mc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// The install is shared and read-only here: a symlinked node_modules
	// makes MeshCentral keep its data (meshcentral-data/) in dir.
	if err := os.Symlink(filepath.Dir(mc), filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "meshcentral-data"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "meshcentral-data", "config.json"), fmt.Sprintf(
		`{"settings":{"port":%d,"redirPort":%d,"mpsPort":0,"lanOnly":true,"agentTimeStampServer":false}}`, freePort(t), freePort(t)))
	cmd := startProc(t, "ip", "netns", "exec", ns, "node", "--preserve-symlinks", "--preserve-symlinks-main",
		filepath.Join(dir, "node_modules", "meshcentral"))
	var f finding
	var ok bool
	for i := 0; i < 10 && !ok; i++ {
		time.Sleep(time.Second)
		for _, x := range scan(t) {
			if x.Evidence["catalog_id"] != "meshcentral-server" {
				continue
			}
			if g, found := findingForPID([]finding{x}, cmd.Process.Pid, ""); found {
				f, ok = g, true
			}
		}
	}
	if !ok {
		t.Fatalf("MeshCentral server (pid %d) not reported", cmd.Process.Pid)
	}
	if f.Rule != "remoteaccess.process.running" || f.Tool != "meshcentral" || severityRank[f.Severity] < severityRank["medium"] {
		t.Fatalf("MeshCentral server finding: rule %s tool %s severity %s, want remoteaccess.process.running meshcentral ≥ medium: %+v", f.Rule, f.Tool, f.Severity, f)
	}
	t.Logf("MeshCentral server: %s (%s) matched %v", f.Summary, f.Severity, f.Evidence["matched"])
}
