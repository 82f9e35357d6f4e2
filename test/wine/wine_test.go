//go:build linux

// Package wine runs the real Windows build of farmwatch-agent under Wine on
// this Linux machine: the commands a user runs (version, scan, collect,
// pcap, run with a real collector), the MSI through Wine's msiexec and
// service manager, and real Windows remote-access/tunnel binaries run under
// the same Wine and found by identity.
//
// One Wine prefix is set up per test binary run (wineboot once, shared by
// every test; a kept-alive process holds its wineserver and services up).
// Wine 8.0 (Debian 12) lacks bcryptprimitives.dll, which Go's Windows
// runtime loads at start: the set-up builds a test-only stand-in from
// shim/bcryptprimitives.c with mingw-w64 and puts it into that prefix only
// (docs/deploy.md, "Windows under Wine"). Wine runs headless (no DISPLAY; the
// Mono and Gecko installers are disabled).
//
// `make test` sets FARMWATCH_E2E=1: missing Wine, mingw-w64, wixl or the real
// binaries (scripts/zoo/identity-install.sh) is then a failure naming what is
// missing; without it the tests skip.
package wine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// lane is the shared Wine set-up.
type lane struct {
	dir      string // everything the run creates
	prefix   string // WINEPREFIX
	agentExe string // farmwatch-agent.exe (windows/amd64)
	agentLin string // farmwatch-agent (linux)
	collLin  string // farmwatch-collector (linux)
	keeper   *exec.Cmd
	keepIn   io.WriteCloser // held open: cmd.exe waits on it
	setupDur time.Duration
}

var (
	setupOnce sync.Once
	shared    *lane
	setupErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.close()
	}
	os.Exit(code)
}

// repoRoot is the module root (two levels up from this package).
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// wineLane returns the shared Wine set-up, creating it on first use. It
// skips without FARMWATCH_E2E=1 and fails naming what is missing with it.
func wineLane(t *testing.T) *lane {
	t.Helper()
	if os.Getenv("FARMWATCH_E2E") != "1" {
		t.Skip("Wine lane: run through `make test` (FARMWATCH_E2E=1)")
	}
	var missing []string
	for _, p := range []string{"wine", "wineboot", "wineserver", "x86_64-w64-mingw32-gcc", "wixl", "msibuild", "msiinfo"} {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("not installed: %s (Debian packages wine, wine64, gcc-mingw-w64-x86-64, wixl, msitools: `make deps`, .ci/debian-packages.txt)", strings.Join(missing, ", "))
	}
	setupOnce.Do(func() { shared, setupErr = newLane() })
	if setupErr != nil {
		t.Fatalf("Wine set-up: %v", setupErr)
	}
	return shared
}

// wineEnv is the environment every Wine command runs with: the shared
// prefix, no debug output, no display, no Mono/Gecko install prompts.
func (l *lane) wineEnv() []string {
	var env []string
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "DISPLAY=") || strings.HasPrefix(e, "WINE") {
			continue
		}
		env = append(env, e)
	}
	return append(env, "WINEPREFIX="+l.prefix, "WINEARCH=win64", "WINEDEBUG=-all",
		"WINEDLLOVERRIDES=mscoree,mshtml=", "DISPLAY=")
}

func newLane() (*lane, error) {
	start := time.Now()
	dir, err := os.MkdirTemp("", "farmwatch-wine-")
	if err != nil {
		return nil, err
	}
	l := &lane{dir: dir, prefix: filepath.Join(dir, "prefix")}
	root := repoRoot()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	// Build what the lane runs, concurrently with wineboot.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	build := func(i int, env []string, out, pkg string) {
		defer wg.Done()
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), env...)
		if b, err := cmd.CombinedOutput(); err != nil {
			errs[i] = fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	l.agentExe = filepath.Join(dir, "bin", "farmwatch-agent.exe")
	wg.Add(1)
	go build(0, []string{"GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0"}, l.agentExe, "./cmd/agent")
	l.agentLin = os.Getenv("FARMWATCH_AGENT_BIN")
	if l.agentLin == "" {
		l.agentLin = filepath.Join(dir, "bin", "farmwatch-agent")
		wg.Add(1)
		go build(1, []string{"CGO_ENABLED=0"}, l.agentLin, "./cmd/agent")
	}
	l.collLin = os.Getenv("FARMWATCH_COLLECTOR_BIN")
	if l.collLin == "" {
		l.collLin = filepath.Join(dir, "bin", "farmwatch-collector")
		wg.Add(1)
		go build(2, nil, l.collLin, "./cmd/collector")
	}
	shim := filepath.Join(dir, "bcryptprimitives.dll")
	wg.Add(1)
	go func() {
		defer wg.Done()
		cmd := exec.CommandContext(ctx, "x86_64-w64-mingw32-gcc", "-shared", "-O2", "-s", "-o", shim,
			filepath.Join(root, "test", "wine", "shim", "bcryptprimitives.c"), "-Wl,--kill-at")
		if b, err := cmd.CombinedOutput(); err != nil {
			errs[3] = fmt.Errorf("build the bcryptprimitives.dll stand-in: %v\n%s", err, b)
		}
	}()
	bootOut, bootErr := l.run(ctx, "wineboot", "-i")
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return l, e
		}
	}
	if bootErr != nil {
		return l, fmt.Errorf("wineboot -i: %v\n%s", bootErr, bootOut)
	}
	sys32 := filepath.Join(l.prefix, "drive_c", "windows", "system32")
	b, err := os.ReadFile(shim)
	if err != nil {
		return l, err
	}
	if err := os.WriteFile(filepath.Join(sys32, "bcryptprimitives.dll"), b, 0o644); err != nil {
		return l, fmt.Errorf("install the stand-in DLL: %w", err)
	}
	// Go 1.26 supports Windows 10 and later; Debian's Wine 8 prefix says
	// Windows 7 until told otherwise.
	if out, code := l.wine(ctx, "winecfg", "/v", "win10"); code != 0 {
		return l, fmt.Errorf("winecfg /v win10: exit %d\n%s", code, out)
	}
	if err := l.startKeeper(); err != nil {
		return l, err
	}
	l.setupDur = time.Since(start)
	fmt.Fprintf(os.Stderr, "wine lane: prefix set up in %s (%s)\n", l.setupDur.Round(time.Millisecond), l.prefix)
	return l, nil
}

