package tunnel

import (
	"net/netip"
	"regexp"
	"sort"
	"strings"
)

// Interface is one network interface as the detector sees it, whatever the
// OS. It is also the record format of interfaces.json in snapshots.
type Interface struct {
	Name string `json:"name"`
	// Index is the OS interface index (0 when unknown).
	Index int `json:"index,omitempty"`
	// Description is the Windows adapter description ("WireGuard Tunnel",
	// "TAP-Windows Adapter V9", "Wintun Userspace Tunnel").
	Description string `json:"description,omitempty"`
	Up          bool   `json:"up"`
	MTU         int    `json:"mtu,omitempty"`
	Hardware    string `json:"hardware_addr,omitempty"`
	// Addresses are CIDR prefixes ("100.101.102.103/32").
	Addresses []string `json:"addresses,omitempty"`
	// IfType is the Windows IANA ifType (53 = proprietary virtual, 6 =
	// ethernet) when known.
	IfType int `json:"if_type,omitempty"`
	// Metric is the Windows IPv4 interface metric, added to route metrics.
	Metric int `json:"metric,omitempty"`
	// Linux sysfs facts (not in interfaces.json; read from sys/class/net).
	Kind    string `json:"-"` // tun, tap, wireguard, or "" for others
	Carrier string `json:"-"` // "1", "0" or "" when unknown
	// Owners are processes holding the device open (Linux /dev/net/tun).
	Owners []TunOwner `json:"-"`
}

// TunOwner is a process holding a tun/tap device open: the record format of
// tun-owners.json.
type TunOwner struct {
	PID       int32  `json:"pid"`
	Interface string `json:"interface"`
	Name      string `json:"name,omitempty"`
	Exe       string `json:"exe,omitempty"`
}

// Route is one routing table entry.
type Route struct {
	Destination string `json:"destination"` // CIDR, "0.0.0.0/0" for default
	Gateway     string `json:"gateway,omitempty"`
	Interface   string `json:"interface,omitempty"`
	// InterfaceIndex is used by Windows routes.json; resolved to a name.
	InterfaceIndex int `json:"interface_index,omitempty"`
	Metric         int `json:"metric,omitempty"`
	// Table is the Linux routing table (policy-routing.json only).
	Table int `json:"table,omitempty"`
	// Scoped marks macOS interface-scoped routes (flag I), which are not the
	// system's primary route.
	Scoped bool `json:"scoped,omitempty"`
}

