// Package traffic is the live side of the traffic engine: in the running
// agent it captures this host's packets (Linux AF_PACKET, cgo-free) on the
// interfaces that carry its traffic and feeds them to the same engine as
// `farmwatch-agent pcap`, within a CPU budget — analysis pauses, and the
// kernel ring absorbs or drops (counted) packets, when the budget is spent.
// Long sessions are reported while they last. A one-shot `scan` has no
// traffic to look at, so this detector only streams.
package traffic

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/detect/network"
	"github.com/farmwatch/farmwatch/internal/detect/network/filter"
	"github.com/farmwatch/farmwatch/internal/detect/network/live"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/run"
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
}

func init() {
	detect.Register(detect.Registration{
		Name:        Name,
		Description: "live traffic: remote control, VPNs, tunnels, proxies and relays on the wire (Linux AF_PACKET)",
		NewSettings: func() any { return &Settings{CPUBudget: 0.05, ReportEvery: time.Minute, RingBytes: 2 << 20} },
		New:         func(s any) (detect.Detector, error) { return New(*s.(*Settings)) },
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

// Stream captures on every chosen interface until ctx ends.
func (d *Detector) Stream(ctx context.Context, env detect.Env, emit func([]report.Finding)) error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("live capture: %w", live.ErrUnsupported)
	}
	ifaces := d.s.Interfaces
	if len(ifaces) == 0 {
		ifaces = defaultInterfaces(env.Source.Root())
	}
	if len(ifaces) == 0 {
		return fmt.Errorf("live capture: no interface to capture on")
	}
	cfg := network.Config{Host: env.Host, Filter: d.flt, LocalNets: localNets()}
	g := run.NewGroup(ctx, env.Logger)
	for _, name := range ifaces {
		c, err := live.New(live.Config{Interface: name, Engine: cfg, RingBytes: d.s.RingBytes, CPUBudget: d.s.CPUBudget, ReportEvery: d.s.ReportEvery, Report: emit})
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

// defaultInterfaces are the interfaces of default routes (Linux
// /proc/net/route), else every up, non-loopback interface.
func defaultInterfaces(root string) []string {
	var out []string
	if b, err := os.ReadFile(filepath.Join(root, "proc/net/route")); err == nil {
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) > 2 && f[1] == "00000000" && !contains(out, f[0]) {
				out = append(out, f[0])
			}
		}
	}
	if len(out) > 0 {
		return out
	}
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

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