// startKeeper starts a process that lives until endSession: it keeps the
// wineserver and services.exe (and the services it started) up between
// commands, so a stopped service stays stopped and a running one runs.
func (l *lane) startKeeper() error {
	l.keeper = exec.Command("wine", "cmd.exe")
	l.keeper.Env = l.wineEnv()
	l.keeper.Stdout, l.keeper.Stderr = nil, nil // /dev/null, no pipe
	var err error
	if l.keepIn, err = l.keeper.StdinPipe(); err != nil {
		return err
	}
	if err := l.keeper.Start(); err != nil {
		return fmt.Errorf("start the keep-alive process: %w", err)
	}
	return nil
}

// endSession ends every Windows process of the prefix and its wineserver.
func (l *lane) endSession() {
	if l.keepIn != nil {
		_ = l.keepIn.Close()
	}
	if l.keeper != nil && l.keeper.Process != nil {
		_ = l.keeper.Process.Kill()
		_ = l.keeper.Wait()
	}
	l.keeper, l.keepIn = nil, nil
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, _ = l.run(ctx, "wineserver", "-k")
	_, _ = l.run(ctx, "wineserver", "-w")
}

func (l *lane) close() {
	l.endSession()
	if os.Getenv("FARMWATCH_KEEP_WINE") == "" {
		_ = os.RemoveAll(l.dir)
	}
}

// wine runs a Windows program under the shared prefix and returns its
// combined output and exit code (-1 when it could not run).
func (l *lane) wine(ctx context.Context, args ...string) (string, int) {
	stdout, stderr, code := l.wine2(ctx, args...)
	return stdout + stderr, code
}

// wine2 runs a Windows program and returns stdout and stderr apart.
func (l *lane) wine2(ctx context.Context, args ...string) (string, string, int) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "wine", args...)
	so, se, err := l.output(cmd)
	code := 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if ctx.Err() != nil {
			se += "\n(timed out)"
		}
		if code == -1 {
			se += "\n" + err.Error()
		}
	}
	return so, se, code
}

// run runs a Wine tool (wineboot, wineserver) and returns its output.
func (l *lane) run(ctx context.Context, name string, args ...string) (string, error) {
	so, se, err := l.output(exec.CommandContext(ctx, name, args...))
	return so + se, err
}

// output runs cmd in the prefix's environment with stdout and stderr in
// files, not pipes: the wineserver a command may start inherits them and
// outlives it, and a pipe would keep Wait waiting for it.
func (l *lane) output(cmd *exec.Cmd) (string, string, error) {
	cmd.Env = l.wineEnv()
	cmd.Dir = l.dir
	so, err := os.CreateTemp(l.dir, "out-")
	if err != nil {
		return "", "", err
	}
	defer os.Remove(so.Name())
	defer so.Close()
	se, err := os.CreateTemp(l.dir, "err-")
	if err != nil {
		return "", "", err
	}
	defer os.Remove(se.Name())
	defer se.Close()
	cmd.Stdout, cmd.Stderr = so, se
	err = cmd.Run()
	bo, _ := os.ReadFile(so.Name())
	be, _ := os.ReadFile(se.Name())
	return string(bo), string(be), err
}

// agent runs farmwatch-agent.exe under Wine.
func (l *lane) agent(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return l.wine2(context.Background(), append([]string{l.agentExe}, args...)...)
}

// start runs a Windows program under Wine in the background until the test
// ends.
func (l *lane) start(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("wine", args...)
	cmd.Env = l.wineEnv()
	cmd.Dir = l.dir
	out, err := os.CreateTemp(l.dir, "bg-")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("wine %v: %v", args, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = out.Close()
		if t.Failed() {
			b, _ := os.ReadFile(out.Name())
			t.Logf("wine %s output:\n%s", strings.Join(args, " "), tail(string(b), 2000))
		}
		_ = os.Remove(out.Name())
	})
	return cmd
}

// winPath is a Linux path as Wine's Z: drive shows it.
func winPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }

// cPath is a path on the prefix's C: drive as a Linux path.
func (l *lane) cPath(p string) string {
	p = strings.TrimPrefix(strings.TrimPrefix(p, `C:\`), `c:\`)
	return filepath.Join(l.prefix, "drive_c", filepath.FromSlash(strings.ReplaceAll(p, `\`, "/")))
}

// copyFile copies src to dst (creating dst's directory).
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
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

// freePort returns a TCP port free on loopback now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitFor polls cond until it is true or the timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		ok, detail := cond()
		if ok {
			return
		}
		last = detail
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s; last: %s", what, timeout, tail(last, 3000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// zooCache is where scripts/zoo/identity-install.sh keeps the real
// binaries (ZOO_CACHE, default /var/cache/farmwatch-zoo).
func zooCache() string {
	if d := os.Getenv("ZOO_CACHE"); d != "" {
		return d
	}
	return "/var/cache/farmwatch-zoo"
}

// dialable reports whether a TCP connection to addr succeeds now.
func dialable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// runLinux runs a Linux program and returns stdout, stderr and exit code.
func runLinux(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	return so.String(), se.String(), code
}
