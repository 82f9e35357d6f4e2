package source

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestListServicesFromFixtureRoot reads systemd units and init scripts from
// a fixture tree laid out like a real root.
func TestListServicesFromFixtureRoot(t *testing.T) {
	root := t.TempDir()
	mk := func(rel, data string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("lib/systemd/system/xrdp.service", "[Unit]\nDescription=xrdp daemon\n[Service]\nExecStart=/usr/sbin/xrdp --nodaemon\n")
	mk("etc/systemd/system/teamviewerd.service", "[Service]\nExecStart=-/opt/teamviewer/tv_bin/teamviewerd -d\n")
	mk("lib/systemd/system/teamviewerd.service", "[Service]\nExecStart=/wrong\n")
	mk("etc/init.d/x11vnc", "#!/bin/sh\n")
	if err := os.MkdirAll(filepath.Join(root, "etc/systemd/system/multi-user.target.wants"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/lib/systemd/system/xrdp.service", filepath.Join(root, "etc/systemd/system/multi-user.target.wants/xrdp.service")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/lib/systemd/system/xrdp.service", filepath.Join(root, "etc/systemd/system/rdp-alias.service")); err != nil {
		t.Fatal(err)
	}
	ss, err := listServices(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Service{}
	for _, s := range ss {
		got[s.Name] = s
	}
	if s := got["xrdp.service"]; s.Path != "/usr/sbin/xrdp" || s.StartType != "auto" || s.DisplayName != "xrdp daemon" || s.State != StateStopped || s.Kind != "systemd-unit" {
		t.Errorf("xrdp: %+v", s)
	}
	if s := got["teamviewerd.service"]; s.Path != "/opt/teamviewer/tv_bin/teamviewerd" || s.StartType != "manual" {
		t.Errorf("teamviewerd (etc overrides lib): %+v", s)
	}
	if _, ok := got["rdp-alias.service"]; ok {
		t.Errorf("alias unit listed twice")
	}
	if s := got["x11vnc"]; s.Kind != "sysv" {
		t.Errorf("init script: %+v", s)
	}
}

func TestDpkgOwner(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "var/lib/dpkg/info")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "x11vnc.list"), []byte("/.\n/usr\n/usr/bin\n/usr/bin/x11vnc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := dpkgOwner(root, "/usr/bin/x11vnc"); got != "x11vnc" {
		t.Fatalf("owner %q", got)
	}
	if got := dpkgOwner(root, "/bin/x11vnc"); got != "x11vnc" {
		t.Fatalf("merged-usr owner %q", got)
	}
	if got := dpkgOwner(root, "/tmp/updater"); got != "" {
		t.Fatalf("unowned file owned by %q", got)
	}
}
