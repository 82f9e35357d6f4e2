package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, data string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSnapshotReadsRecordedFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, HostFile, `{"hostname":"LAPTOP-7","host_id":"abc","os":"windows"}`)
	writeFile(t, dir, ProcessesFile, "\xef\xbb\xbf"+`[{"pid":4,"ppid":0,"name":"AnyDesk.exe","exe":"C:\\Program Files\\AnyDesk\\AnyDesk.exe","cmdline":["AnyDesk.exe","--service"],"username":"SYSTEM","create_time":"2026-11-01T10:00:00Z","signer":"philandro Software GmbH"}]`)
	writeFile(t, dir, ConnectionsFile, `[{"pid":4,"proto":"tcp","laddr":"0.0.0.0","lport":7070,"raddr":"","rport":0,"state":"LISTEN"}]`)
	s, err := OpenSnapshot(dir)
	if err != nil {
		t.Fatal(err)
	}
	if h := s.Host(); h.OS != "windows" || h.Hostname != "LAPTOP-7" || !s.Snapshot() || s.Root() != dir {
		t.Fatalf("host %+v", h)
	}
	ps, err := s.Processes(context.Background())
	if err != nil || len(ps) != 1 || ps[0].Signer != "philandro Software GmbH" || ps[0].Cmdline[1] != "--service" {
		t.Fatalf("processes %+v %v", ps, err)
	}
	cs, err := s.Connections(context.Background())
	if err != nil || len(cs) != 1 || !cs[0].Listening() {
		t.Fatalf("connections %+v %v", cs, err)
	}
	ss, err := s.Services(context.Background())
	if err != nil || len(ss) != 0 {
		t.Fatalf("missing services.json must mean none recorded: %+v %v", ss, err)
	}
	if _, err := s.OpenExe(ps[0]); !errors.Is(err, ErrNotRecorded) {
		t.Fatalf("OpenExe on snapshot: %v", err)
	}
}

func TestSnapshotErrorsNameFileAndField(t *testing.T) {
	cases := []struct {
		name, file, data string
		want             []string
	}{
		{"wrong type", ProcessesFile, "[\n {\"pid\": \"four\"}\n]", []string{ProcessesFile, ":2:", `field "pid"`}},
		{"unknown field", ProcessesFile, `[{"pid":1,"colour":"red"}]`, []string{ProcessesFile, `field "colour"`, "unknown field"}},
		{"truncated", ConnectionsFile, `[{"pid":1,`, []string{ConnectionsFile, "truncated"}},
		{"syntax", ServicesFile, "[{\"name\": x}]", []string{ServicesFile, ":1:", "invalid JSON"}},
		{"trailing", ServicesFile, "[] []", []string{ServicesFile, "trailing"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, c.file, c.data)
			s, err := OpenSnapshot(dir)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			_, e1 := s.Processes(ctx)
			_, e2 := s.Connections(ctx)
			_, e3 := s.Services(ctx)
			err = errors.Join(e1, e2, e3)
			if err == nil {
				t.Fatal("malformed file accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestOpenSnapshotRejectsBadHost(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, HostFile, `{"os":"plan9"}`)
	if _, err := OpenSnapshot(dir); err == nil || !strings.Contains(err.Error(), `"os"`) {
		t.Fatalf("bad os accepted: %v", err)
	}
	if _, err := OpenSnapshot(filepath.Join(dir, "nope")); err == nil {
		t.Fatal("missing dir accepted")
	}
}

func TestRecordRoundTripsLiveHost(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("live recording is exercised on Linux CI")
	}
	ctx := context.Background()
	live, err := NewLive(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Record(ctx, live, dir, "test"); err != nil {
		t.Fatal(err)
	}
	snap, err := OpenSnapshot(dir)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Host().HostID != live.Host().HostID || snap.Host().AgentVersion != "test" {
		t.Fatalf("host not recorded: %+v", snap.Host())
	}
	ps, err := snap.Processes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	self := false
	for _, p := range ps {
		if int(p.PID) == os.Getpid() {
			self = true
			exe, _ := os.Executable()
			if p.Exe != exe || len(p.Cmdline) == 0 || p.CreateTime.IsZero() {
				t.Errorf("own process recorded wrong: %+v (exe %s)", p, exe)
			}
		}
	}
	if !self {
		t.Fatalf("own pid %d missing among %d processes", os.Getpid(), len(ps))
	}
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`[{"pid":1,"name":"a","cmdline":["x"]}]`))
	f.Add([]byte("\xef\xbb\xbf[]"))
	f.Add([]byte(`[{"pid":"x"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ps []Process
		err := DecodeJSON("p.json", data, &ps)
		if err != nil && !strings.HasPrefix(err.Error(), "p.json") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}
