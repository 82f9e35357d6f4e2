// Package live captures packets from a network interface and feeds them to
// the traffic engine — the same pipeline `farmwatch-agent pcap` runs
// offline. On Linux it reads an AF_PACKET ring (gopacket's cgo-free
// afpacket); other systems report that live capture is not supported.
//
// A Capture is an actor: Run blocks until its context ends or Stop is
// called, and Stop is safe before Run and more than once. The agent runs it
// through the traffic detector (internal/detect/traffic); Config.Report
// receives periodic snapshots.
package live

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"golang.org/x/net/bpf"

	"github.com/farmwatch/farmwatch/internal/detect/network"
	"github.com/farmwatch/farmwatch/internal/report"
)

// ErrUnsupported is returned by Run where live capture does not exist.
var ErrUnsupported = errors.New("live packet capture is not supported on " + runtime.GOOS)

// errTimeout is what a source returns when no packet arrived in time.
var errTimeout = errors.New("poll timeout")

// Config configures a capture.
type Config struct {
	// Interface to capture on ("eth0"); required.
	Interface string
	// Engine configures the analysis (filter, host, flow bounds).
	Engine network.Config
	// RingBytes sizes the kernel ring (default 8 MiB).
	RingBytes int
	// PollTimeout bounds how long a read waits, and so how fast Stop is
	// noticed (default 200 ms).
	PollTimeout time.Duration
	// CPUBudget is the fraction of one core the analysis may use (0 or ≥ 1
	// means unlimited). Above it the loop pauses and lets the kernel ring
	// absorb (or drop, counted) packets.
	CPUBudget float64
	// ReportEvery, with Report set, hands Report a snapshot of the findings
	// so far (finished flows plus flows open for at least ReportEvery) at
	// this interval, so long sessions are reported while they last. Report
	// runs on the capture goroutine and must return quickly.
	ReportEvery time.Duration
	Report      func([]report.Finding)
}

// source is one OS's packet feed.
type source interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	LinkType() int
	Close()
}

// kernelFilterer is a source that can drop packets in the kernel with a
// classic BPF program (Linux SO_ATTACH_FILTER, macOS BIOCSETF).
type kernelFilterer interface {
	SetKernelFilter(prog []bpf.RawInstruction) error
}

// kernelCompiler is a filter that compiles itself to classic BPF for a
// link type (package filter).
type kernelCompiler interface {
	Kernel(linkType int) ([]bpf.RawInstruction, error)
}

// openSource is the per-OS seam, set by live_linux.go.
var openSource = func(cfg Config) (source, error) { return nil, ErrUnsupported }

// Capture runs one live capture.
type Capture struct {
	cfg      Config
	open     func(Config) (source, error)
	stop     chan struct{}
	stopOnce sync.Once

	mu       sync.Mutex
	findings []report.Finding
	stats    network.Stats
	kernel   bool  // the filter runs in the kernel too
	kernErr  error // why it does not, when a filter was set
}

// New validates cfg.
func New(cfg Config) (*Capture, error) {
	if cfg.Interface == "" {
		return nil, errors.New("live capture: no interface given")
	}
	if cfg.RingBytes <= 0 {
		cfg.RingBytes = 8 << 20
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = 200 * time.Millisecond
	}
	return &Capture{cfg: cfg, open: openSource, stop: make(chan struct{})}, nil
}

// Stop asks Run to return. Safe to call before Run and more than once.
func (c *Capture) Stop() { c.stopOnce.Do(func() { close(c.stop) }) }

// Run captures until ctx ends or Stop is called, then finishes every flow
// and keeps the findings (see Findings). A read error other than a poll
// timeout ends the capture and is returned, with the findings so far kept.
func (c *Capture) Run(ctx context.Context) error {
	select {
	case <-c.stop:
		return nil
	default:
	}
	src, err := c.open(c.cfg)
	if err != nil {
		return fmt.Errorf("live capture on %s: %w", c.cfg.Interface, err)
	}
	defer src.Close()
	e := network.New(c.cfg.Engine)
	link := src.LinkType()
	c.attachKernelFilter(src, link)
	budget := newThrottle(c.cfg.CPUBudget)
	lastReport := time.Now()
	var runErr error
	for n := 0; ; n++ {
		if n&63 == 0 {
			if c.stopped(ctx) {
				break
			}
			if c.cfg.Report != nil && c.cfg.ReportEvery > 0 && time.Since(lastReport) >= c.cfg.ReportEvery {
				lastReport = time.Now()
				c.cfg.Report(e.Snapshot(lastReport, c.cfg.ReportEvery))
			}
		}
		data, ci, err := src.ZeroCopyReadPacketData()
		if err != nil {
			if errors.Is(err, errTimeout) {
				n = -1 // idle: check for stop before the next read
				continue
			}
			runErr = fmt.Errorf("live capture on %s: read: %w", c.cfg.Interface, err)
			break
		}
		start := time.Now()
		e.Packet(ci.Timestamp, link, data)
		budget.spent(start)
	}
	fs := e.Close()
	c.mu.Lock()
	c.findings, c.stats = fs, e.Stats()
	c.mu.Unlock()
	return runErr
}

func (c *Capture) stopped(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	case <-c.stop:
		return true
	default:
		return false
	}
}

// attachKernelFilter also runs the configured filter in the kernel where
// the source and the filter allow it, so unwanted packets are not copied
// to user space at all. The user-space filter still decides; failing to
// attach only costs CPU and is recorded (KernelFilter).
func (c *Capture) attachKernelFilter(src source, link int) {
	kc, ok := c.cfg.Engine.Filter.(kernelCompiler)
	if !ok {
		return
	}
	var err error
	defer func() {
		c.mu.Lock()
		c.kernel, c.kernErr = err == nil, err
		c.mu.Unlock()
	}()
	kf, ok := src.(kernelFilterer)
	if !ok {
		err = errors.New("this capture source has no kernel filter")
		return
	}
	prog, err := kc.Kernel(link)
	if err != nil {
		return
	}
	if prog == nil {
		err = errors.New("empty filter")
		return
	}
	err = kf.SetKernelFilter(prog)
}

// KernelFilter reports whether the last Run's filter also ran in the
// kernel, and if not (with a filter set), why.
func (c *Capture) KernelFilter() (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kernel, c.kernErr
}

// Findings returns what the last Run found.
func (c *Capture) Findings() []report.Finding {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]report.Finding(nil), c.findings...)
}

// Stats returns the last Run's engine counters.
func (c *Capture) Stats() network.Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// throttle keeps analysis time within a fraction of wall time over 100 ms
// windows by sleeping the remainder of a window once its share is spent.
type throttle struct {
	frac        float64
	windowStart time.Time
	busy        time.Duration
}

const throttleWindow = 100 * time.Millisecond

func newThrottle(frac float64) *throttle { return &throttle{frac: frac, windowStart: time.Now()} }

func (t *throttle) spent(start time.Time) {
	if t.frac <= 0 || t.frac >= 1 {
		return
	}
	now := time.Now()
	t.busy += now.Sub(start)
	if now.Sub(t.windowStart) >= throttleWindow {
		t.windowStart, t.busy = now, 0
		return
	}
	if t.busy >= time.Duration(t.frac*float64(throttleWindow)) {
		time.Sleep(t.windowStart.Add(throttleWindow).Sub(now))
		t.windowStart, t.busy = time.Now(), 0
	}
}
