//go:build linux

package wine

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// buildMSI builds the agent MSI at version v with packaging/build.sh (wixl,
// msibuild) from the lane's farmwatch-agent.exe.
func buildMSI(t *testing.T, l *lane, v string) string {
	t.Helper()
	dist := filepath.Join(l.dir, "dist-"+v)
	copyFile(t, l.agentExe, filepath.Join(dist, "windows-amd64", "farmwatch-agent.exe"))
	out := filepath.Join(l.dir, "pkg-"+v)
	cmd := exec.Command(filepath.Join(repoRoot(), "packaging", "build.sh"), v, out)
	cmd.Env = append(os.Environ(), "DIST="+dist, "PACKAGES=msi")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("packaging/build.sh %s: %v\n%s", v, err, b)
	}
	return filepath.Join(out, "farmwatch-agent_"+v+"_windows_amd64.msi")
}

// scState is the STATE line of `sc query farmwatch-agent` ("" when the
// service does not exist).
func scState(l *lane) string {
	out, _ := l.wine(context.Background(), "sc", "query", "farmwatch-agent")
	m := regexp.MustCompile(`STATE\s*:\s*\d+\s+(\w+)`).FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	return m[1]
}

// regValue reads a registry value with `reg query` ("" when absent).
func regValue(l *lane, key, name string) string {
	out, code := l.wine(context.Background(), "reg", "query", key, "/v", name)
	if code != 0 {
		return ""
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && strings.EqualFold(f[0], name) && strings.HasPrefix(f[1], "REG_") {
			_, v, _ := strings.Cut(line, f[1])
			return strings.TrimSpace(v)
		}
	}
	return ""
}

const serviceKey = `HKLM\SYSTEM\CurrentControlSet\Services\farmwatch-agent`

