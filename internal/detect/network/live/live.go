// Package live captures packets from a network interface and feeds them to
// the traffic engine — the same pipeline `farmwatch-agent pcap` runs
// offline. On Linux it reads an AF_PACKET ring (gopacket's cgo-free
// afpacket); other systems report that live capture is not supported.
//
// A Capture is an actor: Run blocks until its context ends or Stop is
// called, and Stop is safe before Run and more than once. The agent runs it
// through the traffic detector (internal/detect/traffic); Config.Report
// receives high findings as soon as they are evident and periodic
// snapshots.
//
// The capture costs little: a classic BPF program on the socket (always
// attached, the user's `bpf:` filter compiled into it) has the kernel copy
// at most network.SnapLen bytes of a frame, the engine counts lengths from
// the IP headers, and a budget holds the capture thread's own CPU time to
// its share of a core, pausing in slices far shorter than the ring's
// buffer time. What the kernel dropped or froze is read every second,
// logged when it starts and carried in heartbeats (Running).
package live

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"go.uber.org/zap"
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
	// SnapLen caps the bytes the kernel copies of each frame (default
	// network.SnapLen; negative: whole frames).
	SnapLen int
	// Logger receives capture events: kernel drops starting, counters at
	// stop (default: none).
	Logger *zap.Logger
	// NoBypass keeps every packet of every flow coming to user space. By
	// default (Linux, with CAP_BPF and no `bpf:` filter) an eBPF program
	// drops the packets of bulk flows the engine has seen enough of in the
	// kernel and counts them instead (network.Bypass).
	NoBypass bool
}

// bypassHandle is a loaded kernel bypass.
type bypassHandle interface {
	network.Bypass
	Close()
}

