package hotplug

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/testenv"
)

const usbAdd = "add@/devices/pci0000:00/0000:00:14.0/usb1/1-1\x00ACTION=add\x00DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-1\x00SUBSYSTEM=usb\x00MAJOR=189\x00MINOR=1\x00DEVNAME=bus/usb/001/002\x00DEVTYPE=usb_device\x00PRODUCT=1d6b/104/100\x00TYPE=0/0/0\x00BUSNUM=001\x00DEVNUM=002\x00SEQNUM=4711\x00"

func TestParse(t *testing.T) {
	ev, err := Parse([]byte(usbAdd))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Action != "add" || ev.Subsystem != "usb" || ev.DevType != "usb_device" || ev.Seq != 4711 ||
		ev.DevPath != "/devices/pci0000:00/0000:00:14.0/usb1/1-1" || ev.Vars["PRODUCT"] != "1d6b/104/100" || !Relevant(ev) {
		t.Fatalf("%+v", ev)
	}
	drm, err := Parse([]byte("change@/devices/pci0000:00/0000:00:02.0/drm/card1\x00ACTION=change\x00SUBSYSTEM=drm\x00HOTPLUG=1\x00SEQNUM=9\x00"))
	if err != nil || !Relevant(drm) || drm.Vars["HOTPLUG"] != "1" {
		t.Fatalf("%v %+v", err, drm)
	}
	net, _ := Parse([]byte("add@/devices/virtual/net/veth0\x00ACTION=add\x00SUBSYSTEM=net\x00"))
	if Relevant(net) {
		t.Fatal("net event relevant")
	}
	if _, err := Parse([]byte("libudev\x00\xfe\xed\xca\xfe")); !errors.Is(err, ErrNotUevent) {
		t.Fatalf("udev message: %v", err)
	}
	for _, bad := range []string{"", "\x00\x00", "add", "@/x", "add@relative"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	hostile, err := Parse([]byte("add@/devices/x\x1b[2J\x00SUBSYSTEM=usb\x00PRODUCT=" + strings.Repeat("A", 100000)))
	if err != nil || strings.ContainsRune(hostile.DevPath, 0x1b) || len(hostile.Vars["PRODUCT"]) > 512 {
		t.Fatalf("hostile: %v %q", err, hostile.DevPath)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(usbAdd))
	f.Add([]byte("remove@/devices/x\x00ACTION=remove\x00SUBSYSTEM=hid\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := Parse(b)
		if err == nil && len(ev.Vars) > 64 {
			t.Fatal("unbounded vars")
		}
	})
}

// fakeConn delivers queued messages, then times out.
type fakeConn struct {
	mu     sync.Mutex
	msgs   []string
	closed bool
}

func (c *fakeConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.msgs) == 0 {
		time.Sleep(5 * time.Millisecond)
		return 0, errTimeout
	}
	m := c.msgs[0]
	c.msgs = c.msgs[1:]
	return copy(p, m), nil
}

func (c *fakeConn) Close() error { c.mu.Lock(); c.closed = true; c.mu.Unlock(); return nil }

func TestWatcherActor(t *testing.T) {
	fc := &fakeConn{msgs: []string{"garbage", "add@/devices/virtual/net/x\x00SUBSYSTEM=net\x00", usbAdd}}
	got := make(chan Event, 4)
	w := New(func(ev Event) { got <- ev })
	w.open = func() (conn, error) { return fc, nil }
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	select {
	case ev := <-got:
		if ev.Subsystem != "usb" || ev.Action != "add" {
			t.Fatalf("%+v", ev)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no event within 2 s")
	}
	w.Stop()
	w.Stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return after Stop")
	}
	if !fc.closed || len(got) != 0 {
		t.Fatal("socket not closed or irrelevant events delivered")
	}
	// Cancelling the context ends Run too; a read error is returned.
	ctx, cancel := context.WithCancel(context.Background())
	w2 := New(func(Event) {})
	w2.open = func() (conn, error) { return &fakeConn{}, nil }
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if err := w2.Run(ctx); err != nil {
		t.Fatal(err)
	}
	w3 := New(func(Event) {})
	w3.open = func() (conn, error) { return nil, errors.New("no netlink") }
	if err := w3.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "open uevent socket") {
		t.Fatalf("open error: %v", err)
	}
}

// TestNetlinkLifecycle opens the real uevent socket where the OS allows it.
func TestNetlinkLifecycle(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("netlink uevents are Linux-only")
	}
	c, err := openUevent()
	if err != nil {
		testenv.Missing(t, "uevent socket unavailable in this environment: %v", err)
	}
	c.Close()
	w := New(func(Event) {})
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	w.Stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not stop within 2 s")
	}
}

// TestBatching: a plug-in burst is delivered once, after the quiet period,
// within the 2-second budget; a new burst later is a new batch.
func TestBatching(t *testing.T) {
	burst := []string{usbAdd}
	for i := 0; i < 20; i++ {
		burst = append(burst, fmt.Sprintf("add@/devices/x/1-1:1.%d\x00ACTION=add\x00SUBSYSTEM=usb\x00DEVTYPE=usb_interface\x00", i%4))
	}
	fc := &fakeConn{msgs: burst}
	batches := make(chan []Event, 4)
	w := NewBatching(func(evs []Event) { batches <- evs }, 100*time.Millisecond, time.Second)
	w.open = func() (conn, error) { return fc, nil }
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	select {
	case evs := <-batches:
		if len(evs) != 21 || evs[0].Seq != 4711 {
			t.Fatalf("batch of %d", len(evs))
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("batch after %v", d)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no batch")
	}
	fc.mu.Lock()
	fc.msgs = append(fc.msgs, "remove@/devices/x/1-1\x00ACTION=remove\x00SUBSYSTEM=usb\x00")
	fc.mu.Unlock()
	select {
	case evs := <-batches:
		if len(evs) != 1 || evs[0].Action != "remove" {
			t.Fatalf("second batch %+v", evs)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no second batch")
	}
	w.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
