// Package lan is farmwatch's LAN detector: it looks at the network around
// the laptop for IP-KVMs and for the density of a laptop farm. Passive by
// default: the ARP / neighbour table (MAC OUIs of Raspberry Pi, GL.iNet and
// other KVM makers) and mDNS/DNS-SD announcements heard on UDP 5353 during
// a bounded window (with one PTR query to the local multicast group). An
// opt-in active check fetches the web UI title and TLS certificate subject
// of neighbours that look like KVMs, on private addresses of this host's own
// subnets only. Office networks named in config keep it quiet. See
// docs/lan.md.
package lan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

// Name is the detector's registry name.
const Name = "lan"

// Snapshot files.
const (
	FileProcARP   = "proc/net/arp"
	FileNeighbors = "neighbors.json"
	FileMDNS      = "mdns.json"
	FileAddresses = "lan-addresses.json"
)

// Settings configure the detector (config key "lan").
type Settings struct {
	// ListenSeconds is how long each run listens for mDNS (0 disables
	// listening). Default 3.
	ListenSeconds float64 `yaml:"listen_seconds"`
	// Query sends one mDNS PTR query to the local multicast group at the
	// start of the window, so devices answer now. Default true.
	Query bool `yaml:"query"`
	// ActiveCheck fetches the web UI title / TLS certificate of neighbours
	// that look like KVMs. Default false.
	ActiveCheck bool `yaml:"active_check"`
	// ActiveMaxTargets bounds the hosts probed per run. Default 8.
	ActiveMaxTargets int `yaml:"active_max_targets"`
	// ActiveTimeoutSeconds bounds each HTTP(S) request. Default 3.
	ActiveTimeoutSeconds float64 `yaml:"active_timeout_seconds"`
	// ActivePorts are the TCP ports tried ("https" on 443, "http" on
	// others). Default [443, 80].
	ActivePorts []int `yaml:"active_ports"`
	// OfficeNetworks are CIDRs of office LANs: when this host has an
	// address in one, the detector reports nothing.
	OfficeNetworks []string `yaml:"office_networks"`
	// DensityMinLaptops: neighbours with laptop-maker OUIs on one small
	// LAN at which farm density is reported (low; medium at twice).
	// Default 8.
	DensityMinLaptops int `yaml:"density_min_laptops"`
	// DensityMinNameSchemes: distinct host-naming schemes heard over mDNS
	// at which farm density is reported. Default 6.
	DensityMinNameSchemes int `yaml:"density_min_name_schemes"`
	// SmallLANPrefix: subnets at least this long (IPv4 prefix bits) are
	// "small" LANs for density. Default 22.
	SmallLANPrefix int `yaml:"small_lan_prefix"`
}

// DefaultSettings returns the defaults.
func DefaultSettings() Settings {
	return Settings{
		ListenSeconds: 3, Query: true, ActiveMaxTargets: 8, ActiveTimeoutSeconds: 3,
		ActivePorts: []int{443, 80}, DensityMinLaptops: 8, DensityMinNameSchemes: 6, SmallLANPrefix: 22,
	}
}

func init() {
	detect.Register(detect.Registration{
		Name:           Name,
		Description:    "IP-KVMs and laptop-farm density on the local network: ARP/neighbour OUIs, mDNS announcements, opt-in web UI check",
		DefaultTimeout: 45 * time.Second,
		NewSettings:    func() any { s := DefaultSettings(); return &s },
		New:            func(s any) (detect.Detector, error) { return New(*s.(*Settings)) },
		Collect:        Collect,
	})
}

// Detector is the LAN detector.
type Detector struct {
	settings Settings
	office   []netip.Prefix
	// fetch is the active check (replaced in tests).
	fetch func(ctx context.Context, ip string) []WebUI
}

var _ detect.Detector = (*Detector)(nil)

// New builds a detector, validating the settings.
func New(s Settings) (*Detector, error) {
	d := &Detector{settings: s}
	for _, c := range s.OfficeNetworks {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			return nil, fmt.Errorf("lan: office_networks: %w", err)
		}
		d.office = append(d.office, p.Masked())
	}
	if s.ListenSeconds < 0 || s.ListenSeconds > 30 {
		return nil, fmt.Errorf("lan: listen_seconds must be within 0..30")
	}
	if d.settings.ActiveMaxTargets <= 0 {
		d.settings.ActiveMaxTargets = 8
	}
	if d.settings.ActiveTimeoutSeconds <= 0 {
		d.settings.ActiveTimeoutSeconds = 3
	}
	if len(d.settings.ActivePorts) == 0 {
		d.settings.ActivePorts = []int{443, 80}
	}
	for _, p := range d.settings.ActivePorts {
		if p <= 0 || p > 65535 {
			return nil, fmt.Errorf("lan: active_ports: %d is not a port", p)
		}
	}
	timeout := time.Duration(d.settings.ActiveTimeoutSeconds * float64(time.Second))
	ports := d.settings.ActivePorts
	d.fetch = func(ctx context.Context, ip string) []WebUI { return fetchWebUI(ctx, ip, ports, timeout) }
	return d, nil
}

