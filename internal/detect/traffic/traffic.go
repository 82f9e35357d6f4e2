// Package traffic is the live side of the traffic engine. In the running
// agent it feeds this host's traffic to the same engine as
// `farmwatch-agent pcap`, in one of two ways:
//
//   - capture (Linux AF_PACKET, macOS BPF devices; both cgo-free) on the
//     interfaces that carry the host's traffic, within a CPU budget —
//     analysis pauses, and the kernel buffer absorbs or drops (counted)
//     packets, when the budget is spent;
//   - connection-table telemetry (Windows, which has no capture driver by
//     default, or mode "connections" anywhere): the OS connection table
//     with per-connection byte counters and RTT, polled.
//
// Either way flows are attributed to the local process that owns them.
// Long sessions are reported while they last. A one-shot `scan` has no
// traffic to look at, so this detector only streams.
package traffic

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/detect/network"
	"github.com/farmwatch/farmwatch/internal/detect/network/filter"
	"github.com/farmwatch/farmwatch/internal/detect/network/live"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/run"
	"github.com/farmwatch/farmwatch/internal/source/hostpath"
	"github.com/farmwatch/farmwatch/internal/source/route"
)

// Name is the detector's id.
const Name = "traffic"

// Settings are detectors.traffic.settings.
type Settings struct {
	// Interfaces to capture on; default: those holding a default route
	// (else every interface that is up and not loopback).
	Interfaces []string `yaml:"interfaces"`
	// CPUBudget is the share of one core the analysis may use (default 0.05).
	CPUBudget float64 `yaml:"cpu_budget"`
	// BPF restricts what is analysed (tcpdump subset, docs/network.md).
	BPF string `yaml:"bpf"`
	// ReportEvery reports open long sessions this often (default 60 s).
	ReportEvery time.Duration `yaml:"report_every"`
	// RingBytes sizes each interface's kernel capture ring (default 2 MiB:
	// the engine keeps only flow state, so a laptop needs little).
	RingBytes int `yaml:"ring_bytes"`
	// Mode is "auto" (capture where the OS allows it, else the connection
	// table: Windows), "capture" or "connections".
	Mode string `yaml:"mode"`
	// PollEvery is the connection-table poll interval (default 5 s).
	PollEvery time.Duration `yaml:"poll_every"`
	// Attribute names the process owning each reported captured flow
	// (default true; asks the OS about that one connection when a finding
	// needs it: Linux sock_diag, else the connection table).
	Attribute *bool `yaml:"attribute"`
	// KernelBypass lets an eBPF program drop the packets of bulk flows
	// the engine has seen enough of in the kernel, counting them instead
	// (default true; Linux with CAP_BPF, and not with `bpf:`).
	KernelBypass *bool `yaml:"kernel_bypass"`
}

// Modes.
const (
	ModeAuto        = "auto"
	ModeCapture     = "capture"
	ModeConnections = "connections"
)

func init() {
	detect.Register(detect.Registration{
		Name:        Name,
		Description: "live traffic: remote control, VPNs, tunnels, proxies and relays on the wire (Linux AF_PACKET, macOS BPF) or in the connection table (Windows), attributed to processes",
		NewSettings: func() any {
			return &Settings{CPUBudget: 0.05, ReportEvery: time.Minute, RingBytes: 2 << 20, Mode: ModeAuto, PollEvery: 5 * time.Second}
		},
		New: func(s any) (detect.Detector, error) { return New(*s.(*Settings)) },
	})
}

// Detector captures live traffic.
type Detector struct {
	s   Settings
	flt network.Filter
}

var (
	_ detect.Detector = (*Detector)(nil)
	_ detect.Streamer = (*Detector)(nil)
)

