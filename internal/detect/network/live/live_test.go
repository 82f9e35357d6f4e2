package live

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"

	"github.com/farmwatch/farmwatch/internal/detect/network/internal/pcaptest"
	"github.com/farmwatch/farmwatch/internal/report"
)

// fakeSource replays frames, then times out until closed.
type fakeSource struct {
	mu     sync.Mutex
	frames []pcaptest.Frame
	fail   error
	closed bool
}

func (f *fakeSource) ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.frames) == 0 {
		if f.fail != nil {
			return nil, gopacket.CaptureInfo{}, f.fail
		}
		time.Sleep(time.Millisecond)
		return nil, gopacket.CaptureInfo{}, errTimeout
	}
	fr := f.frames[0]
	f.frames = f.frames[1:]
	return fr.Data, gopacket.CaptureInfo{Timestamp: fr.Time, CaptureLength: len(fr.Data), Length: len(fr.Data)}, nil
}
func (f *fakeSource) LinkType() int { return 1 }
func (f *fakeSource) Close()        { f.mu.Lock(); f.closed = true; f.mu.Unlock() }

func vncSession() []pcaptest.Frame {
	c := pcaptest.New()
	k := c.TCP("203.0.113.5:40000", "192.168.1.10:5900", time.Millisecond)
	k.Send(false, []byte("RFB 003.008\n"))
	k.Send(true, []byte("RFB 003.008\n"))
	k.Send(false, []byte{1, 1})
	k.Send(true, []byte{1})
	k.Send(false, []byte{0, 0, 0, 0})
	k.Send(true, []byte{1})
	k.Send(false, append([]byte{5, 0, 3, 0x20}, make([]byte, 20)...))
	k.Close()
	return c.Frames
}

func TestRunStop(t *testing.T) {
	src := &fakeSource{frames: vncSession()}
	c, err := New(Config{Interface: "fake0"})
	if err != nil {
		t.Fatal(err)
	}
	c.open = func(Config) (source, error) { return src, nil }
	done := make(chan error)
	go func() { done <- c.Run(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	c.Stop()
	c.Stop() // twice is fine
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after Stop")
	}
	fs := c.Findings()
	if len(fs) != 1 || fs[0].Rule != "network.vnc.session" {
		t.Fatalf("findings %+v", fs)
	}
	if !src.closed || c.Stats().Packets == 0 {
		t.Errorf("closed %v stats %+v", src.closed, c.Stats())
	}
}

func TestPeriodicReport(t *testing.T) {
	// A VNC session that stays open: only the periodic snapshot reports it
	// before Stop.
	frames := vncSession()
	frames = frames[:len(frames)-2] // no FINs
	now := time.Now()
	for i := range frames {
		frames[i].Time = now.Add(-time.Hour)
	}
	got := make(chan int, 100)
	c, _ := New(Config{Interface: "fake0", ReportEvery: 10 * time.Millisecond, Report: func(fs []report.Finding) {
		for _, f := range fs {
			if f.Rule == "network.vnc.session" {
				got <- 1
				return
			}
		}
	}})
	c.open = func(Config) (source, error) { return &fakeSource{frames: frames}, nil }
	done := make(chan error)
	go func() { done <- c.Run(context.Background()) }()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("no periodic report of the open session")
	}
	c.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestStopBeforeRunAndContext(t *testing.T) {
	c, _ := New(Config{Interface: "fake0"})
	opened := false
	c.open = func(Config) (source, error) { opened = true; return &fakeSource{}, nil }
	c.Stop()
	if err := c.Run(context.Background()); err != nil || opened {
		t.Fatalf("Run after Stop: err %v opened %v", err, opened)
	}
	c2, _ := New(Config{Interface: "fake0", CPUBudget: 0.5})
	c2.open = func(Config) (source, error) { return &fakeSource{frames: vncSession()}, nil }
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c2.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestReadErrorKeepsFindings(t *testing.T) {
	boom := errors.New("interface went away")
	c, _ := New(Config{Interface: "fake0"})
	c.open = func(Config) (source, error) { return &fakeSource{frames: vncSession(), fail: boom}, nil }
	err := c.Run(context.Background())
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if len(c.Findings()) != 1 {
		t.Errorf("findings lost: %+v", c.Findings())
	}
	if _, err := New(Config{}); err == nil {
		t.Error("empty interface accepted")
	}
	c3, _ := New(Config{Interface: "fake0"})
	c3.open = func(Config) (source, error) { return nil, ErrUnsupported }
	if err := c3.Run(context.Background()); !errors.Is(err, ErrUnsupported) {
		t.Errorf("open error not returned: %v", err)
	}
}
