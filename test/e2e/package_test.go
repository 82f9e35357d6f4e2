//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"howett.net/plist"

	"github.com/farmwatch/farmwatch/internal/testenv"
	"github.com/farmwatch/farmwatch/packaging"
)

// TestPackages runs packaging/build.sh (what `make package` runs) and checks
// every artifact with independent tools: the .deb is installed, removed and
// purged for real in a debootstrap'd Debian chroot, the .rpm listed by rpm,
// the .msi's tables read by msiinfo and its Authenticode signatures verified
// by osslsigncode, the .pkg listed by 7z and bsdtar, the profile parsed.
func TestPackages(t *testing.T) {
	requireE2E(t, "go", "bash", "wixl", "msibuild", "msiinfo", "msiextract", "7z", "bsdtar", "rpm",
		"dpkg-deb", "debootstrap", "chroot", "mount", "umount", "osslsigncode", "openssl", "systemd-analyze")
	if os.Geteuid() != 0 {
		testenv.Missing(t, "package test installs into a chroot: run as root (`make test`)")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()

	// The Debian chroot is made while the packages build.
	chrootDir := filepath.Join(t.TempDir(), "bookworm")
	chrootErr := make(chan error, 1)
	dctx, dcancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(func() {
		dcancel()
		<-chrootErr
		pkUnmountUnder(t, chrootDir)
	})
	go func() {
		cmd := exec.CommandContext(dctx, "debootstrap", "--variant=minbase", "bookworm", chrootDir, pkDebianMirror())
		out, err := cmd.CombinedOutput()
		if err != nil {
			err = &pkCmdError{err: err, out: pkTail(out, 2000)}
		}
		chrootErr <- err
		close(chrootErr)
	}()

	dist := pkDistDir(t, root)
	cert, key := pkSelfSignedCert(t, work)
	out := filepath.Join(work, "out")
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "bash", filepath.Join(root, "packaging", "build.sh"), "v1.2.3", out)
	build.Dir = root
	build.Env = append(os.Environ(), "DIST="+dist, "SIGN_CERT="+cert, "SIGN_KEY="+key)
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, b)
	}
	t.Logf("build.sh took %s", time.Since(start).Round(time.Millisecond))
	art := func(name string) string {
		p := filepath.Join(out, name)
		st, err := os.Stat(p)
		if err != nil {
			t.Fatalf("build.sh did not make %s: %v", name, err)
		}
		t.Logf("%s: %d bytes", name, st.Size())
		return p
	}
	deb := art("farmwatch-agent_1.2.3_amd64.deb")
	art("farmwatch-agent_1.2.3_arm64.deb")
	rpmAmd64 := art("farmwatch-agent-1.2.3-1.x86_64.rpm")
	art("farmwatch-agent-1.2.3-1.aarch64.rpm")
	msi := art("farmwatch-agent_1.2.3_windows_amd64.msi")
	pkgs := map[string]string{
		"amd64": art("farmwatch-agent_1.2.3_darwin_amd64.pkg"),
		"arm64": art("farmwatch-agent_1.2.3_darwin_arm64.pkg"),
	}
	profile := art("farmwatch.mobileconfig")
	sums := pkRead(t, art("SHA256SUMS"))
	if n := strings.Count(sums, "\n"); n != 8 {
		t.Errorf("SHA256SUMS has %d lines, want 8:\n%s", n, sums)
	}

	t.Run("deb-and-rpm-in-chroot", func(t *testing.T) {
		if err := <-chrootErr; err != nil {
			t.Fatalf("debootstrap: %v", err)
		}
		pkTestDebInChroot(t, root, chrootDir, deb, filepath.Join(dist, "linux-amd64", "farmwatch-agent"))
		// The same root (now with the recording systemctl) takes the rpm:
		// host rpm installs into it and runs the scriptlets there.
		pkTestRPMInChroot(t, chrootDir, rpmAmd64, filepath.Join(dist, "linux-amd64", "farmwatch-agent"))
	})
	t.Run("rpm", func(t *testing.T) {
		files := pkRun(t, "rpm", "-qlp", rpmAmd64)
		for _, f := range []string{"/usr/bin/farmwatch-agent", "/usr/lib/systemd/system/farmwatch-agent.service", "/usr/share/doc/farmwatch-agent/NOTICE",
			"/etc/farmwatch/farmwatch.yaml", "/var/lib/farmwatch", "/var/log/farmwatch"} {
			if !pkHasLine(files, f) {
				t.Errorf("rpm -qlp does not list %s:\n%s", f, files)
			}
		}
		if c := pkRun(t, "rpm", "-qpc", rpmAmd64); strings.TrimSpace(c) != "/etc/farmwatch/farmwatch.yaml" {
			t.Errorf("rpm config files: %q", c)
		}
		scripts := pkRun(t, "rpm", "-qp", "--scripts", rpmAmd64)
		for _, s := range []string{"postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet", "systemctl enable"} {
			if !strings.Contains(scripts, s) {
				t.Errorf("rpm scripts lack %q", s)
			}
		}
		if info := pkRun(t, "rpm", "-qpi", rpmAmd64); !strings.Contains(info, "Version     : 1.2.3") {
			t.Errorf("rpm -qpi:\n%s", info)
		}
	})
	t.Run("msi", func(t *testing.T) {
		pkTestMSI(t, msi, cert, filepath.Join(dist, "windows-amd64", "farmwatch-agent.exe"))
	})
	for arch, pkg := range pkgs {
		t.Run("pkg-"+arch, func(t *testing.T) {
			pkTestMacPkg(t, pkg, arch, filepath.Join(dist, "darwin-"+arch, "farmwatch-agent"))
		})
	}
	t.Run("mobileconfig", func(t *testing.T) {
		var p struct {
			PayloadType    string
			PayloadContent []struct {
				PayloadType    string
				PayloadContent map[string]map[string][]map[string]map[string]string
			}
		}
		if _, err := plist.Unmarshal([]byte(pkRead(t, profile)), &p); err != nil {
			t.Fatalf("not a plist: %v", err)
		}
		if p.PayloadType != "Configuration" || len(p.PayloadContent) != 1 || p.PayloadContent[0].PayloadType != "com.apple.ManagedClient.preferences" {
			t.Fatalf("profile: %+v", p)
		}
		s := p.PayloadContent[0].PayloadContent[packaging.MacManagedDomain]["Forced"][0]["mcx_preference_settings"]
		if s["CollectorURL"] == "" || s["EnrollSecret"] == "" {
			t.Errorf("managed settings: %v", s)
		}
		if _, err := exec.LookPath("plistutil"); err == nil {
			pkRun(t, "plistutil", "-i", profile, "-f", "bin", "-o", filepath.Join(t.TempDir(), "p.bin"))
		}
	})
	t.Run("systemd-analyze-verify", func(t *testing.T) {
		// On this host the unit's binary is not installed: that one complaint
		// is expected, anything else fails.
		dir := t.TempDir()
		unit := filepath.Join(dir, "farmwatch-agent.service")
		if err := os.WriteFile(unit, []byte(packaging.SystemdUnit), 0o644); err != nil {
			t.Fatal(err)
		}
		b, _ := exec.Command("systemd-analyze", "verify", unit).CombinedOutput()
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if line == "" {
				continue
			}
			_, statErr := os.Stat(packaging.LinuxBinary)
			if os.IsNotExist(statErr) && strings.Contains(line, "Command "+packaging.LinuxBinary+" is not executable") {
				continue
			}
			t.Errorf("systemd-analyze verify: %s", line)
		}
	})
}