// ProxySetting is one configured system or package-manager proxy.
type ProxySetting struct {
	// Source names where it was read ("/etc/environment",
	// "scutil --proxy", `HKU\S-1-5-21-…\…\Internet Settings`).
	Source string `json:"source"`
	// Kind is http, https, ftp, socks, all, pac, autodiscovery.
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// PortProxy is one Windows `netsh interface portproxy` rule.
type PortProxy struct {
	Type          string `json:"type"` // v4tov4, v4tov6, v6tov4, v6tov6
	ListenAddress string `json:"listen_address"`
	ListenPort    string `json:"listen_port"`
	ConnectAddr   string `json:"connect_address"`
	ConnectPort   string `json:"connect_port"`
}

// HostNet is everything the detector reads besides processes, connections
// and services.
type HostNet struct {
	Interfaces []Interface
	Routes     []Route
	// Policy is Linux policy routing (tables other than main, ip rules).
	Policy      PolicyRouting
	Proxies     []ProxySetting
	PortProxies []PortProxy
	// IPForward is "1" when the Linux kernel forwards IPv4 packets.
	IPForward string
	// Files names files that exist and point at a tool (Astrill's LSP).
	Files []string
}

// ifaceClass is what drives an interface.
type ifaceClass struct {
	tool   string // lowercase tool id
	driver string // tun, tap, wireguard, wintun, tap-windows, utun, zerotier...
	why    string
	conf   float64
}

var (
	reZeroTier = regexp.MustCompile(`^zt[0-9a-z]{6,}$`)
	reNetBird  = regexp.MustCompile(`^wt[0-9]+$`)
	reWG       = regexp.MustCompile(`^wg[0-9a-z_-]*$`)
	reTun      = regexp.MustCompile(`^(tun|tap)[0-9]+$`)
	reUtun     = regexp.MustCompile(`^utun[0-9]+$`)
	reIpsec    = regexp.MustCompile(`^(ipsec|ppp|gpd)[0-9]+$`)
	cgnat      = netip.MustParsePrefix("100.64.0.0/10")
	tsULA      = netip.MustParsePrefix("fd7a:115c:a1e0::/48")
)

// descRules map Windows adapter descriptions (lowercase substrings) to tools.
var descRules = []struct{ sub, tool, driver string }{
	{"tailscale", "tailscale", "wintun"},
	{"astrill", "astrill-vpn", "tun"},
	{"wireguard", "wireguard", "wireguard"},
	{"zerotier", "zerotier", "zerotier"},
	{"netbird", "netbird", "wintun"},
	{"openvpn data channel offload", "openvpn", "ovpn-dco"},
	{"openvpn", "openvpn", "tap-windows"},
	{"tap-windows", "tap-windows", "tap-windows"},
	{"tap-win32", "tap-windows", "tap-windows"},
	{"wintun", "wintun", "wintun"},
	{"anyconnect", "cisco-anyconnect", "vpn"},
	{"pangp", "globalprotect", "vpn"},
	{"fortinet", "forticlient", "vpn"},
	{"nordlynx", "nordvpn", "wireguard"},
	{"expressvpn", "expressvpn", "tun"},
	{"protonvpn", "protonvpn", "tun"},
}

// classify says what drives an interface, or ok=false for an ordinary one.
func classify(ifc Interface, hostOS string) (c ifaceClass, ok bool) {
	name := strings.ToLower(ifc.Name)
	desc := strings.ToLower(ifc.Description)
	if hostOS == "windows" {
		for _, r := range descRules {
			if strings.Contains(desc, r.sub) || strings.Contains(name, r.sub) {
				return ifaceClass{tool: r.tool, driver: r.driver, why: "adapter " + quoteOr(ifc.Description, ifc.Name), conf: 0.9}, true
			}
		}
		if hasPrefix(ifc, tsULA) || (ifc.IfType == 53 && hasPrefix(ifc, cgnat)) {
			return ifaceClass{tool: "tailscale", driver: "tun", why: "Tailscale address range on a virtual adapter", conf: 0.7}, true
		}
		return c, false
	}
	switch {
	case name == "tailscale0" || strings.HasPrefix(name, "tailscale"):
		return ifaceClass{tool: "tailscale", driver: nonEmpty(ifc.Kind, "tun"), why: "interface name " + ifc.Name, conf: 0.95}, true
	case reNetBird.MatchString(name):
		return ifaceClass{tool: "netbird", driver: nonEmpty(ifc.Kind, "wireguard"), why: "interface name " + ifc.Name, conf: 0.8}, true
	case reZeroTier.MatchString(name) || (hostOS == "darwin" && strings.HasPrefix(name, "feth")):
		return ifaceClass{tool: "zerotier", driver: nonEmpty(ifc.Kind, "tap"), why: "interface name " + ifc.Name, conf: 0.8}, true
	case ifc.Kind == "wireguard":
		return ifaceClass{tool: "wireguard", driver: "wireguard", why: "kernel WireGuard device", conf: 0.95}, true
	case name == "nordlynx":
		return ifaceClass{tool: "nordvpn", driver: "wireguard", why: "interface name " + ifc.Name, conf: 0.9}, true
	}
	tsAddr := hasPrefix(ifc, tsULA) || hasPrefix(ifc, cgnat)
	switch {
	case (ifc.Kind == "tun" || ifc.Kind == "tap") && hypervisorTap(name):
		// Virtual machines' NICs (libvirt vnetN, virbrN-nic, VirtualBox,
		// VMware, Firecracker/OpenStack taps) are taps too, not VPNs.
		return c, false
	case ifc.Kind == "tun" || ifc.Kind == "tap":
		if tsAddr {
			return ifaceClass{tool: "tailscale", driver: ifc.Kind, why: "Tailscale address range on a " + ifc.Kind + " device", conf: 0.7}, true
		}
		if reWG.MatchString(name) {
			return ifaceClass{tool: "wireguard", driver: ifc.Kind, why: "userspace WireGuard (" + ifc.Kind + " device " + ifc.Name + ")", conf: 0.7}, true
		}
		return ifaceClass{tool: ifc.Kind, driver: ifc.Kind, why: ifc.Kind + " device", conf: 0.9}, true
	case hostOS == "darwin" && reUtun.MatchString(name):
		// macOS keeps utun0..utun3 for its own services with only IPv6
		// link-local addresses; a VPN gives one a routable address.
		if !routable(ifc) {
			return c, false
		}
		if tsAddr {
			return ifaceClass{tool: "tailscale", driver: "utun", why: "Tailscale address range on " + ifc.Name, conf: 0.75}, true
		}
		return ifaceClass{tool: "utun", driver: "utun", why: "utun device with a routable address", conf: 0.8}, true
	case hostOS != "linux" && reWG.MatchString(name):
		return ifaceClass{tool: "wireguard", driver: "tun", why: "interface name " + ifc.Name, conf: 0.7}, true
	case hostOS != "linux" && reTun.MatchString(name):
		return ifaceClass{tool: name[:3], driver: name[:3], why: "interface name " + ifc.Name, conf: 0.8}, true
	case hostOS == "darwin" && reIpsec.MatchString(name) && routable(ifc):
		return ifaceClass{tool: "ipsec", driver: strings.TrimRight(name, "0123456789"), why: "interface name " + ifc.Name, conf: 0.6}, true
	}
	return c, false
}

func quoteOr(a, b string) string {
	if a != "" {
		return `"` + a + `"`
	}
	return `"` + b + `"`
}

func nonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func hasPrefix(ifc Interface, p netip.Prefix) bool {
	for _, a := range ifc.Addresses {
		if pf, err := netip.ParsePrefix(a); err == nil && p.Contains(pf.Addr()) {
			return true
		} else if ad, err := netip.ParseAddr(a); err == nil && p.Contains(ad) {
			return true
		}
	}
	return false
}

// routable reports whether an interface has an address other than IPv6
// link-local.
func routable(ifc Interface) bool {
	for _, a := range ifc.Addresses {
		ad, err := netip.ParseAddr(strings.SplitN(a, "/", 2)[0])
		if err != nil {
			continue
		}
		if !ad.IsLinkLocalUnicast() && !ad.IsLoopback() {
			return true
		}
	}
	return false
}

// defaultRouteIfaces returns the interfaces that carry the default route:
// the non-scoped /0 routes with the lowest metric per family, and the
// halves (0.0.0.0/1 + 128.0.0.0/1, ::/1 + 8000::/1) VPNs install to
// override it.
func defaultRouteIfaces(routes []Route) map[string][]string {
	out := map[string][]string{}
	add := func(ifc, dst string) {
		if ifc == "" {
			return
		}
		for _, d := range out[ifc] {
			if d == dst {
				return
			}
		}
		out[ifc] = append(out[ifc], dst)
	}
	best := map[bool]int{} // is6 → lowest metric
	seen := map[bool]bool{}
	for _, r := range routes {
		p, err := netip.ParsePrefix(r.Destination)
		if err != nil || r.Scoped || p.Bits() != 0 {
			continue
		}
		is6 := p.Addr().Is6()
		if !seen[is6] || r.Metric < best[is6] {
			best[is6], seen[is6] = r.Metric, true
		}
	}
	for _, r := range routes {
		p, err := netip.ParsePrefix(r.Destination)
		if err != nil || r.Scoped {
			continue
		}
		switch {
		case p.Bits() == 0 && r.Metric == best[p.Addr().Is6()]:
			add(r.Interface, p.String())
		case p.Bits() == 1:
			add(r.Interface, p.String())
		}
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

// hypervisorTap reports tap names that hypervisors and container runtimes
// give the host side of a guest's NIC.
func hypervisorTap(name string) bool {
	for _, p := range []string{"vnet", "virbr", "vboxnet", "vmnet", "veth", "docker", "br-", "fc-tap", "tap-fc", "qvo", "qvb", "macvtap", "lxc", "vm-"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	// OpenStack/Neutron taps carry a port id: tap1b2c3d4e-5f.
	return strings.HasPrefix(name, "tap") && strings.Contains(name, "-")
}