// bypasser is a source that can attach a kernel bypass program in place
// of the classic one (Linux).
type bypasser interface {
	// AttachBypass attaches the bypass with the classic program pre (the
	// compiled bpf: filter; nil: none) running first in it.
	AttachBypass(link, snap int, pre []bpf.RawInstruction) (bypassHandle, error)
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

// kernelStatser is a source that reports the kernel's counters: packets
// received, dropped for lack of ring space, and ring freezes (Linux
// PACKET_STATISTICS tp_packets/tp_drops/tp_freeze_q_cnt; macOS BIOCGSTATS).
type kernelStatser interface {
	KernelStats() (packets, drops, freezes uint64, err error)
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
	snap     bool  // the kernel caps the bytes copied
	bypass   bool  // the kernel bypass program is attached
	byErr    error // why not
	ctr      report.CaptureStats
}

// running holds the captures now in Run, for Running.
var running sync.Map // *Capture → struct{}

// Running returns the counters of every capture now running, by interface
// (the agent puts them in its heartbeats).
func Running() []report.CaptureStats {
	var out []report.CaptureStats
	running.Range(func(k, _ any) bool {
		out = append(out, k.(*Capture).Counters())
		return true
	})
	return out
}

// Counters returns what the capture saw and missed so far (the last Run's
// once it returned).
func (c *Capture) Counters() report.CaptureStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ctr
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
	if cfg.SnapLen == 0 {
		cfg.SnapLen = network.SnapLen
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
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
	// The budget reads this thread's CPU clock: keep the loop on it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	running.Store(c, struct{}{})
	defer running.Delete(c)
	link := src.LinkType()
	c.attachKernelFilter(src, link)
	ecfg := c.cfg.Engine
	if bp := c.attachBypass(src, link); bp != nil {
		defer bp.Close()
		ecfg.Bypass = bp
	}
	e := network.New(ecfg)
	budget := newThrottle(c.cfg.CPUBudget, pauseSlice(c.cfg.RingBytes), threadCPU)
	ctr := report.CaptureStats{Interface: c.cfg.Interface}
	cpu0, _ := threadCPU()
	now := time.Now()
	lastReport, lastSecond := now, now
	var lastDropLog time.Time
	var loggedDrops uint64
	second := func(now time.Time) {
		if ks, ok := src.(kernelStatser); ok {
			if p, d, f, err := ks.KernelStats(); err == nil {
				ctr.KernelPackets, ctr.KernelDrops, ctr.KernelFreezes = p, d, f
			}
		}
		if ctr.KernelDrops > loggedDrops && (loggedDrops == 0 || now.Sub(lastDropLog) >= time.Minute) {
			msg := "capture_drops"
			if loggedDrops == 0 {
				msg = "capture_drops_started"
			}
			c.cfg.Logger.Warn(msg, zap.String("interface", c.cfg.Interface), zap.Uint64("kernel_drops", ctr.KernelDrops),
				zap.Uint64("kernel_packets", ctr.KernelPackets), zap.Uint64("kernel_freezes", ctr.KernelFreezes),
				zap.Uint64("pauses", budget.pauses), zap.Int("ring_bytes", c.cfg.RingBytes))
			loggedDrops, lastDropLog = ctr.KernelDrops, now
		}
		ctr.Pauses, ctr.PausedSeconds = budget.pauses, budget.paused.Seconds()
		ctr.KernelSnap, ctr.KernelBypass, ctr.BypassedFlows = c.snap, c.bypass, e.Stats().Bypassed
		if cpu, ok := threadCPU(); ok {
			ctr.ThreadCPUSeconds = (cpu - cpu0).Seconds()
		}
		c.mu.Lock()
		c.ctr = ctr
		c.mu.Unlock()
		e.Bypass()
		if c.cfg.Report != nil {
			if fs := e.Evident(now); len(fs) > 0 {
				ctr.Early += uint64(len(fs))
				c.cfg.Report(fs)
			}
		}
	}
	var runErr error
	for n := 0; ; n++ {
		if n&63 == 0 {
			if c.stopped(ctx) {
				break
			}
			budget.check()
			if e.BypassDue() {
				e.Bypass()
			}
			now := time.Now()
			if now.Sub(lastSecond) >= time.Second {
				lastSecond = now
				second(now)
			}
			if c.cfg.Report != nil && c.cfg.ReportEvery > 0 && now.Sub(lastReport) >= c.cfg.ReportEvery {
				lastReport = now
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
		ctr.Packets++
		e.Packet(ci.Timestamp, link, data)
	}
	second(time.Now())
	fs := e.Close()
	c.mu.Lock()
	c.findings, c.stats = fs, e.Stats()
	c.ctr = ctr
	c.mu.Unlock()
	c.cfg.Logger.Info("capture_stopped", zap.String("interface", c.cfg.Interface), zap.Uint64("packets", ctr.Packets),
		zap.Uint64("kernel_packets", ctr.KernelPackets), zap.Uint64("kernel_drops", ctr.KernelDrops),
		zap.Uint64("kernel_freezes", ctr.KernelFreezes), zap.Uint64("pauses", ctr.Pauses),
		zap.Float64("paused_s", ctr.PausedSeconds), zap.Float64("thread_cpu_s", ctr.ThreadCPUSeconds),
		zap.Uint64("early_findings", ctr.Early), zap.Bool("kernel_snap", c.snap),
		zap.Bool("kernel_bypass", c.bypass), zap.Uint64("bypassed_flows", c.stats.Bypassed))
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

// attachKernelFilter attaches the kernel program: the configured filter
// where the filter and source allow it, so unwanted packets are not copied
// to user space at all, with every accepting return capped at SnapLen so
// accepted packets are copied only as far as the engine reads them; with
// no filter, a program that only caps. The user-space filter still
// decides; failing to attach only costs CPU and is recorded (KernelFilter).
func (c *Capture) attachKernelFilter(src source, link int) {
	kf, ok := src.(kernelFilterer)
	kc, filtered := c.cfg.Engine.Filter.(kernelCompiler)
	var prog []bpf.RawInstruction
	var err error
	defer func() {
		c.mu.Lock()
		c.kernel, c.kernErr = filtered && err == nil, err
		c.mu.Unlock()
	}()
	if !ok {
		if filtered {
			err = errors.New("this capture source has no kernel filter")
		}
		return
	}
	if filtered {
		if prog, err = kc.Kernel(link); err == nil && prog == nil {
			err = errors.New("empty filter")
		}
		if err != nil {
			prog = nil // still cap the copy
		}
	}
	if c.cfg.SnapLen < 0 && prog == nil {
		return
	}
	capped := capProgram(prog, c.cfg.SnapLen)
	aerr := kf.SetKernelFilter(capped)
	c.mu.Lock()
	c.snap = aerr == nil && c.cfg.SnapLen > 0
	c.mu.Unlock()
	if aerr != nil {
		if prog != nil {
			err = aerr
		}
		c.cfg.Logger.Warn("capture_kernel_program_refused", zap.String("interface", c.cfg.Interface), zap.Error(aerr))
	}
}

// attachBypass loads and attaches the kernel bypass where it can (see
// Config.NoBypass), replacing the classic program, and returns it; nil
// leaves the classic program (snap cap, folded filter) in place, with the
// reason logged and kept (KernelBypass).
func (c *Capture) attachBypass(src source, link int) bypassHandle {
	var err error
	var h bypassHandle
	defer func() {
		c.mu.Lock()
		c.bypass, c.byErr = h != nil, err
		c.mu.Unlock()
		if err != nil && !c.cfg.NoBypass {
			c.cfg.Logger.Info("capture_bypass_off", zap.String("interface", c.cfg.Interface), zap.Error(err))
		}
	}()
	b, ok := src.(bypasser)
	switch {
	case c.cfg.NoBypass:
		err = errors.New("turned off")
		return nil
	case !ok:
		err = errors.New("this capture source has no kernel bypass")
		return nil
	}
	var pre []bpf.RawInstruction
	if c.cfg.Engine.Filter != nil {
		// A socket holds one program: the bpf: filter runs first in the
		// bypass, or, where it cannot, the classic filter stays.
		kc, ok := c.cfg.Engine.Filter.(kernelCompiler)
		if !ok {
			err = errors.New("the bpf: filter has no kernel form")
			return nil
		}
		if pre, err = kc.Kernel(link); err != nil || pre == nil {
			err = fmt.Errorf("the bpf: filter has no kernel form: %v", err)
			return nil
		}
	}
	h, err = b.AttachBypass(link, c.cfg.SnapLen, pre)
	return h
}

// KernelBypass reports whether the last Run attached the kernel bypass,
// and if not, why.
func (c *Capture) KernelBypass() (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bypass, c.byErr
}

// capProgram returns prog (nil: accept everything) with every return of a
// non-zero length lowered to snap, so the kernel copies at most snap bytes
// of an accepted packet. snap ≤ 0 leaves the lengths alone.
func capProgram(prog []bpf.RawInstruction, snap int) []bpf.RawInstruction {
	const retK = 0x06 // BPF_RET | BPF_K
	if prog == nil {
		k := uint32(1 << 18)
		if snap > 0 {
			k = uint32(snap)
		}
		return []bpf.RawInstruction{{Op: retK, K: k}}
	}
	out := append([]bpf.RawInstruction(nil), prog...)
	if snap <= 0 {
		return out
	}
	for i := range out {
		if out[i].Op == retK && out[i].K > uint32(snap) {
			out[i].K = uint32(snap)
		}
	}
	return out
}

// KernelSnap reports whether the last Run's kernel program caps the bytes
// copied per frame.
func (c *Capture) KernelSnap() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snap
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

// throttle holds the capture thread's CPU time to a fraction of wall
// time. It reads the thread's own CPU clock (cpu), so preemption and
// waiting do not count as work, allows a burst of one window's share, and
// once the thread is over its share it pauses for at most slice — much
// less than the ring holds — so the kernel keeps buffering rather than
// dropping; the next check pauses again if the debt remains.
type throttle struct {
	frac   float64
	slice  time.Duration
	cpu    func() (time.Duration, bool)
	wall0  time.Time
	cpu0   time.Duration
	pauses uint64
	paused time.Duration
	sleep  func(time.Duration)
}

const throttleWindow = 100 * time.Millisecond

func newThrottle(frac float64, slice time.Duration, cpu func() (time.Duration, bool)) *throttle {
	t := &throttle{frac: frac, slice: slice, cpu: cpu, wall0: time.Now(), sleep: time.Sleep}
	if c, ok := cpu(); ok {
		t.cpu0 = c
	} else {
		t.frac = 0 // no thread clock here: no budget
	}
	return t
}

// check pauses once if the thread is over its share.
func (t *throttle) check() {
	if t.frac <= 0 || t.frac >= 1 {
		return
	}
	c, ok := t.cpu()
	if !ok {
		return
	}
	now := time.Now()
	elapsed := now.Sub(t.wall0)
	used := c - t.cpu0
	allowed := time.Duration(t.frac * float64(elapsed+throttleWindow))
	if elapsed >= throttleWindow {
		// Start a new window, carrying any debt over.
		debt := max(used-time.Duration(t.frac*float64(elapsed)), 0)
		t.wall0, t.cpu0 = now, c-debt
	}
	if used <= allowed {
		return
	}
	d := min(time.Duration(float64(used-allowed)/t.frac), t.slice)
	t.pauses++
	t.paused += d
	t.sleep(d)
}

// pauseSlice is the longest budget pause for a ring of ringBytes: an
// eighth of the time the ring lasts at 1 Gbit/s of 1500-byte frames
// (~150 MB/s of frames and ring headers), between 1 and 10 ms.
func pauseSlice(ringBytes int) time.Duration {
	d := time.Duration(float64(ringBytes) / 150e6 * float64(time.Second) / 8)
	return min(max(d, time.Millisecond), 10*time.Millisecond)
}
