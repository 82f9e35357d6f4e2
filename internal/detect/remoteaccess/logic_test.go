package remoteaccess

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/detect/remoteaccess/catalog"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

func TestReverseForwards(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"ssh", "-N", "-R", "5900:localhost:5900", "user@relay"}, []string{"5900:localhost:5900"}},
		{[]string{"ssh", "-NR", "2222:127.0.0.1:22", "relay"}, []string{"2222:127.0.0.1:22"}},
		{[]string{"ssh", "-fNR2222:localhost:22", "relay"}, []string{"2222:localhost:22"}},
		{[]string{"ssh", "-p", "443", "-o", "RemoteForward=9000 localhost:3389", "relay"}, []string{"9000"}},
		{[]string{"ssh", "-oRemoteForward 9000 localhost:3389", "relay"}, []string{"9000"}},
		{[]string{"ssh", "-R", "0.0.0.0:80:localhost:80", "-R", "81:x:81", "h"}, []string{"0.0.0.0:80:localhost:80", "81:x:81"}},
		{[]string{"ssh", "-L", "5900:localhost:5900", "relay"}, nil},
		{[]string{"ssh", "-i", "-R", "relay"}, nil},    // -R is the identity file name here
		{[]string{"ssh", "relay", "-R", "1:x:1"}, nil}, // after the destination: the remote command
		{[]string{"ssh", "-D", "1080", "relay"}, nil},
	}
	for _, c := range cases {
		got := reverseForwards(c.args)
		if len(got) == 0 && len(c.want) == 0 {
			continue
		}
		if c.want != nil && c.want[0] == "9000" {
			if len(got) != 1 || !strings.HasPrefix(got[0], "9000") {
				t.Errorf("%v: got %q", c.args, got)
			}
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: got %q, want %q", c.args, got, c.want)
		}
	}
}

func FuzzReverseForwards(f *testing.F) {
	f.Add("ssh -NR 1:x:1 host")
	f.Add("ssh -o RemoteForward host")
	f.Add("ssh -R")
	f.Fuzz(func(t *testing.T, s string) {
		_ = reverseForwards(strings.Fields(s))
	})
}

func TestScanMarkersAcrossChunkBoundary(t *testing.T) {
	m := []marker{{tool: 3, bytes: []byte("x11vnc version:")}}
	data := bytes.Repeat([]byte{0}, (1<<20)-5)
	data = append(data, []byte("x11vnc version: 0.9")...)
	tool, got := scanMarkers(context.Background(), bytes.NewReader(data), m, 64<<20)
	if tool != 3 || got != "x11vnc version:" {
		t.Fatalf("marker across chunk boundary not found: %d %q", tool, got)
	}
	if tool, _ := scanMarkers(context.Background(), bytes.NewReader(data), m, 1<<20); tool != -1 {
		t.Fatal("marker beyond the byte limit was found")
	}
	if tool, _ := scanMarkers(context.Background(), bytes.NewReader([]byte("nothing here")), m, 1<<20); tool != -1 {
		t.Fatal("marker found in unrelated bytes")
	}
}

