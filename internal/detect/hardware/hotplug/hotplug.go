// Package hotplug watches for hardware being plugged in or removed, so the
// running agent can rescan within seconds of an IP-KVM being attached. On
// Linux it listens to kernel uevents on a NETLINK_KOBJECT_UEVENT socket; the
// message parser is pure and OS-independent. Other OSes have no equivalent
// here: the agent rescans on its poll interval there.
package hotplug

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MaxMessage bounds one uevent message (the kernel's UEVENT_BUFFER_SIZE is
// 2048; leave room).
const MaxMessage = 8192

// Event is one kernel uevent.
type Event struct {
	Action    string // add, remove, change, bind, unbind, move, online, offline
	DevPath   string
	Subsystem string
	DevType   string
	Seq       uint64
	Vars      map[string]string
}

// ErrNotUevent is returned for messages that are not kernel uevents (for
// example udev's "libudev" monitor messages).
var ErrNotUevent = errors.New("hotplug: not a kernel uevent")

// Parse decodes a kernel uevent message: "ACTION@DEVPATH\0KEY=VALUE\0...".
// Values are cut to 512 bytes and control characters replaced, so events
// are safe to log.
func Parse(b []byte) (Event, error) {
	if len(b) > MaxMessage {
		b = b[:MaxMessage]
	}
	if bytes.HasPrefix(b, []byte("libudev\x00")) {
		return Event{}, ErrNotUevent
	}
	parts := bytes.Split(b, []byte{0})
	head := string(parts[0])
	action, devpath, ok := strings.Cut(head, "@")
	if !ok || action == "" || !strings.HasPrefix(devpath, "/") {
		return Event{}, fmt.Errorf("%w: header %q", ErrNotUevent, sanitize(head))
	}
	ev := Event{Action: sanitize(action), DevPath: sanitize(devpath), Vars: map[string]string{}}
	for _, p := range parts[1:] {
		if len(p) == 0 {
			continue
		}
		k, v, ok := strings.Cut(string(p), "=")
		if !ok || k == "" || len(ev.Vars) >= 64 {
			continue
		}
		ev.Vars[sanitize(k)] = sanitize(v)
	}
	if a := ev.Vars["ACTION"]; a != "" {
		ev.Action = a
	}
	if d := ev.Vars["DEVPATH"]; d != "" {
		ev.DevPath = d
	}
	ev.Subsystem = ev.Vars["SUBSYSTEM"]
	ev.DevType = ev.Vars["DEVTYPE"]
	ev.Seq, _ = strconv.ParseUint(ev.Vars["SEQNUM"], 10, 64)
	return ev, nil
}

func sanitize(s string) string {
	if len(s) > 512 {
		s = s[:512]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// Relevant reports whether an event can change what the hardware detector
// sees: USB devices and interfaces, HID and input devices, DRM connectors
// (a monitor or capture device plugged in), and lid switches.
func Relevant(ev Event) bool {
	switch ev.Action {
	case "add", "remove", "change", "bind":
	default:
		return false
	}
	switch ev.Subsystem {
	case "usb", "hid", "input", "drm", "scsi":
		return true
	}
	return false
}

// conn is what the watcher reads messages from (a netlink socket, or a
// fake in tests). Read must return within about readTimeout so Stop and
// context cancellation are noticed.
type conn interface {
	Read(p []byte) (int, error)
	Close() error
}

// errTimeout is returned by a conn whose read timed out without a message.
var errTimeout = errors.New("hotplug: read timeout")

const readTimeout = 250 * time.Millisecond

// Watcher is an actor delivering relevant uevents to a handler. Create it
// with New or NewBatching, start it with Run (blocking) and end it with Stop
// or by cancelling Run's context.
type Watcher struct {
	handler func(Event)
	batch   func([]Event)
	quiet   time.Duration
	maxWait time.Duration
	open    func() (conn, error)
	now     func() time.Time

	mu      sync.Mutex
	stop    chan struct{}
	stopped bool
}

// New returns a watcher calling handler (from Run's goroutine) for every
// relevant event.
func New(handler func(Event)) *Watcher {
	return &Watcher{handler: handler, open: openUevent, now: time.Now, stop: make(chan struct{})}
}

// NewBatching returns a watcher that collects the burst of events one
// plug-in causes (a composite KVM produces dozens) and calls handler once
// per burst: when no event came for quiet, or maxWait after the burst's
// first event, whichever is first. With quiet 300 ms and maxWait 1 s a new
// device is reported within about 1.3 s.
func NewBatching(handler func([]Event), quiet, maxWait time.Duration) *Watcher {
	return &Watcher{batch: handler, quiet: quiet, maxWait: maxWait, open: openUevent, now: time.Now, stop: make(chan struct{})}
}

// Run listens until ctx is done or Stop is called. It returns nil on a
// requested stop and the error that ended it otherwise.
func (w *Watcher) Run(ctx context.Context) error {
	c, err := w.open()
	if err != nil {
		return fmt.Errorf("hotplug: open uevent socket: %w", err)
	}
	defer c.Close()
	buf := make([]byte, MaxMessage)
	var pending []Event
	var first, last time.Time
	flush := func(force bool) {
		if w.batch == nil || len(pending) == 0 {
			return
		}
		now := w.now()
		if force || now.Sub(last) >= w.quiet || now.Sub(first) >= w.maxWait {
			w.batch(pending)
			pending = nil
		}
	}
	for {
		select {
		case <-ctx.Done():
			flush(true)
			return nil
		case <-w.stop:
			flush(true)
			return nil
		default:
		}
		n, err := c.Read(buf)
		if errors.Is(err, errTimeout) {
			flush(false)
			continue
		}
		if err != nil {
			flush(true)
			return fmt.Errorf("hotplug: read uevent: %w", err)
		}
		ev, err := Parse(buf[:n])
		if err != nil || !Relevant(ev) {
			flush(false)
			continue
		}
		if w.batch == nil {
			w.handler(ev)
			continue
		}
		if len(pending) == 0 {
			first = w.now()
		}
		last = w.now()
		if len(pending) < 1024 {
			pending = append(pending, ev)
		}
		flush(false)
	}
}

// Stop asks Run to return; it is safe to call more than once.
func (w *Watcher) Stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.stopped = true
		close(w.stop)
	}
}