// View is everything the detector read.
type View struct {
	Neighbors []Neighbor
	Heard     []Heard
	// Addresses are this host's interface addresses as prefixes.
	Addresses []string
}

// Detect implements detect.Detector.
func (d *Detector) Detect(ctx context.Context, env detect.Env) ([]report.Finding, error) {
	log := env.Logger
	if log == nil {
		log = zap.NewNop()
	}
	src := env.Source
	var v *View
	var err error
	if src.Snapshot() {
		v, err = readSnapshot(src.Root())
	} else {
		v, err = d.readLive(ctx, src)
	}
	if v == nil {
		return nil, err
	}
	if err != nil {
		log.Warn("lan_partial", zap.Error(err))
	}
	locals := parsePrefixes(v.Addresses)
	if d.inOffice(locals) {
		log.Debug("lan_office_network")
		return nil, nil
	}
	var webs map[string][]WebUI
	if d.settings.ActiveCheck && !src.Snapshot() {
		webs = d.activeCheck(ctx, v, locals, log)
	}
	return decide(env.Host.ID, v, webs, &d.settings), nil
}

// inOffice reports whether any local address is in an office network.
func (d *Detector) inOffice(locals []netip.Prefix) bool {
	for _, l := range locals {
		for _, o := range d.office {
			if o.Contains(l.Addr()) {
				return true
			}
		}
	}
	return false
}

func parsePrefixes(ss []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-unmapBits(p.Addr())))
		} else if a, err := netip.ParseAddr(s); err == nil {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out
}

func unmapBits(a netip.Addr) int {
	if a.Is4In6() {
		return 96
	}
	return 0
}

// readLive reads this host: the per-OS neighbour table, its addresses, and
// what mDNS says during the window.
func (d *Detector) readLive(ctx context.Context, src source.Source) (*View, error) {
	v := &View{}
	var errs []error
	ns, err := liveNeighbors(ctx, src.Root())
	errs = append(errs, err)
	v.Neighbors = ns
	v.Addresses, err = localAddresses()
	errs = append(errs, err)
	if d.settings.ListenSeconds > 0 {
		window := time.Duration(d.settings.ListenSeconds * float64(time.Second))
		h, err := listenMDNS(ctx, window, d.settings.Query)
		errs = append(errs, err)
		v.Heard = h
	}
	return v, errors.Join(errs...)
}

// localAddresses lists this host's interface addresses as prefixes.
func localAddresses() ([]string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, i := range ifs {
		if i.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			out = append(out, a.String())
		}
	}
	return out, nil
}

// readSnapshot reads the files Collect wrote.
func readSnapshot(root string) (*View, error) {
	v := &View{}
	var errs []error
	if b, err := readFileLimited(filepath.Join(root, FileProcARP)); err != nil {
		errs = append(errs, err)
	} else {
		v.Neighbors = append(v.Neighbors, parseProcARP(b)...)
	}
	if b, err := readFileLimited(filepath.Join(root, FileNeighbors)); err != nil {
		errs = append(errs, err)
	} else if ns, err := parseNeighborsJSON(b); err != nil {
		errs = append(errs, err)
	} else {
		v.Neighbors = append(v.Neighbors, ns...)
	}
	if b, err := readFileLimited(filepath.Join(root, FileMDNS)); err != nil {
		errs = append(errs, err)
	} else if len(b) > 0 {
		var hs []Heard
		if err := source.DecodeJSON(FileMDNS, b, &hs); err != nil {
			errs = append(errs, err)
		}
		v.Heard = sanitizeHeard(hs)
	}
	if b, err := readFileLimited(filepath.Join(root, FileAddresses)); err != nil {
		errs = append(errs, err)
	} else if len(b) > 0 {
		if err := source.DecodeJSON(FileAddresses, b, &v.Addresses); err != nil {
			errs = append(errs, err)
		}
	}
	return v, errors.Join(errs...)
}

