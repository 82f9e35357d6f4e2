//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLIExitCodes(t *testing.T) {
	dir := t.TempDir()
	badCfg := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badCfg, []byte("detectors:\n  remoteaccess:\n    timeout: 10s\n    colour: red\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	typeCfg := filepath.Join(dir, "type.yaml")
	if err := os.WriteFile(typeCfg, []byte("detectors:\n  remoteaccess:\n    enabled: maybe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badSnap := filepath.Join(dir, "snap")
	if err := os.MkdirAll(badSnap, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(badSnap, "processes.json"), []byte("[\n  {\"pid\": 1, \"cmdline\": \"not a list\"}\n]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		args    []string
		code    int
		stderrs []string
	}{
		{"no command", nil, 2, []string{"usage"}},
		{"unknown command", []string{"frobnicate"}, 2, []string{"unknown command"}},
		{"bad flag", []string{"scan", "--nope"}, 2, []string{"nope"}},
		{"bad format", []string{"scan", "--format", "xml"}, 2, []string{"xml"}},
		{"bad fail-on", []string{"scan", "--fail-on", "urgent"}, 2, []string{"urgent"}},
		{"unknown config key", []string{"scan", "--config", badCfg}, 2, []string{"bad.yaml:4", `"detectors.remoteaccess.colour"`, "unknown key"}},
		{"wrong config type", []string{"scan", "--config", typeCfg}, 2, []string{"type.yaml:3", `"detectors.remoteaccess.enabled"`, "wrong type"}},
		{"missing config", []string{"scan", "--config", filepath.Join(dir, "none.yaml")}, 2, []string{"none.yaml"}},
		{"malformed snapshot", []string{"scan", "--snapshot", badSnap}, 1, []string{"processes.json:2", `field "cmdline"`}},
		{"missing snapshot", []string{"scan", "--snapshot", filepath.Join(dir, "nowhere")}, 1, []string{"nowhere"}},
		{"collect without out", []string{"collect"}, 2, []string{"--out"}},
		{"version", []string{"version"}, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := runAgent(t, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, c.code, stderr)
			}
			for _, s := range c.stderrs {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}

// TestCollectThenScanSnapshot records this host and analyses the recording:
// the snapshot must give the same findings as the live scan of the same
// moment for everything a snapshot can hold.
func TestCollectThenScanSnapshot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "snap")
	out, stderr, code := runAgent(t, "collect", "--out", dir)
	if code != 0 {
		t.Fatalf("collect exit %d: %s %s", code, out, stderr)
	}
	for _, f := range []string{"host.json", "processes.json", "connections.json", "services.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Fatalf("collect did not write %s: %v", f, err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "processes.json"))
	if !strings.Contains(string(b), "farmwatch-agent") && !strings.Contains(string(b), filepath.Base(agent(t))) {
		t.Fatalf("processes.json does not list the collecting agent itself")
	}
	_, stderr, code = runAgent(t, "scan", "--snapshot", dir, "--format", "json")
	if code != 0 {
		t.Fatalf("scan of own snapshot exit %d: %s", code, stderr)
	}
}

func TestFailOnExitsThree(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(`{"hostname":"w1","host_id":"w1","os":"windows"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	procs := `[{"pid":10,"ppid":1,"name":"AnyDesk.exe","exe":"C:\\Program Files (x86)\\AnyDesk\\AnyDesk.exe","cmdline":["AnyDesk.exe"],"username":"bob","create_time":"2026-11-20T08:00:00Z"}]`
	if err := os.WriteFile(filepath.Join(dir, "processes.json"), []byte(procs), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code := runAgent(t, "scan", "--snapshot", dir, "--fail-on", "medium")
	if code != 3 {
		t.Fatalf("--fail-on medium with AnyDesk running: exit %d, want 3\n%s", code, out)
	}
	if !strings.Contains(out, "anydesk") {
		t.Fatalf("table lacks anydesk:\n%s", out)
	}
	if _, _, code := runAgent(t, "scan", "--snapshot", dir, "--fail-on", "critical"); code != 0 {
		t.Fatalf("--fail-on critical: exit %d, want 0", code)
	}
}
