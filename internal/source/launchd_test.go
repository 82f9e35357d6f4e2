package source

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"howett.net/plist"
)

const launchdFixtures = "testdata/launchd"

var launchdWant = map[string]Service{
	"com.example.remoted.plist": {
		Name: "com.example.remoted", Path: "/Library/Application Support/Example/remoted",
		Args: []string{"--daemon", "--port=5938"}, StartType: "auto",
	},
	"com.example.agent.plist": {
		Name: "com.example.agent", Path: "/Applications/Example.app/Contents/MacOS/Example Agent",
		Args: []string{"-psn"}, StartType: "auto",
	},
	"com.example.ondemand.plist": {
		Name: "com.example.ondemand", Path: "/usr/local/libexec/example-helper", StartType: "manual",
	},
	"com.example.disabled.plist": {
		Name: "com.example.disabled", Path: "/opt/example/bin/updater", StartType: "disabled",
	},
	// Binary plist written by Python's plistlib (make-fixtures.sh).
	"com.example.binary.plist": {
		Name: "com.example.binary", Path: "/Library/PrivilegedHelperTools/com.example.binary",
		Args: []string{"-v"}, StartType: "auto",
	},
}

func readLaunchdFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(launchdFixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseLaunchdPlistFixtures(t *testing.T) {
	for name, want := range launchdWant {
		t.Run(name, func(t *testing.T) {
			data := readLaunchdFixture(t, name)
			got, err := parseLaunchdPlist(data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
	if data := readLaunchdFixture(t, "com.example.binary.plist"); !strings.HasPrefix(string(data), "bplist00") {
		t.Fatal("com.example.binary.plist is not a binary plist")
	}
}

// The XML fixtures re-encoded as binary plists read the same.
func TestParseLaunchdPlistBinaryRoundTrip(t *testing.T) {
	for name, want := range launchdWant {
		var job any
		if _, err := plist.Unmarshal(readLaunchdFixture(t, name), &job); err != nil {
			t.Fatal(err)
		}
		bin, err := plist.Marshal(job, plist.BinaryFormat)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseLaunchdPlist(bin)
		if err != nil {
			t.Fatalf("%s as binary: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s as binary: got %+v, want %+v", name, got, want)
		}
	}
}

func TestParseLaunchdPlistErrors(t *testing.T) {
	wrap := func(body string) []byte {
		return []byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0">` + body + `</plist>`)
	}
	for name, data := range map[string][]byte{
		"broken XML":            readLaunchdFixture(t, "broken.plist"),
		"empty":                 nil,
		"garbage":               []byte("\x00\xff garbage"),
		"truncated binary":      readLaunchdFixture(t, "com.example.binary.plist")[:60],
		"not a dict":            wrap(`<array><string>x</string></array>`),
		"no label":              wrap(`<dict><key>Program</key><string>/bin/x</string></dict>`),
		"label not a string":    wrap(`<dict><key>Label</key><integer>3</integer><key>Program</key><string>/bin/x</string></dict>`),
		"no program":            wrap(`<dict><key>Label</key><string>a</string><key>RunAtLoad</key><true/></dict>`),
		"empty arguments":       wrap(`<dict><key>Label</key><string>a</string><key>ProgramArguments</key><array/></dict>`),
		"arguments not array":   wrap(`<dict><key>Label</key><string>a</string><key>ProgramArguments</key><string>/bin/x</string></dict>`),
		"argument not a string": wrap(`<dict><key>Label</key><string>a</string><key>ProgramArguments</key><array><string>/bin/x</string><integer>1</integer></array></dict>`),
		"program not a string":  wrap(`<dict><key>Label</key><string>a</string><key>Program</key><true/></dict>`),
	} {
		t.Run(name, func(t *testing.T) {
			if svc, err := parseLaunchdPlist(data); err == nil {
				t.Fatalf("got %+v, want an error", svc)
			}
		})
	}
}

func TestListLaunchd(t *testing.T) {
	root := t.TempDir()
	place := func(dir, name string) {
		t.Helper()
		d := filepath.Join(root, dir)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, name), readLaunchdFixture(t, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	place("Library/LaunchDaemons", "com.example.remoted.plist")
	place("Library/LaunchDaemons", "com.example.binary.plist")
	place("Library/LaunchDaemons", "broken.plist") // skipped
	place("Library/LaunchAgents", "com.example.disabled.plist")
	place("Users/amy/Library/LaunchAgents", "com.example.agent.plist")
	place("Users/bob/Library/LaunchAgents", "com.example.ondemand.plist")
	place("Library/LaunchDaemons/not-a-job.d", "com.example.agent.plist") // not read: wrong depth

	running := func(exe string) bool { return exe == "/Library/Application Support/Example/remoted" }
	got, err := listLaunchd(context.Background(), root, running)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ name, kind, state, start string }
	var rows []row
	for _, s := range got {
		rows = append(rows, row{s.Name, s.Kind, s.State, s.StartType})
	}
	want := []row{
		{"com.example.binary", "launchd-daemon", "stopped", "auto"},
		{"com.example.remoted", "launchd-daemon", "running", "auto"},
		{"com.example.disabled", "launchd-agent", "stopped", "disabled"},
		{"com.example.agent", "launchd-agent", "stopped", "auto"},
		{"com.example.ondemand", "launchd-agent", "stopped", "manual"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("got  %v\nwant %v", rows, want)
	}

	// Without a way to see processes the state is unknown.
	got, _ = listLaunchd(context.Background(), root, nil)
	for _, s := range got {
		if s.State != StateUnknown {
			t.Errorf("%s: state %q with no process list, want unknown", s.Name, s.State)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := listLaunchd(ctx, root, running); err == nil {
		t.Error("cancelled context: want an error")
	}
}

func FuzzParseLaunchdPlist(f *testing.F) {
	for name := range launchdWant {
		f.Add(readLaunchdFixture(f, name))
	}
	f.Add(readLaunchdFixture(f, "broken.plist"))
	f.Fuzz(func(t *testing.T, data []byte) {
		svc, err := parseLaunchdPlist(data)
		if err != nil {
			return
		}
		if svc.Name == "" || svc.Path == "" {
			t.Fatalf("parsed without a name or path: %+v", svc)
		}
		switch svc.StartType {
		case "auto", "manual", "disabled":
		default:
			t.Fatalf("start type %q", svc.StartType)
		}
	})
}

// TestParseLaunchdPlistRealRustDesk reads the LaunchDaemon and LaunchAgent
// RustDesk installs (testdata/launchd-real/README.md): the daemon runs its
// program through /bin/sh -c, which must come out as the program itself.
func TestParseLaunchdPlistRealRustDesk(t *testing.T) {
	for file, want := range map[string]Service{
		"com.carriez.RustDesk_service.plist": {Name: "com.carriez.RustDesk_service", Path: "/Applications/RustDesk.app/Contents/MacOS/service", StartType: "auto"},
		"com.carriez.RustDesk_server.plist":  {Name: "com.carriez.RustDesk_server", Path: "/Applications/RustDesk.app/Contents/MacOS/RustDesk", Args: []string{"--server"}, StartType: "auto"},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", "launchd-real", file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseLaunchdPlist(data)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", file, got, want)
		}
	}
	// Installed as RustDesk installs them, with the service's program running.
	root := t.TempDir()
	for dir, file := range map[string]string{"Library/LaunchDaemons": "com.carriez.RustDesk_service.plist", "Library/LaunchAgents": "com.carriez.RustDesk_server.plist"} {
		data, _ := os.ReadFile(filepath.Join("testdata", "launchd-real", file))
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, dir, file), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	svcs, err := listLaunchd(context.Background(), root, func(exe string) bool { return exe == "/Applications/RustDesk.app/Contents/MacOS/service" })
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, s := range svcs {
		states[s.Name+"/"+s.Kind] = s.State
	}
	if states["com.carriez.RustDesk_service/launchd-daemon"] != StateRunning || states["com.carriez.RustDesk_server/launchd-agent"] != StateStopped {
		t.Errorf("states %v", states)
	}
}

func TestShellCommand(t *testing.T) {
	for _, c := range []struct {
		path string
		args []string
		ok   bool
	}{
		{"/bin/sh", []string{"-c", "/opt/x/bin/y --flag"}, true},
		{"/bin/bash", []string{"-c", "/opt/x/bin/y"}, true},
		{"/bin/sh", []string{"-c", "cd /opt && ./y"}, false},
		{"/bin/sh", []string{"-c", "y"}, false},
		{"/bin/sh", []string{"-c", "/opt/y \"a b\""}, false},
		{"/bin/sh", []string{"/opt/script.sh"}, false},
		{"/usr/bin/python3", []string{"-c", "/opt/y"}, false},
	} {
		if _, _, ok := shellCommand(c.path, c.args); ok != c.ok {
			t.Errorf("%s %q: %v", c.path, c.args, ok)
		}
	}
}