// New validates settings.
func New(s Settings) (*Detector, error) {
	if s.CPUBudget < 0 || s.CPUBudget > 1 {
		return nil, fmt.Errorf("cpu_budget %v outside 0..1", s.CPUBudget)
	}
	if s.ReportEvery <= 0 {
		s.ReportEvery = time.Minute
	}
	switch s.Mode {
	case "":
		s.Mode = ModeAuto
	case ModeAuto, ModeCapture, ModeConnections:
	default:
		return nil, fmt.Errorf("mode %q: want auto, capture or connections", s.Mode)
	}
	if s.PollEvery <= 0 {
		s.PollEvery = 5 * time.Second
	}
	if s.PollEvery < 500*time.Millisecond {
		return nil, fmt.Errorf("poll_every %v below 500ms", s.PollEvery)
	}
	d := &Detector{s: s}
	if s.BPF != "" {
		f, err := filter.Compile(s.BPF)
		if err != nil {
			return nil, fmt.Errorf("bpf: %w", err)
		}
		d.flt = f
	}
	return d, nil
}

// Detect implements detect.Detector: a one-shot scan has no traffic.
func (d *Detector) Detect(context.Context, detect.Env) ([]report.Finding, error) { return nil, nil }

// Stream analyses live traffic until ctx ends: packet capture on every
// chosen interface, or the connection table where capture is unavailable.
func (d *Detector) Stream(ctx context.Context, env detect.Env, emit func([]report.Finding)) error {
	cfg := network.Config{Host: env.Host, Filter: d.flt, LocalNets: localNets()}
	mode := d.s.Mode
	if mode == ModeAuto {
		mode = ModeCapture
		if !live.Supported {
			mode = ModeConnections
		}
	}
	if mode == ModeConnections {
		return d.observe(ctx, env, cfg, emit)
	}
	if d.s.Attribute == nil || *d.s.Attribute {
		tbl := newConnTable(env.Source, 5*time.Second)
		cfg.Owner = func(proto string, client, server netip.AddrPort, urgent bool) (network.Owner, bool) {
			return tbl.owner(ctx, proto, client, server, urgent)
		}
	}
	ifaces := d.s.Interfaces
	if len(ifaces) == 0 {
		ifaces = defaultInterfaces(env.Source.Root())
	}
	if len(ifaces) == 0 {
		return fmt.Errorf("live capture: no interface to capture on")
	}
	g := run.NewGroup(ctx, env.Logger)
	for _, name := range ifaces {
		c, err := live.New(live.Config{Interface: name, Engine: cfg, RingBytes: d.s.RingBytes, CPUBudget: d.s.CPUBudget, ReportEvery: d.s.ReportEvery, Report: emit, Logger: env.Logger,
			NoBypass: d.s.KernelBypass != nil && !*d.s.KernelBypass})
		if err != nil {
			return err
		}
		g.Go("capture-"+name, func(ctx context.Context) error {
			err := c.Run(ctx)
			emit(c.Findings()) // flows finished at stop
			if err == nil {
				<-ctx.Done() // keep the other captures going
				return ctx.Err()
			}
			return err
		})
		env.Logger.Info("capture_started", zap.String("interface", name), zap.Float64("cpu_budget", d.s.CPUBudget))
	}
	return g.Wait()
}

// defaultInterfaces are the interfaces of default routes (the source
// layer's route reader: Linux /proc/net/route under root, macOS the routing
// table), else every up, non-loopback interface.
func defaultInterfaces(root string) []string {
	if out := route.DefaultInterfaces(hostpath.Root(root)); len(out) > 0 {
		return out
	}
	var out []string
	ifs, _ := net.Interfaces()
	for _, i := range ifs {
		if i.Flags&net.FlagUp != 0 && i.Flags&net.FlagLoopback == 0 {
			out = append(out, i.Name)
		}
	}
	return out
}

// localNets are this host's own addresses: a session whose server is one of
// them is inbound.
func localNets() []netip.Prefix {
	var out []netip.Prefix
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			ad := p.Addr().Unmap()
			out = append(out, netip.PrefixFrom(ad, ad.BitLen()))
		}
	}
	return out
}