func pkTestDebInChroot(t *testing.T, root, dir, deb, builtBinary string) {
	if err := os.MkdirAll(filepath.Join(dir, "proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("mount", "-t", "proc", "proc", filepath.Join(dir, "proc")).CombinedOutput(); err != nil {
		t.Fatalf("mount proc: %v %s", err, b)
	}
	t.Cleanup(func() { pkUnmountUnder(t, dir) })
	if err := os.WriteFile(filepath.Join(dir, "tmp", "farmwatch.deb"), []byte(pkRead(t, deb)), 0o644); err != nil {
		t.Fatal(err)
	}
	chroot := func(args ...string) (string, int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "chroot", append([]string{dir}, args...)...)
		cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"DEBIAN_FRONTEND=noninteractive", "LANG=C", "HOME=/root"}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("chroot %v: %v", args, err)
		}
		if code != 0 {
			t.Logf("chroot %v: exit %d\nstderr: %s", args, code, pkTail(stderr.Bytes(), 3000))
		}
		return stdout.String(), code
	}
	must := func(args ...string) string {
		t.Helper()
		out, code := chroot(args...)
		if code != 0 {
			t.Fatalf("chroot %v: exit %d", args, code)
		}
		return out
	}
	in := func(p string) string { return filepath.Join(dir, p) }
	status := func() string {
		out, _ := chroot("dpkg-query", "-W", "-f=${Status}", "farmwatch-agent")
		return out
	}

	// 1. Install where systemd is not running and systemctl is absent (an
	// image build): files land, nothing fails.
	must("dpkg", "-i", "/tmp/farmwatch.deb")
	if s := status(); s != "install ok installed" {
		t.Fatalf("dpkg status %q", s)
	}
	pkCheckFile(t, in(packaging.LinuxBinary), 0o755, pkRead(t, builtBinary))
	pkCheckFile(t, in(packaging.LinuxUnitPath), 0o644, packaging.SystemdUnit)
	pkCheckFile(t, in(packaging.LinuxConfig), 0o640, packaging.DefaultConfig)
	pkCheckFile(t, in("/usr/share/doc/farmwatch-agent/NOTICE"), 0o644, pkRead(t, filepath.Join(root, "NOTICE")))
	for _, d := range []string{"/var/lib/farmwatch", "/var/log/farmwatch", "/etc/farmwatch"} {
		if st, err := os.Stat(in(d)); err != nil || !st.IsDir() || st.Mode().Perm() != 0o750 {
			t.Errorf("%s: %v %v", d, st, err)
		}
	}
	if c := pkRead(t, in("/var/lib/dpkg/info/farmwatch-agent.conffiles")); strings.TrimSpace(c) != packaging.LinuxConfig {
		t.Errorf("conffiles: %q", c)
	}
	// The installed agent runs from its installed path.
	stdout, code := chroot(packaging.LinuxBinary, "scan", "--format", "json")
	if code != 0 {
		t.Fatalf("installed farmwatch-agent scan: exit %d", code)
	}
	t.Logf("installed agent scan: %d findings", len(parseFindings(t, stdout)))
	if out := must(packaging.LinuxBinary, "version"); !strings.HasPrefix(out, "farmwatch-agent ") {
		t.Errorf("installed farmwatch-agent version: %q", out)
	}

	// 2. From here systemd "runs": a recording systemctl and /run/systemd/system.
	calls := in("/tmp/systemctl.calls")
	if err := os.WriteFile(in("/usr/bin/systemctl"), []byte("#!/bin/sh\necho \"$*\" >> /tmp/systemctl.calls\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(in("/run/systemd/system"), 0o755); err != nil {
		t.Fatal(err)
	}
	takeCalls := func() []string {
		b, _ := os.ReadFile(calls)
		os.Remove(calls)
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	expect := func(step string, want ...string) {
		t.Helper()
		got := takeCalls()
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: systemctl calls %q, want %q", step, got, want)
		}
	}
	unit := packaging.ServiceName + ".service"

	// Remove: stop and disable; the conffile and state stay.
	if err := os.WriteFile(in("/var/lib/farmwatch/spool"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	must("dpkg", "-r", "farmwatch-agent")
	expect("remove", "stop "+unit, "disable "+unit, "daemon-reload", "reset-failed "+unit)
	if s := status(); s != "deinstall ok config-files" {
		t.Errorf("status after remove %q", s)
	}
	if _, err := os.Stat(in(packaging.LinuxBinary)); !os.IsNotExist(err) {
		t.Errorf("binary still there after remove: %v", err)
	}
	if _, err := os.Stat(in(packaging.LinuxConfig)); err != nil {
		t.Errorf("conffile gone after remove: %v", err)
	}
	if _, err := os.Stat(in("/var/lib/farmwatch/spool")); err != nil {
		t.Errorf("state gone after remove: %v", err)
	}
	// Purge: configuration, state and logs go.
	must("dpkg", "--purge", "farmwatch-agent")
	takeCalls()
	for _, p := range []string{"/etc/farmwatch", "/var/lib/farmwatch", "/var/log/farmwatch", packaging.LinuxUnitPath} {
		if _, err := os.Stat(in(p)); !os.IsNotExist(err) {
			t.Errorf("%s still there after purge: %v", p, err)
		}
	}
	if s := status(); s != "" && !strings.Contains(s, "not-installed") {
		t.Errorf("status after purge %q", s)
	}

	// Fresh install with systemd running: enabled and started.
	must("dpkg", "-i", "/tmp/farmwatch.deb")
	expect("install", "daemon-reload", "enable "+unit, "start "+unit)
	// Upgrade (reinstall over itself): no stop by prerm, a restart by postinst.
	must("dpkg", "-i", "/tmp/farmwatch.deb")
	expect("upgrade", "daemon-reload", "enable "+unit, "restart "+unit)
	must("dpkg", "--purge", "farmwatch-agent")
	takeCalls()

	// 3. Without a package: `farmwatch-agent install` from a downloaded copy
	// writes the same unit, puts the binary and a default config in place,
	// enables and starts the service; `uninstall` undoes it.
	if err := os.WriteFile(in("/tmp/farmwatch-agent"), pkReadBytes(t, builtBinary), 0o755); err != nil {
		t.Fatal(err)
	}
	if out := must("/tmp/farmwatch-agent", "install"); !strings.Contains(out, "installed and started") {
		t.Errorf("install said %q", out)
	}
	expect("farmwatch-agent install", "enable "+unit, "daemon-reload", "start "+unit)
	if got := pkRead(t, in("/etc/systemd/system/"+unit)); got != packaging.SystemdUnit {
		t.Errorf("installed unit differs from packaging/linux/%s", unit)
	}
	pkCheckFile(t, in(packaging.LinuxBinary), 0o755, string(pkReadBytes(t, builtBinary)))
	if got := pkRead(t, in(packaging.LinuxConfig)); got != packaging.DefaultConfig {
		t.Errorf("install did not write the default config")
	}
	if out := must("/tmp/farmwatch-agent", "uninstall"); !strings.Contains(out, "uninstall done") {
		t.Errorf("uninstall said %q", out)
	}
	uninstallCalls := takeCalls()
	if !contains(uninstallCalls, "disable "+unit) {
		t.Errorf("uninstall: systemctl calls %q lack disable", uninstallCalls)
	}
	if _, err := os.Stat(in("/etc/systemd/system/" + unit)); !os.IsNotExist(err) {
		t.Errorf("unit still there after uninstall: %v", err)
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func pkReadBytes(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pkTestRPMInChroot(t *testing.T, dir, rpmFile, builtBinary string) {
	in := func(p string) string { return filepath.Join(dir, p) }
	calls := in("/tmp/systemctl.calls")
	rpm := func(args ...string) {
		t.Helper()
		os.Remove(calls)
		pkRun(t, "rpm", append([]string{"--root", dir, "--nodeps"}, args...)...)
	}
	expect := func(step string, want ...string) {
		t.Helper()
		b, _ := os.ReadFile(calls)
		if got := strings.TrimSpace(string(b)); got != strings.Join(want, "\n") {
			t.Errorf("rpm %s: systemctl calls %q, want %q", step, got, want)
		}
	}
	unit := packaging.ServiceName + ".service"
	rpm("-i", rpmFile) // scriptlet $1 = 1
	expect("install", "daemon-reload", "enable "+unit, "start "+unit)
	pkCheckFile(t, in(packaging.LinuxBinary), 0o755, pkRead(t, builtBinary))
	pkCheckFile(t, in("/usr/lib/systemd/system/"+unit), 0o644, packaging.SystemdUnit)
	pkCheckFile(t, in(packaging.LinuxConfig), 0o640, packaging.DefaultConfig)
	rpm("-U", "--replacepkgs", rpmFile) // new %post $1 = 2, old %preun/%postun $1 = 1
	expect("upgrade", "daemon-reload", "enable "+unit, "restart "+unit)
	if err := os.WriteFile(in(packaging.LinuxConfig), []byte(packaging.DefaultConfig+"# edited\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	rpm("-e", "farmwatch-agent") // $1 = 0
	expect("erase", "stop "+unit, "disable "+unit, "daemon-reload", "reset-failed "+unit)
	if _, err := os.Stat(in(packaging.LinuxBinary)); !os.IsNotExist(err) {
		t.Errorf("binary still there after rpm -e: %v", err)
	}
	if _, err := os.Stat(in(packaging.LinuxConfig + ".rpmsave")); err != nil {
		t.Errorf("edited config not kept as .rpmsave: %v", err)
	}
}

func pkTestMSI(t *testing.T, msi, cert, builtExe string) {
	tables := pkRun(t, "msiinfo", "tables", msi)
	for _, tb := range []string{"ServiceInstall", "ServiceControl", "File", "Registry", "Property", "Component", "CustomAction", "AppSearch", "RegLocator", "Upgrade"} {
		if !pkHasLine(tables, tb) {
			t.Errorf("msi has no %s table", tb)
		}
	}
	export := func(table string) [][]string {
		var rows [][]string
		lines := strings.Split(strings.TrimRight(pkRun(t, "msiinfo", "export", msi, table), "\r\n"), "\n")
		for _, l := range lines[min(3, len(lines)):] { // header: names, types, table/keys
			rows = append(rows, strings.Split(strings.TrimRight(l, "\r"), "\t"))
		}
		return rows
	}
	find := func(table string, match func([]string) bool) []string {
		for _, r := range export(table) {
			if match(r) {
				return r
			}
		}
		t.Errorf("%s: no matching row in %q", table, export(table))
		return nil
	}
	// ServiceInstall: Name, DisplayName, ServiceType, StartType, ErrorControl,
	// LoadOrderGroup, Dependencies, StartName, Password, Arguments, Component_.
	if r := find("ServiceInstall", func(r []string) bool { return len(r) > 10 && r[1] == "farmwatch-agent" }); r != nil {
		if r[3] != "16" || r[4] != "2" || r[8] != "LocalSystem" || r[10] != `run --service --config "[DATADIR]farmwatch.yaml"` {
			t.Errorf("ServiceInstall row %q: want own process (16), auto start (2), LocalSystem, run --service --config (service mode is explicit)", r)
		}
	}
	// ServiceControl event 163 = start on install + stop on install and
	// uninstall + delete on uninstall.
	if r := find("ServiceControl", func(r []string) bool { return len(r) > 2 && r[1] == "farmwatch-agent" }); r != nil && r[2] != "163" {
		t.Errorf("ServiceControl events %s, want 163", r[2])
	}
	// Component attributes: 64-bit (256); the config also Permanent (16) and
	// NeverOverwrite (128).
	find("Component", func(r []string) bool { return len(r) > 3 && r[0] == "AgentExe" && r[3] == "256" })
	find("Component", func(r []string) bool { return len(r) > 3 && r[0] == "DefaultConfig" && r[3] == "400" })
	find("File", func(r []string) bool { return len(r) > 2 && r[2] == "farmwatch-agent.exe" })
	find("File", func(r []string) bool { return len(r) > 2 && r[2] == "farmwatch.yaml" })
	find("File", func(r []string) bool { return len(r) > 2 && r[2] == "NOTICE.txt" })
	// Directories: the exe in ProgramFiles64Folder\farmwatch, the config in
	// CommonAppDataFolder\farmwatch.
	find("Directory", func(r []string) bool {
		return len(r) > 2 && r[0] == "INSTALLDIR" && r[1] == "ProgramFiles64Folder" && r[2] == "farmwatch"
	})
	find("Directory", func(r []string) bool {
		return len(r) > 2 && r[0] == "DATADIR" && r[1] == "CommonAppDataFolder" && r[2] == "farmwatch"
	})
	// The MDM properties, as the agent reads them: HKLM (2) SOFTWARE\farmwatch.
	for name, prop := range map[string]string{"CollectorURL": "COLLECTOR_URL", "EnrollSecret": "ENROLL_SECRET"} {
		find("Registry", func(r []string) bool {
			return len(r) > 4 && r[1] == "2" && r[2] == `SOFTWARE\farmwatch` && r[3] == name && r[4] == "["+prop+"]"
		})
		find("CustomAction", func(r []string) bool { return len(r) > 3 && r[2] == prop && r[3] == "[SAVED_"+prop+"]" })
	}
	find("Property", func(r []string) bool {
		return len(r) > 1 && r[0] == "SecureCustomProperties" && strings.Contains(r[1], "COLLECTOR_URL") && strings.Contains(r[1], "ENROLL_SECRET")
	})
	find("Property", func(r []string) bool {
		return len(r) > 1 && r[0] == "MsiHiddenProperties" && strings.Contains(r[1], "ENROLL_SECRET")
	})
	find("Property", func(r []string) bool { return len(r) > 1 && r[0] == "ProductVersion" && r[1] == "1.2.3" })
	if s := pkRun(t, "msiinfo", "suminfo", msi); !strings.Contains(s, "Template: x64;1033") {
		t.Errorf("summary information:\n%s", s)
	}

	// Authenticode: the MSI and the exe inside it are signed by the test
	// certificate; trusted when that certificate is the CA, reported as
	// self-signed otherwise.
	verify := func(file string) {
		t.Helper()
		b, err := exec.Command("osslsigncode", "verify", "-CAfile", cert, "-in", file).CombinedOutput()
		if err != nil || !strings.Contains(string(b), "Signature verification: ok") || !strings.Contains(string(b), "Subject: /CN=farmwatch e2e test signing") {
			t.Errorf("osslsigncode verify %s: %v\n%s", filepath.Base(file), err, b)
		}
		b, _ = exec.Command("osslsigncode", "verify", "-in", file).CombinedOutput()
		if !strings.Contains(string(b), "self-signed certificate") || !strings.Contains(string(b), "Message digest algorithm") {
			t.Errorf("verify without the CA should find the signature but not trust it:\n%s", b)
		}
	}
	verify(msi)
	x := t.TempDir()
	pkRun(t, "msiextract", "-C", x, msi)
	var exe string
	filepath.WalkDir(x, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "farmwatch-agent.exe" {
			exe = p
		}
		return nil
	})
	if exe == "" {
		t.Fatal("msiextract found no farmwatch-agent.exe")
	}
	verify(exe)
	if st, _ := os.Stat(exe); st != nil && st.Size() <= pkSize(t, builtExe) {
		t.Errorf("installed exe (%d bytes) carries no signature over the built one", st.Size())
	}
}

func pkTestMacPkg(t *testing.T, pkg, arch, builtBinary string) {
	wantTop := []string{"Distribution", "farmwatch-agent.pkg", "farmwatch-agent.pkg/Bom", "farmwatch-agent.pkg/PackageInfo",
		"farmwatch-agent.pkg/Payload", "farmwatch-agent.pkg/Scripts"}
	// bsdtar (libarchive's xar reader).
	if got := pkLines(pkRun(t, "bsdtar", "-tf", pkg)); strings.Join(got, " ") != strings.Join(wantTop, " ") {
		t.Errorf("bsdtar -tf: %q, want %q", got, wantTop)
	}
	// 7-Zip: lists and tests (checksums) the archive.
	l := pkRun(t, "7z", "l", pkg)
	for _, w := range wantTop {
		if !strings.Contains(l, w) {
			t.Errorf("7z l does not list %s:\n%s", w, l)
		}
	}
	if out := pkRun(t, "7z", "t", pkg); !strings.Contains(out, "Everything is Ok") {
		t.Errorf("7z t:\n%s", out)
	}
	x := t.TempDir()
	pkRun(t, "bsdtar", "-xf", pkg, "-C", x)
	payload := filepath.Join(x, "farmwatch-agent.pkg", "Payload")
	files := pkRun(t, "bsdtar", "-tvf", payload)
	for _, w := range []string{"./usr/local/bin/farmwatch-agent", "./Library/LaunchDaemons/com.farmwatch.agent.plist",
		"./Library/Application Support/farmwatch/farmwatch.yaml", "./usr/local/share/doc/farmwatch/NOTICE"} {
		if !strings.Contains(files, w) {
			t.Errorf("Payload does not list %s:\n%s", w, files)
		}
	}
	scripts := pkRun(t, "bsdtar", "-tf", filepath.Join(x, "farmwatch-agent.pkg", "Scripts"))
	if !pkHasLine(scripts, "./postinstall") || !pkHasLine(scripts, "./preinstall") {
		t.Errorf("Scripts: %q", scripts)
	}
	root := t.TempDir()
	pkRun(t, "bsdtar", "-xf", payload, "-C", root)
	pkCheckFile(t, filepath.Join(root, packaging.MacBinary), 0o755, pkRead(t, builtBinary))
	pkCheckFile(t, filepath.Join(root, packaging.MacPlistPath), 0o644, packaging.LaunchdPlist)
	pkCheckFile(t, filepath.Join(root, packaging.MacConfig), 0o640, packaging.DefaultConfig)
	sx := t.TempDir()
	pkRun(t, "bsdtar", "-xf", filepath.Join(x, "farmwatch-agent.pkg", "Scripts"), "-C", sx)
	post := pkRead(t, filepath.Join(sx, "postinstall"))
	if !strings.Contains(post, `launchctl bootstrap system "$PLIST"`) || strings.Contains(post, "launchctl load") {
		t.Errorf("postinstall does not bootstrap the daemon:\n%s", post)
	}
	dist := pkRead(t, filepath.Join(x, "Distribution"))
	host := map[string]string{"amd64": `hostArchitectures="x86_64"`, "arm64": `hostArchitectures="arm64"`}[arch]
	if !strings.Contains(dist, host) || !strings.Contains(dist, "#farmwatch-agent.pkg") {
		t.Errorf("Distribution:\n%s", dist)
	}
	if b, err := os.ReadFile(filepath.Join(x, "farmwatch-agent.pkg", "Bom")); err != nil || !bytes.HasPrefix(b, []byte("BOMStore")) {
		t.Errorf("Bom: %v", err)
	}
}

// pkDistDir returns a directory of agent binaries laid out as `make cross`
// leaves them: dist/ when it holds every one, else fresh builds.
func pkDistDir(t *testing.T, root string) string {
	targets := [][2]string{{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"}, {"windows", "amd64"}}
	name := func(d, goos, arch string) string {
		f := filepath.Join(d, goos+"-"+arch, "farmwatch-agent")
		if goos == "windows" {
			f += ".exe"
		}
		return f
	}
	complete := true
	for _, tg := range targets {
		if _, err := os.Stat(name(filepath.Join(root, "dist"), tg[0], tg[1])); err != nil {
			complete = false
		}
	}
	if complete {
		t.Logf("using the binaries in %s/dist (make cross)", root)
		return filepath.Join(root, "dist")
	}
	d := t.TempDir()
	for _, tg := range targets {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", name(d, tg[0], tg[1]), "./cmd/agent")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS="+tg[0], "GOARCH="+tg[1], "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s/%s: %v\n%s", tg[0], tg[1], err, b)
		}
	}
	return d
}

func pkSelfSignedCert(t *testing.T, dir string) (cert, key string) {
	cert, key = filepath.Join(dir, "sign-cert.pem"), filepath.Join(dir, "sign-key.pem")
	pkRun(t, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
		"-subj", "/CN=farmwatch e2e test signing", "-addext", "extendedKeyUsage=codeSigning",
		"-keyout", key, "-out", cert)
	return cert, key
}

// pkDebianMirror is the Debian archive apt on this machine uses.
func pkDebianMirror() string {
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	lists, _ := filepath.Glob("/etc/apt/sources.list.d/*.list")
	for _, f := range append(append([]string{"/etc/apt/sources.list"}, files...), lists...) {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			var uri string
			switch {
			case len(fs) >= 2 && fs[0] == "URIs:":
				uri = fs[1]
			case len(fs) >= 3 && fs[0] == "deb" && !strings.HasPrefix(fs[1], "["):
				uri = fs[1]
			}
			if strings.HasSuffix(strings.TrimSuffix(uri, "/"), "/debian") {
				return uri
			}
		}
	}
	return "http://deb.debian.org/debian"
}

// pkUnmountUnder unmounts every mount point at or below dir (deepest first).
func pkUnmountUnder(t *testing.T, dir string) {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(b), "\n") {
		fs := strings.Fields(line)
		if len(fs) > 1 && (fs[1] == dir || strings.HasPrefix(fs[1], dir+"/")) {
			points = append(points, fs[1])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", p, err)
		}
	}
}

func pkCheckFile(t *testing.T, path string, mode os.FileMode, want string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	if st.Mode().Perm() != mode {
		t.Errorf("%s: mode %o, want %o", path, st.Mode().Perm(), mode)
	}
	if got := pkRead(t, path); sha256.Sum256([]byte(got)) != sha256.Sum256([]byte(want)) {
		t.Errorf("%s: content differs from the source (%d vs %d bytes)", path, len(got), len(want))
	}
}

func pkRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s%s", name, args, err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.String()
}

func pkRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func pkSize(t *testing.T, p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func pkHasLine(s, line string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

func pkLines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		out = append(out, strings.TrimSuffix(l, "/"))
	}
	sort.Strings(out)
	return out
}

func pkTail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

type pkCmdError struct {
	err error
	out string
}

func (e *pkCmdError) Error() string { return e.err.Error() + "\n" + e.out }
