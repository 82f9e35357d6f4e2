//go:build linux

package hostcontext

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

// liveSource is a non-snapshot source over a temp root.
type liveSource struct{ root string }

func (l liveSource) Host() source.HostInfo {
	return source.HostInfo{Hostname: "live", HostID: "live-id", OS: "linux"}
}
func (l liveSource) Snapshot() bool                                           { return false }
func (l liveSource) Root() string                                             { return l.root }
func (l liveSource) Processes(context.Context) ([]source.Process, error)      { return nil, nil }
func (l liveSource) Connections(context.Context) ([]source.Connection, error) { return nil, nil }
func (l liveSource) Services(context.Context) ([]source.Service, error)       { return nil, nil }
func (l liveSource) OpenExe(source.Process) (io.ReadCloser, error)            { return nil, source.ErrNotRecorded }

// A live run takes one idle sample from the tty atime and updates the
// histogram in the state dir, once per clock hour.
func TestLiveHistogramUpdate(t *testing.T) {
	root := t.TempDir()
	state := t.TempDir()
	b, err := os.ReadFile(filepath.Join(fixtures, "linux-ibus-hangul/var/run/utmp"))
	if err != nil {
		t.Fatal(err)
	}
	for p, data := range map[string][]byte{"var/run/utmp": b, "dev/pts/0": nil, "dev/tty2": nil} {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	old := now.Add(-2 * time.Hour)
	_ = os.Chtimes(filepath.Join(root, "dev/tty2"), old, old)
	_ = os.Chtimes(filepath.Join(root, "dev/pts/0"), now.Add(-time.Minute), now.Add(-time.Minute))
	s := *DefaultSettings()
	s.StateDir = state
	d, _ := New(s)
	env := detect.Env{Source: liveSource{root}, Host: report.Host{ID: "live-id"}, Now: now}
	for i := 0; i < 2; i++ {
		if _, err := d.Detect(context.Background(), env); err != nil {
			t.Fatal(err)
		}
	}
	h, err := loadHistogram(filepath.Join(state, FileActivity))
	if err != nil || h == nil {
		t.Fatalf("%v %v", h, err)
	}
	if h.Total() != 1 || h.Samples != 1 || h.Hours[now.UTC().Hour()] != 1 {
		t.Fatalf("histogram %+v", h)
	}
}

// Collect from a live tree, then Detect on the snapshot: same facts.
func TestCollectRoundTrip(t *testing.T) {
	root := t.TempDir()
	fx := filepath.Join(fixtures, "linux-ibus-hangul")
	for _, rel := range []string{"etc/timezone", "etc/default/locale", "etc/default/keyboard", "var/run/utmp", "usr/share/ibus/component/hangul.xml", "usr/share/ibus/component/simple.xml"} {
		b, err := os.ReadFile(filepath.Join(fx, rel))
		if err != nil {
			t.Fatal(err)
		}
		full := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/usr/share/zoneinfo/Asia/Seoul", filepath.Join(root, "etc/localtime")); err != nil {
		t.Fatal(err)
	}
	snap := t.TempDir()
	if err := Collect(context.Background(), liveSource{root}, snap); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(snap, "host.json"), []byte(`{"hostname":"rt","host_id":"rt","os":"linux"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(snap, linuxLocaltimeLink)); err != nil || readLocaltime(snap) != "Asia/Seoul" {
		t.Errorf("localtime link not recorded: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(snap, "usr/share/ibus/component/simple.xml")); err == nil {
		t.Error("non-IME component copied")
	}
	live, err := readLinuxFacts(root)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := readLinuxFacts(snap)
	if err != nil {
		t.Fatal(err)
	}
	if live.TimeZone != "Asia/Seoul" || rec.TimeZone != live.TimeZone || len(rec.Inputs) != len(live.Inputs) || len(rec.Sessions) != 2 || len(rec.Locales) != len(live.Locales) {
		t.Fatalf("live %+v\nrecorded %+v", live, rec)
	}
}
