package remoteaccess

import (
	"bytes"
	"context"
	"os"
	"testing"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

func TestIsRuntime(t *testing.T) {
	for n, want := range map[string]bool{
		"node": true, "node.exe": true, "nodejs": true, "python3": true, "python3.11": true, "pythonw.exe": true,
		"java": true, "javaw.exe": true, "electron": true, "bun": true,
		"python3-config": false, "nodemon": false, "bash": false, "meshagent": false, "": false,
	} {
		if got := isRuntime(n); got != want {
			t.Errorf("isRuntime(%q) = %v, want %v", n, got, want)
		}
	}
}

func TestScriptMatchMeshCentralServer(t *testing.T) {
	d, err := New(Settings{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		cmd  []string
		want string
	}{
		{[]string{"node", "node_modules/meshcentral"}, "meshcentral-server"},
		{[]string{"node", "/opt/mc/node_modules/meshcentral", "--cert", "farm.example"}, "meshcentral-server"},
		// the watchdog's child and a worker
		{[]string{"/usr/bin/node", "--disable-proto=delete", "/opt/mc/node_modules/meshcentral", "--launch", "4242"}, "meshcentral-server"},
		{[]string{"/usr/bin/node", "--disable-proto=delete", "/opt/mc/node_modules/meshcentral/meshaccelerator.js"}, "meshcentral-server"},
		{[]string{"node", "/usr/lib/node_modules/meshcentral/bin/meshcentral"}, "meshcentral-server"},
		{[]string{`C:\Program Files\nodejs\node.exe`, `C:\meshcentral\node_modules\meshcentral\meshcentral.js`}, "meshcentral-server"},
		{[]string{"node", "/src/MeshCentral/meshcentral.js"}, "meshcentral-server"},
		{[]string{"node", "/opt/app/node_modules/meshcentral-web/index.js"}, ""},
		{[]string{"node", "/opt/app/server.js", "--name=meshcentral"}, ""},
		{[]string{"node"}, ""},
	}
	for _, c := range cases {
		ti, arg := d.ix.scriptMatch(c.cmd)
		got := ""
		if ti >= 0 {
			got = d.ix.tools[ti].ID
		}
		if got != c.want {
			t.Errorf("%q: matched %q (arg %q), want %q", c.cmd, got, arg, c.want)
		}
	}
}

// TestMeshCentralServerFinding: the server under node is reported as a
// running MeshCentral server (medium, not renamed); the same command line
// under a program that is no runtime is not.
func TestMeshCentralServerFinding(t *testing.T) {
	d, err := New(Settings{})
	if err != nil {
		t.Fatal(err)
	}
	src := linuxSource{fakeSource{procs: []source.Process{
		{PID: 10, Name: "node", Exe: "/usr/bin/node", Cmdline: []string{"node", "/srv/mc/node_modules/meshcentral"}},
		{PID: 11, Name: "node", Exe: "/usr/bin/node", Cmdline: []string{"/usr/bin/node", "--disable-proto=delete", "/srv/mc/node_modules/meshcentral", "--launch", "10"}},
		{PID: 12, Name: "cat", Exe: "/usr/bin/cat", Package: "coreutils", Cmdline: []string{"cat", "/srv/mc/node_modules/meshcentral/meshcentral.js"}},
	}}}
	fs, err := d.Detect(context.Background(), detect.Env{Source: src, Host: report.Host{Name: "h", ID: "h"}, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 {
		t.Fatalf("want one finding (the server, pids 10 and 11), got %d: %+v", len(fs), fs)
	}
	f := fs[0]
	if f.Rule != "remoteaccess.process.running" || f.Tool != "meshcentral" || f.Evidence["catalog_id"] != "meshcentral-server" ||
		f.Severity != report.SeverityMedium || f.Evidence["renamed"] != nil {
		t.Fatalf("server finding: %+v", f)
	}
	if pids, _ := f.Evidence["pids"].([]int32); len(pids) != 2 {
		t.Fatalf("pids %v, want the parent and its --launch child", f.Evidence["pids"])
	}
}

type linuxSource struct{ fakeSource }

func (linuxSource) Host() source.HostInfo {
	return source.HostInfo{Hostname: "h", HostID: "h", OS: "linux"}
}

// TestGoModuleIdentifiesSelf: this test binary's Go build info names the
// farmwatch module; a catalog module path matching it identifies the file,
// one that does not (or only a parent path) does not.
func TestGoModuleIdentifiesSelf(t *testing.T) {
	_, b := selfBinary(t)
	ix := &index{goModules: []goModule{{tool: 0, path: "github.com/sagernet/sing-box"}, {tool: 1, path: "github.com/farmwatch/farmwatch"}, {tool: 2, path: "github.com/farmwatch"}}}
	ti, trait := matchGoModule(bytes.NewReader(b), int64(len(b)), ix)
	if ti != 1 {
		t.Fatalf("matched tool %d (%q), want 1", ti, trait)
	}
	ix.goModules = ix.goModules[:1]
	if ti, trait := matchGoModule(bytes.NewReader(b), int64(len(b)), ix); ti != -1 {
		t.Fatalf("matched %d (%q) with no farmwatch module in the index", ti, trait)
	}
}

func selfBinary(t *testing.T) (string, []byte) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	return exe, b
}
