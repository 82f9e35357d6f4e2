// Package tunnel is farmwatch's tunnel detector: it reports what makes this
// host a hop in someone else's path or puts its traffic through someone
// else's: VPN and overlay interfaces (tun/tap/utun/Wintun/TAP-Windows,
// WireGuard, Tailscale, ZeroTier, NetBird, OpenVPN, Astrill VPN) and
// whether the default route goes through one; system and package-manager
// proxy settings; local relays listening for others (socat/ncat, ssh -D/-L
// and sshd remote-forward listeners, SOCKS/HTTP proxies, chisel/frp servers,
// Windows portproxy rules, IP forwarding); and tunnel clients (ngrok,
// cloudflared, VS Code tunnels, frpc, chisel, bore, zrok) with what they
// expose. The remoteaccess detector already reports that such tools run;
// this one adds the network facts and command-line details. See
// docs/tunnel.md.
package tunnel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

// Name is the detector's registry name.
const Name = "tunnel"

// Settings configure the detector (config key "tunnel").
type Settings struct {
	// IgnoreInterfaces are interface names never reported (a corporate VPN
	// adapter, for example).
	IgnoreInterfaces []string `yaml:"ignore_interfaces"`
	// ReportDownInterfaces reports VPN adapters that exist but are down, at
	// info. Default true.
	ReportDownInterfaces bool `yaml:"report_down_interfaces"`
}

func init() {
	detect.Register(detect.Registration{
		Name:           Name,
		Description:    "VPN/overlay interfaces and default route, proxy settings, local relays listening for others, tunnel clients",
		DefaultTimeout: 20 * time.Second,
		NewSettings:    func() any { return &Settings{ReportDownInterfaces: true} },
		New:            func(s any) (detect.Detector, error) { return New(*s.(*Settings)) },
		Collect:        Collect,
	})
}

// Detector is the tunnel detector.
type Detector struct{ settings Settings }

var _ detect.Detector = (*Detector)(nil)

// New builds a detector.
func New(s Settings) (*Detector, error) { return &Detector{settings: s}, nil }