func TestPathGlobs(t *testing.T) {
	cases := []struct {
		glob, path string
		want       bool
	}{
		{`C:\Program Files\AnyDesk\*`, `C:\Program Files\AnyDesk\AnyDesk.exe`, true},
		{`C:\Program Files\AnyDesk\*`, `C:\Program Files\AnyDeskX\AnyDesk.exe`, false},
		{`%ProgramData%\AnyDesk\`, `C:\ProgramData\AnyDesk\ad.exe`, true},
		{`/opt/teamviewer`, `/opt/teamviewer/tv_bin/teamviewerd`, true},
		{`/Applications/AnyDesk.app`, `/Applications/AnyDesk.app/Contents/MacOS/AnyDesk`, true},
		{`C:\Program Files\*\ScreenConnect*\*`, `c:\program files\x\ScreenConnect Client (abc)\ScreenConnect.ClientService.exe`, true},
	}
	for _, c := range cases {
		re, tok, ok := compilePathGlob(c.glob)
		if !ok {
			t.Errorf("%q: not compiled", c.glob)
			continue
		}
		if got := re.MatchString(normPath(c.path)); got != c.want {
			t.Errorf("%q vs %q: %v (token %q)", c.glob, c.path, got, tok)
		}
	}
	if _, _, ok := compilePathGlob("anydesk.exe"); ok {
		t.Error("bare file name accepted as a path glob")
	}
}

func TestCatalogIndexesFromSyntheticCatalog(t *testing.T) {
	c := &catalog.Catalog{Tools: []catalog.Tool{
		{ID: "demo", Name: "Demo Desk", Category: "remote-access", Role: catalog.RoleBoth,
			Processes: map[string][]string{"windows": {"demodesk.exe", "agent.exe"}}, Signers: []string{"Demo Soft GmbH"},
			Services: []string{"demodesk*"}, Paths: []string{`C:\Program Files\DemoDesk\*`}},
	}}
	d, err := NewWithCatalog(Settings{}, c)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.ix.serviceMatches("DemoDeskService"); len(got) != 1 {
		t.Fatalf("service glob: %v", got)
	}
	if got := d.ix.pathMatches(`C:\Program Files\DemoDesk\x.exe`); len(got) != 1 {
		t.Fatalf("path: %v", got)
	}
	if got := d.ix.procByOS["windows"]["agent.exe"]; len(got) != 1 {
		t.Fatal("generic names are indexed but must only count with a second trait")
	}
}

// fakeSource serves fixed processes for fuzzing the decision logic.
type fakeSource struct {
	procs []source.Process
	conns []source.Connection
	svcs  []source.Service
}

func (f fakeSource) Host() source.HostInfo {
	return source.HostInfo{Hostname: "h", HostID: "h", OS: "windows"}
}
func (fakeSource) Snapshot() bool                                             { return true }
func (fakeSource) Root() string                                               { return "" }
func (f fakeSource) Processes(context.Context) ([]source.Process, error)      { return f.procs, nil }
func (f fakeSource) Connections(context.Context) ([]source.Connection, error) { return f.conns, nil }
func (f fakeSource) Services(context.Context) ([]source.Service, error)       { return f.svcs, nil }
func (fakeSource) OpenExe(source.Process) (io.ReadCloser, error)              { return nil, source.ErrNotRecorded }

// FuzzDetect feeds hostile process, socket and service strings through the
// whole detector: no panic, and every finding is valid.
func FuzzDetect(f *testing.F) {
	f.Add("AnyDesk.exe", `C:\Program Files (x86)\AnyDesk\AnyDesk.exe`, "--set-password", "rustdesk.exe", "AnyDesk", uint32(7070))
	f.Add("ssh", "/usr/bin/ssh", "-NR", "", "", uint32(22))
	f.Add("code", "/usr/bin/code", "tunnel", "", "", uint32(0))
	f.Add("node", "/usr/bin/node", "/srv/node_modules/meshcentral", "", "", uint32(4433))
	f.Add("\x1b[2J", "/tmp/\x00x", "?e=Access&y=Guest&h=", "", "TeamViewer", uint32(5938))
	d, err := New(Settings{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, exe, arg, orig, svc string, port uint32) {
		src := fakeSource{
			procs: []source.Process{{PID: 1, Name: name, Exe: exe, Cmdline: []string{exe, arg, "host"}, OriginalFilename: orig, Signer: svc}},
			conns: []source.Connection{{PID: 1, Proto: "tcp", LAddr: "0.0.0.0", LPort: port, State: "LISTEN"}, {PID: 1, Proto: "tcp", LAddr: "10.0.0.1", LPort: port, RAddr: "10.0.0.2", RPort: 5000, State: "ESTABLISHED"}},
			svcs:  []source.Service{{Name: svc, Path: exe, State: "running"}},
		}
		fs, err := d.Detect(context.Background(), detect.Env{Source: src, Host: report.Host{Name: "h", ID: "h"}, Logger: zap.NewNop()})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			f.Detector = Name
			if err := f.Validate(); err != nil {
				t.Fatalf("invalid finding: %v\n%+v", err, f)
			}
		}
	})
}