// sanitizeHeard re-cleans what a snapshot claims was heard.
func sanitizeHeard(hs []Heard) []Heard {
	m := map[string]*Heard{}
	for _, h := range hs {
		from := normIP(h.From)
		if from == "" {
			continue
		}
		r := mdnsRecords{}
		for _, s := range h.Names {
			r.Names = append(r.Names, clean(s))
		}
		for _, s := range h.Services {
			r.Services = append(r.Services, clean(s))
		}
		for _, s := range h.Hosts {
			r.Hosts = append(r.Hosts, clean(s))
		}
		for _, s := range h.Addrs {
			r.Addrs = append(r.Addrs, normIP(s))
		}
		heardFrom(m, from, r)
	}
	return sortedHeard(m)
}

// readFileLimited reads a file of at most maxSmallFile bytes; a missing
// file is (nil, nil).
func readFileLimited(p string) ([]byte, error) { return source.ReadOptionalFile(p, maxSmallFile) }

// Collect records the raw sources: a copy of /proc/net/arp (Linux), the
// neighbour table as neighbors.json (Windows, macOS; IPv6 on Linux), this
// host's addresses, and mdns.json of what was heard in a default window.
func Collect(ctx context.Context, src source.Source, dir string) error {
	var errs []error
	if err := collectNeighbors(ctx, src.Root(), dir); err != nil {
		errs = append(errs, err)
	}
	addrs, err := localAddresses()
	errs = append(errs, err)
	if addrs == nil {
		addrs = []string{}
	}
	errs = append(errs, source.WriteJSONFile(filepath.Join(dir, FileAddresses), addrs))
	hs, err := listenMDNS(ctx, time.Duration(DefaultSettings().ListenSeconds*float64(time.Second)), true)
	errs = append(errs, err)
	if hs == nil {
		hs = []Heard{}
	}
	errs = append(errs, source.WriteJSONFile(filepath.Join(dir, FileMDNS), hs))
	return errors.Join(errs...)
}

// device is one neighbour as the decision sees it, keyed by IP.
type device struct {
	ip, mac  string
	otherIPs []string
	iface    string
	oui      ouiInfo
	ouiKnown bool
	heard    *Heard
	webs     []WebUI
}

// kvmCandidates returns the IPs of devices that look like KVMs (KVM-maker
// OUI or an mDNS name naming one), sorted.
func kvmCandidates(v *View) []string {
	var out []string
	for _, d := range devices(v) {
		if (d.ouiKnown && d.oui.Kind == "kvm") || (d.heard != nil && heardTool(d.heard) != "") {
			out = append(out, d.ip)
		}
	}
	return out
}

// devices joins neighbours and mDNS responders: one device per MAC (its
// IPv4 address first, other addresses in otherIPs), responders by IP.
func devices(v *View) []*device {
	byIP := map[string]*device{}
	byMAC := map[string]*device{}
	var all []*device
	ns := append([]Neighbor(nil), v.Neighbors...)
	sort.SliceStable(ns, func(i, j int) bool { return is4(ns[i].IP) && !is4(ns[j].IP) })
	for _, n := range ns {
		if _, dup := byIP[n.IP]; dup {
			continue
		}
		if d, ok := byMAC[n.MAC]; ok {
			d.otherIPs = append(d.otherIPs, n.IP)
			byIP[n.IP] = d
			continue
		}
		d := &device{ip: n.IP, mac: n.MAC, iface: n.Interface}
		d.oui, d.ouiKnown = lookupOUI(n.MAC)
		byIP[n.IP], byMAC[n.MAC] = d, d
		all = append(all, d)
	}
	for i := range v.Heard {
		h := &v.Heard[i]
		if h.From == "" {
			continue
		}
		d, ok := byIP[h.From]
		if !ok {
			d = &device{ip: h.From}
			byIP[h.From] = d
			all = append(all, d)
		}
		if d.heard == nil {
			d.heard = h
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ip < all[j].ip })
	return all
}

func is4(ip string) bool {
	a, err := netip.ParseAddr(ip)
	return err == nil && a.Is4()
}

// heardTool returns the KVM tool an mDNS responder's names or services
// name, "" when none.
func heardTool(h *Heard) string {
	for _, list := range [][]string{h.Services, h.Names, h.Hosts} {
		for _, s := range list {
			if t := kvmTool(s); t != "" {
				return t
			}
		}
	}
	return ""
}