// TestWineMSI runs the agent MSI through Wine's msiexec and service manager:
// refused on Windows 7; installed on Windows 10 with the files, the service
// (its command line carries `run --service`; the running service quotes its
// image path), the MDM registry values; the service runs, logs to its
// rotated file under ProgramData, reloads its edited config, stops and starts
// with `net`; an upgrade to a higher version keeps the edited config, the
// spool and the registry values; uninstall removes the service and binary.
// It is not parallel: it changes the prefix's Windows version and runs
// before the parallel tests resume.
func TestWineMSI(t *testing.T) {
	l := wineLane(t)
	ctx := context.Background()
	v1 := buildMSI(t, l, "1.0.0")
	v2 := buildMSI(t, l, "1.0.1")
	exe := l.cPath(`C:\Program Files\farmwatch\farmwatch-agent.exe`)
	cfg := l.cPath(`C:\ProgramData\farmwatch\farmwatch.yaml`)
	logFile := l.cPath(`C:\ProgramData\farmwatch\logs\farmwatch-agent.log`)
	readLog := func() string { b, _ := os.ReadFile(logFile); return string(b) }
	n := 0
	msiexec := func(args ...string) (string, int) {
		n++
		logPath := filepath.Join(l.dir, fmt.Sprintf("msiexec-%d.log", n))
		// Wine 8's msiexec cannot start a service it has just installed
		// when services.exe was already running (StartServices: service
		// does not exist, 1060): each install gets a fresh Wine session,
		// the keep-alive process is restarted after it. Removals keep the
		// session, so a service stopped before stays stopped (a fresh
		// services.exe would start the automatic service again).
		fresh := args[0] == "/i"
		if fresh {
			l.endSession()
		}
		out, code := l.wine(ctx, append(append([]string{"msiexec"}, args...), "/qn", "/l*v", winPath(logPath))...)
		if fresh {
			if err := l.startKeeper(); err != nil {
				t.Fatal(err)
			}
		}
		b, _ := os.ReadFile(logPath)
		return out + string(b), code
	}

	// The launch condition names the Windows versions Go 1.26 supports.
	lc, err := exec.Command("msiinfo", "export", v1, "LaunchCondition").CombinedOutput()
	if err != nil || !strings.Contains(string(lc), "needs Windows 10, Windows Server 2016 or later") {
		t.Errorf("LaunchCondition table: %v\n%s", err, lc)
	}
	// Refused on Windows 7 (exit 1603, launch conditions failed, nothing
	// installed).
	if out, code := l.wine(ctx, "winecfg", "/v", "win7"); code != 0 {
		t.Fatalf("winecfg /v win7: %d %s", code, out)
	}
	out, code := msiexec("/i", winPath(v1))
	// Wine hands the Unix side the exit code modulo 256: 1603 is 67.
	if code != 1603&0xff || !strings.Contains(out, "LaunchConditions. Return value 0") {
		t.Errorf("install on Windows 7: exit %d, want 1603 (67 through Wine) from LaunchConditions:\n%s", code, tail(out, 3000))
	}
	if _, err := os.Stat(exe); err == nil {
		t.Errorf("install on Windows 7 left %s", exe)
	}
	if out, code := l.wine(ctx, "winecfg", "/v", "win10"); code != 0 {
		t.Fatalf("winecfg /v win10: %d %s", code, out)
	}

	// Install.
	out, code = msiexec("/i", winPath(v1), "COLLECTOR_URL=https://127.0.0.1:9/", "ENROLL_SECRET=wine-secret")
	if code != 0 {
		t.Fatalf("msiexec /i: exit %d\n%s", code, tail(out, 4000))
	}
	for _, p := range []string{exe, cfg, l.cPath(`C:\Program Files\farmwatch\NOTICE.txt`)} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("installed file: %v", err)
		}
	}
	if got := regValue(l, `HKLM\SOFTWARE\farmwatch`, "CollectorURL"); got != "https://127.0.0.1:9/" {
		t.Errorf("CollectorURL = %q", got)
	}
	if got := regValue(l, `HKLM\SOFTWARE\farmwatch`, "EnrollSecret"); got != "wine-secret" {
		t.Errorf("EnrollSecret = %q", got)
	}
	if got := regValue(l, serviceKey, "Start"); got != "0x2" {
		t.Errorf("service Start = %q, want 0x2 (automatic)", got)
	}
	waitFor(t, "service running after install", 60*time.Second, func() (bool, string) {
		s := scState(l)
		return s == "RUNNING", s
	})
	// The service's command line says it is the service; the running
	// service quoted its image path (Wine's msiexec writes it unquoted).
	waitFor(t, "quoted image path", 60*time.Second, func() (bool, string) {
		p := regValue(l, serviceKey, "ImagePath")
		return strings.HasPrefix(p, `"C:\Program Files\farmwatch\farmwatch-agent.exe" run --service --config `), p
	})
	waitFor(t, "service log", 60*time.Second, func() (bool, string) {
		s := readLog()
		return strings.Contains(s, `"msg":"service_running"`) && strings.Contains(s, `"msg":"agent_started"`), s
	})
	// Recovery actions: Wine's service manager takes the restart actions
	// but has no "on non-crash failures" flag; the agent logs that.
	if s := readLog(); strings.Contains(s, "recovery_actions_failed") && !strings.Contains(s, "non-crash") {
		t.Errorf("recovery actions failed beyond the non-crash flag:\n%s", tail(s, 3000))
	}

	// Reload: the service reloads its config when the file changes (as
	// on the other OSes). (Its paramchange handler is not driven here:
	// Wine's sc has no "control" command.)
	edited := "# edited by the administrator\n"
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, append([]byte(edited), b...), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the service reloads the edited config", 60*time.Second, func() (bool, string) {
		s := readLog()
		return strings.Contains(s, `"msg":"config_reloaded"`), tail(s, 2000)
	})

	// Stop and start through the service manager.
	if out, code := l.wine(ctx, "net", "stop", "farmwatch-agent"); code != 0 {
		t.Errorf("net stop: exit %d %s", code, out)
	}
	waitFor(t, "service stopped", 60*time.Second, func() (bool, string) {
		s := scState(l)
		return s == "STOPPED", s
	})
	if s := readLog(); !strings.Contains(s, `"msg":"service_stopped"`) {
		t.Errorf("no service_stopped in the log:\n%s", tail(s, 2000))
	}
	if out, code := l.wine(ctx, "net", "start", "farmwatch-agent"); code != 0 {
		t.Errorf("net start: exit %d %s", code, out)
	}
	waitFor(t, "service running after net start", 60*time.Second, func() (bool, string) {
		s := scState(l)
		return s == "RUNNING", s
	})

	// Upgrade: the edited config, the spool and the MDM values survive.
	spool := l.cPath(`C:\ProgramData\farmwatch\spool`)
	waitFor(t, "agent spool", 60*time.Second, func() (bool, string) {
		_, err := os.Stat(spool)
		return err == nil, ""
	})
	// Wine 8's msiexec cannot re-create, in the same transaction, a
	// service that RemoveExistingProducts has just deleted (StartServices
	// then finds no service), so the major upgrade is checked as its two
	// halves: the MSI's Upgrade table and sequence (below) and the old
	// version's removal followed by the new one's install keeping the
	// edited config, the spool and the MDM values.
	up, err := exec.Command("msiinfo", "export", v2, "Upgrade").CombinedOutput()
	if err != nil || !strings.Contains(string(up), "6F3B1E2A-9C4D-4B7E-8A51-2D0C7F9E4A13") || !strings.Contains(string(up), "OLDERVERSIONBEINGUPGRADED") {
		t.Errorf("Upgrade table: %v\n%s", err, up)
	}
	seq, err := exec.Command("msiinfo", "export", v2, "InstallExecuteSequence").CombinedOutput()
	if err != nil || !strings.Contains(string(seq), "RemoveExistingProducts") {
		t.Errorf("InstallExecuteSequence without RemoveExistingProducts: %v\n%s", err, seq)
	}
	stopService(t, l)
	out, code = msiexec("/x", winPath(v1))
	if code != 0 {
		t.Fatalf("upgrade, removing 1.0.0: exit %d\n%s", code, tail(out, 4000))
	}
	waitFor(t, "1.0.0 service gone", 60*time.Second, func() (bool, string) {
		s := scState(l)
		return s == "", s
	})
	// Uninstall removed the MDM values; an MDM re-deploying passes them
	// again (keeping them without, through AppSearch, belongs to the
	// single-transaction upgrade that Wine cannot run).
	out, code = msiexec("/i", winPath(v2), "COLLECTOR_URL=https://127.0.0.1:9/", "ENROLL_SECRET=wine-secret")
	if code != 0 {
		t.Fatalf("upgrade, installing 1.0.1: exit %d\n%s", code, tail(out, 4000))
	}
	if b, _ := os.ReadFile(cfg); !strings.HasPrefix(string(b), edited) {
		t.Errorf("upgrade replaced the edited config:\n%s", b)
	}
	if _, err := os.Stat(spool); err != nil {
		t.Errorf("upgrade lost the spool: %v", err)
	}
	if got := regValue(l, `HKLM\SOFTWARE\farmwatch`, "CollectorURL"); got != "https://127.0.0.1:9/" {
		t.Errorf("after upgrade CollectorURL = %q", got)
	}
	uninst, _ := l.wine(ctx, "reg", "query", `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`, "/s")
	if !strings.Contains(uninst, "1.0.1") || strings.Contains(uninst, "1.0.0") {
		t.Errorf("installed products after upgrade (want only 1.0.1):\n%s", tail(uninst, 3000))
	}
	waitFor(t, "service running after upgrade", 60*time.Second, func() (bool, string) {
		s := scState(l)
		return s == "RUNNING", s
	})

	// Uninstall: the service is deleted and the binary removed. Wine's
	// StopServices does not wait for the service to stop (Windows
	// Installer does) and a running image cannot be deleted, so the test
	// stops it first.
	stopService(t, l)
	out, code = msiexec("/x", winPath(v2))
	if code != 0 {
		t.Fatalf("msiexec /x: exit %d\n%s", code, tail(out, 4000))
	}
	waitFor(t, "service gone after uninstall", 60*time.Second, func() (bool, string) {
		s := scState(l)
		return s == "", s
	})
	if _, err := os.Stat(exe); err == nil {
		t.Errorf("uninstall left %s", exe)
	}
	if got := regValue(l, `HKLM\SOFTWARE\farmwatch`, "CollectorURL"); got != "" {
		t.Errorf("uninstall left CollectorURL = %q", got)
	}
	// The config is Permanent (packaging/build.sh): kept like a dpkg conffile.
	if _, err := os.Stat(cfg); err != nil {
		t.Errorf("uninstall removed the edited config (it is permanent): %v", err)
	}
}

// stopService stops the service with `net stop` and waits until stopped.
func stopService(t *testing.T, l *lane) {
	t.Helper()
	if out, code := l.wine(context.Background(), "net", "stop", "farmwatch-agent"); code != 0 {
		t.Errorf("net stop: exit %d %s", code, out)
	}
	waitFor(t, "service stopped", 60*time.Second, func() (bool, string) {
		s := scState(l)
		return s == "STOPPED", s
	})
}