// Detect implements detect.Detector.
func (d *Detector) Detect(ctx context.Context, env detect.Env) ([]report.Finding, error) {
	src := env.Source
	log := env.Logger
	if log == nil {
		log = zap.NewNop()
	}
	procs, perr := src.Processes(ctx)
	conns, cerr := src.Connections(ctx)
	if cerr != nil {
		log.Warn("connections_unavailable", zap.Error(cerr))
	}
	svcs, serr := src.Services(ctx)
	if serr != nil {
		log.Warn("services_unavailable", zap.Error(serr))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	hn, herr := readHostNet(ctx, src)
	if hn == nil {
		hn = &HostNet{}
	}
	in := input{
		hostOS: src.Host().OS, hostID: env.Host.ID, root: src.Root(), snapshot: src.Snapshot(),
		net: hn, procs: procs, conns: conns, svcs: svcs, hash: exeHasher(ctx, src),
	}
	return decide(in, &d.settings), errors.Join(perr, cerr, serr, herr)
}

// input is everything decide needs.
type input struct {
	hostOS, hostID, root string
	snapshot             bool
	net                  *HostNet
	procs                []source.Process
	conns                []source.Connection
	svcs                 []source.Service
	// hash gives the hex SHA-256 of a process's executable ("" when
	// unknown); nil hashes nothing.
	hash func(source.Process) string
}

// decide turns what was read into findings. It is pure.
func decide(in input, s *Settings) []report.Finding {
	v := newProcView(in.procs, in.conns)
	var out []report.Finding
	out = append(out, interfaceFindings(in, v, s)...)
	out = append(out, proxyFindings(in.hostID, in.net.Proxies, v)...)
	out = append(out, portProxyFindings(in.hostID, in.net.PortProxies)...)
	if in.net.IPForward == "1" {
		f := report.Finding{
			Rule: "tunnel.forwarding.enabled", Category: report.CategoryRelay, Tool: "ip-forward",
			Severity: report.SeverityLow, Confidence: 0.6,
			Summary:  "The kernel forwards IPv4 packets between interfaces (net.ipv4.ip_forward=1)",
			Evidence: map[string]any{"path": "/" + linuxIPForward, "value": "1"},
		}
		f.ID = report.StableID(in.hostID, f.Rule, f.Tool, "ipv4")
		out = append(out, f)
	}
	out = append(out, relayFindings(in.hostID, v)...)
	out = append(out, tunnelClientFindings(in.hostID, in.root, in.snapshot, v)...)
	out = append(out, localRelayFindings(in, v, newLocalAddrs(in.conns, in.net.Interfaces))...)
	out = append(out, astrillFindings(in.hostID, v, in.svcs, in.net.Files)...)
	out = append(out, consumerVPNFindings(in.hostID, v, in.svcs, in.net.Interfaces)...)
	out = append(out, serverNameFindings(in.hostID, v)...)
	report.Sort(out)
	return out
}

// interfaceFindings reports VPN/overlay interfaces and the default route.
func interfaceFindings(in input, v *procView, s *Settings) []report.Finding {
	defaults := defaultRouteIfaces(in.net.Routes)
	for ifc, ds := range policyDefaultRoutes(in.net.Policy) {
		defaults[ifc] = append(defaults[ifc], ds...)
	}
	astrillRunning := false
	for _, p := range in.procs {
		for _, n := range procNames(p.Name, p.Exe) {
			if astrillProcs[n] {
				astrillRunning = true
			}
		}
	}
	var out []report.Finding
	for _, ifc := range in.net.Interfaces {
		if contains(s.IgnoreInterfaces, ifc.Name) {
			continue
		}
		c, ok := classify(ifc, in.hostOS)
		if !ok {
			continue
		}
		ev := map[string]any{"interface": ifc.Name, "driver": c.driver, "matched": c.why, "up": ifc.Up}
		if ifc.Description != "" {
			ev["description"] = ifc.Description
		}
		if len(ifc.Addresses) > 0 {
			ev["addresses"] = ifc.Addresses
		}
		if ifc.Carrier != "" {
			ev["carrier"] = ifc.Carrier == "1"
		}
		if ifc.MTU > 0 {
			ev["mtu"] = ifc.MTU
		}
		dr := defaults[ifc.Name]
		ev["default_route"] = len(dr) > 0 && ifc.Up
		if len(dr) > 0 {
			ev["default_routes"] = dr
		}
		// Generic tun/tap devices get the tool of the process holding them.
		if len(ifc.Owners) > 0 {
			var pids []int32
			o := ifc.Owners[0]
			for _, w := range ifc.Owners {
				pids = append(pids, w.PID)
			}
			ev["pids"], ev["name"], ev["path"] = pids, o.Name, o.Exe
			for _, n := range procNames(o.Name, o.Exe) {
				if t, ok := vpnOwners[n]; ok && (c.tool == "tun" || c.tool == "tap" || c.tool == "utun" || c.tool == "wireguard") {
					c.tool, c.conf = t, 0.95
					ev["matched"] = c.why + " held open by " + o.Name
					break
				}
			}
			if c.tool == "tun" || c.tool == "tap" {
				ev["matched"] = c.why + " held open by " + o.Name
			}
			for _, p := range in.procs {
				if p.PID == o.PID {
					ev["cmdline"] = redactArgs(p.Cmdline)
				}
			}
		} else if astrillRunning && (c.tool == "tun" || c.tool == "utun" || c.tool == "tap-windows" || c.tool == "wintun") {
			c.tool, c.conf = "astrill-vpn", 0.6
			ev["matched"] = c.why + " while Astrill VPN runs"
		}
		f := report.Finding{Category: report.CategoryVPN, Tool: c.tool, Confidence: c.conf, Evidence: ev}
		label := c.tool
		if label == "tun" || label == "tap" || label == "utun" {
			label = "a " + label + " device"
		}
		switch {
		case !ifc.Up:
			if !s.ReportDownInterfaces {
				continue
			}
			f.Rule, f.Severity = "tunnel.interface.down", report.SeverityInfo
			f.Summary = fmt.Sprintf("VPN interface %s (%s) exists but is down", ifc.Name, label)
		case len(dr) > 0:
			f.Rule, f.Severity = "tunnel.interface.default_route", report.SeverityMedium
			f.Summary = fmt.Sprintf("The default route (%s) goes through VPN interface %s (%s)", strings.Join(dr, ", "), ifc.Name, label)
		default:
			f.Rule, f.Severity = "tunnel.interface.up", report.SeverityLow
			f.Summary = fmt.Sprintf("VPN interface %s (%s) is up", ifc.Name, label)
		}
		if len(ifc.Addresses) > 0 && ifc.Up {
			f.Summary += " with " + strings.Join(ifc.Addresses, ", ")
		}
		f.ID = report.StableID(in.hostID, "tunnel.interface", f.Tool, ifc.Name)
		out = append(out, f)
	}
	return out
}

// proxyFindings reports configured proxies, one finding per source.
func proxyFindings(hostID string, ps []ProxySetting, v *procView) []report.Finding {
	bySrc := map[string][]ProxySetting{}
	var order []string
	for _, p := range ps {
		if _, ok := bySrc[p.Source]; !ok {
			order = append(order, p.Source)
		}
		bySrc[p.Source] = append(bySrc[p.Source], p)
	}
	var out []report.Finding
	for _, src := range order {
		var settings []string
		local := false
		var listeners []string
		for _, p := range bySrc[src] {
			settings = append(settings, p.Kind+"="+p.Value)
			if h, port := proxyHostPort(p.Value); h != "" && loopback(h) {
				local = true
				if l := v.listenerOn(port); l != "" && !contains(listeners, l) {
					listeners = append(listeners, l)
				}
			}
		}
		ev := map[string]any{"source": src, "settings": settings, "local_proxy": local}
		if len(listeners) > 0 {
			ev["local_listeners"] = listeners
		}
		f := report.Finding{
			Rule: "tunnel.proxy.configured", Category: report.CategoryProxy, Tool: "system-proxy",
			Severity: report.SeverityLow, Confidence: 0.9, Evidence: ev,
			Summary: fmt.Sprintf("Proxy configured in %s: %s", src, strings.Join(settings, ", ")),
		}
		f.ID = report.StableID(hostID, f.Rule, f.Tool, src)
		out = append(out, f)
	}
	return out
}

// proxyHost extracts the host of a proxy value ("http://h:3128/", "h:8080").
func proxyHost(v string) string {
	h, _ := proxyHostPort(v)
	return h
}

// proxyHostPort extracts host and port ("" when none) of a proxy value.
func proxyHostPort(v string) (string, string) {
	if i := strings.Index(v, "://"); i >= 0 {
		v = v[i+3:]
	}
	if i := strings.LastIndexByte(v, '@'); i >= 0 {
		v = v[i+1:]
	}
	v, _, _ = strings.Cut(v, "/")
	if h, p, err := net.SplitHostPort(v); err == nil {
		return h, p
	}
	return v, ""
}

// portProxyFindings reports Windows portproxy rules: this host relays a
// listening port to another address.
func portProxyFindings(hostID string, rules []PortProxy) []report.Finding {
	var out []report.Finding
	for _, r := range rules {
		listen := net.JoinHostPort(r.ListenAddress, r.ListenPort)
		to := net.JoinHostPort(r.ConnectAddr, r.ConnectPort)
		exposed := !loopback(r.ListenAddress)
		sev, why := report.SeverityLow, "loopback only"
		if exposed {
			sev, why = report.SeverityMedium, "reachable from other hosts"
		}
		f := report.Finding{
			Rule: "tunnel.relay.portproxy", Category: report.CategoryRelay, Tool: "netsh-portproxy",
			Severity: sev, Confidence: 0.95,
			Summary: fmt.Sprintf("Port forwarding rule (netsh interface portproxy %s) relays %s to %s, %s", r.Type, listen, to, why),
			Evidence: map[string]any{
				"type": r.Type, "listen": listen, "forward_to": to, "bound_beyond_loopback": exposed,
				"registry_key": `HKLM\SYSTEM\CurrentControlSet\Services\PortProxy\` + r.Type + `\tcp`,
			},
		}
		f.ID = report.StableID(hostID, f.Rule, f.Tool, r.Type+"|"+listen)
		out = append(out, f)
	}
	return out
}

// fileSet holds the generated snapshot files by name.
type fileSet map[string][]byte

// liveSet gathers the files a live read generates and the errors met on the
// way (one failed source never loses the others).
type liveSet struct {
	files fileSet
	errs  []error
}

// newLiveSet refuses to read a live host of another OS than this one.
func newLiveSet(hostOS string) (*liveSet, error) {
	if hostOS != runtime.GOOS {
		return nil, fmt.Errorf("tunnel: a live %s host can only be read on %s; record a snapshot there", hostOS, hostOS)
	}
	return &liveSet{files: fileSet{}}, nil
}

// put stores v as indented JSON under name.
func (l *liveSet) put(name string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		l.errs = append(l.errs, fmt.Errorf("encode %s: %w", name, err))
		return
	}
	l.files[name] = b
}

// fail records an error (nil is ignored).
func (l *liveSet) fail(err error) {
	if err != nil {
		l.errs = append(l.errs, err)
	}
}

// done returns the files and the joined errors.
func (l *liveSet) done() (fileSet, error) { return l.files, errors.Join(l.errs...) }

// snapshotFiles are the generated (non-tree) files the detector reads.
var snapshotFiles = []string{FilePolicyRouting, FileInterfaces, FileRoutes, FileInternetSettings, FilePortProxy, FileTunOwners, FileToolFiles, FileNetstatRoutes, FileScutilProxy}

// readHostNet is the per-OS seam: snapshots are read from their files,
// live hosts through liveFiles (tunnel_<os>.go), then the same parsers run.
func readHostNet(ctx context.Context, src source.Source) (*HostNet, error) {
	root := src.Root()
	hostOS := src.Host().OS
	var files fileSet
	var errs []error
	if src.Snapshot() {
		files = fileSet{}
		for _, n := range snapshotFiles {
			b, err := readFileLimited(filepath.Join(root, n))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if b != nil {
				files[n] = b
			}
		}
	} else {
		var err error
		files, err = liveFiles(ctx, root, hostOS)
		errs = append(errs, err)
	}
	hn, err := parseHostNet(hostOS, root, files)
	errs = append(errs, err)
	return hn, errors.Join(errs...)
}

// parseHostNet builds the host view from generated files (and, on Linux,
// the sysfs/procfs/etc trees under root).
func parseHostNet(hostOS, root string, files fileSet) (*HostNet, error) {
	var errs []error
	decode := func(name string, v any) {
		if b, ok := files[name]; ok && len(strings.TrimSpace(string(b))) > 0 {
			if err := source.DecodeJSON(name, b, v); err != nil {
				errs = append(errs, err)
			}
		}
	}
	var ifs []Interface
	decode(FileInterfaces, &ifs)
	var files2 []string
	decode(FileToolFiles, &files2)
	hn := &HostNet{}
	switch hostOS {
	case "linux":
		var owners []TunOwner
		decode(FileTunOwners, &owners)
		lh, err := readLinux(root, ifs, owners)
		errs = append(errs, err)
		hn = lh
		decode(FilePolicyRouting, &hn.Policy)
		resolveRouteIfaces(hn.Policy.Routes, hn.Interfaces)
	case "darwin":
		hn.Interfaces = ifs
		hn.Routes = parseNetstatRoutes(files[FileNetstatRoutes])
		hn.Proxies = parseScutilProxy(files[FileScutilProxy])
	case "windows":
		hn.Interfaces = ifs
		decode(FileRoutes, &hn.Routes)
		resolveRouteIfaces(hn.Routes, ifs)
		addInterfaceMetrics(hn.Routes, ifs)
		var is []InternetSettings
		decode(FileInternetSettings, &is)
		hn.Proxies = internetSettingsProxies(is)
		decode(FilePortProxy, &hn.PortProxies)
	default:
		return hn, fmt.Errorf("tunnel: unsupported OS %q", hostOS)
	}
	hn.Files = files2
	sort.SliceStable(hn.Interfaces, func(i, j int) bool { return hn.Interfaces[i].Name < hn.Interfaces[j].Name })
	return hn, errors.Join(errs...)
}

// Collect records the raw sources the detector reads into a snapshot
// directory: the generated files of liveFiles and, on Linux, copies of the
// sys/class/net, proc/net and proxy configuration files.
func Collect(ctx context.Context, src source.Source, dir string) error {
	root := src.Root()
	hostOS := src.Host().OS
	files, err := liveFiles(ctx, root, hostOS)
	errs := []error{err}
	for name, b := range files {
		if werr := os.WriteFile(filepath.Join(dir, name), b, 0o644); werr != nil {
			errs = append(errs, werr)
		}
	}
	if hostOS == "linux" {
		errs = append(errs, collectLinuxTrees(root, dir))
	}
	return errors.Join(errs...)
}

// collectLinuxTrees copies the Linux files readLinux reads.
func collectLinuxTrees(root, dir string) error {
	var rels []string
	ents, _ := os.ReadDir(filepath.Join(root, linuxSysNet))
	for i, e := range ents {
		if i >= maxInterfaces {
			break
		}
		for _, f := range sysNetFiles {
			rels = append(rels, filepath.Join(linuxSysNet, e.Name(), f))
		}
	}
	rels = append(rels, linuxRoute, linuxRoute6, linuxIfInet6, linuxIPForward)
	for _, p := range linuxProxyFiles {
		for _, f := range expandDir(filepath.Join(root, p)) {
			if r, err := filepath.Rel(root, f); err == nil {
				rels = append(rels, r)
			}
		}
	}
	var errs []error
	for _, r := range rels {
		b, err := readFileLimited(filepath.Join(root, r))
		if err != nil {
			// sysfs attributes a device does not support fail to read.
			continue
		}
		if b == nil {
			continue
		}
		dst := filepath.Join(dir, r)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// goInterfaces lists interfaces with their addresses through the Go
// runtime (netlink on Linux, route sockets on macOS, GetAdaptersAddresses
// on Windows).
func goInterfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]Interface, 0, len(ifs))
	for _, i := range ifs {
		x := Interface{Name: i.Name, Index: i.Index, Up: i.Flags&net.FlagUp != 0, MTU: i.MTU, Hardware: i.HardwareAddr.String()}
		if addrs, err := i.Addrs(); err == nil {
			for _, a := range addrs {
				x.Addresses = append(x.Addresses, a.String())
			}
		}
		out = append(out, x)
	}
	return out, nil
}
