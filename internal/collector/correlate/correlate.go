// Package correlate extracts fleet-wide indicators from findings: values that
// should be unique to one machine or one operator, such as a KVM's USB serial,
// a monitor's EDID serial, a remote peer address or relay, or a remote-desktop
// id (AnyDesk, RustDesk, TeamViewer). The collector records which hosts report
// each indicator; one seen on two or more hosts points at shared laptop-farm
// infrastructure, which no single endpoint can see.
package correlate

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"

	"github.com/farmwatch/farmwatch/internal/detect/remoteaccess/catalog"
	"github.com/farmwatch/farmwatch/internal/report"
)

// Indicator kinds.
const (
	KindUSBSerial  = "usb_serial"
	KindEDIDSerial = "edid_serial"
	KindPeer       = "peer"
	KindRelay      = "relay"
	KindRemoteID   = "remote_id"
)

// Indicator is one correlatable value.
type Indicator struct {
	Kind  string
	Value string
}

// String renders kind=value.
func (i Indicator) String() string { return i.Kind + "=" + i.Value }

// Describe names an indicator for people.
func Describe(kind, value, tool string) string {
	switch kind {
	case KindUSBSerial:
		return fmt.Sprintf("USB serial %q", value)
	case KindEDIDSerial:
		return fmt.Sprintf("EDID serial %q", value)
	case KindPeer:
		return fmt.Sprintf("remote peer %s", value)
	case KindRelay:
		return fmt.Sprintf("relay %s", value)
	case KindRemoteID:
		if tool != "" {
			return fmt.Sprintf("%s id %s", tool, value)
		}
		return fmt.Sprintf("remote-desktop id %s", value)
	}
	return kind + " " + value
}

// Indicators returns the finding's indicators, read from the evidence
// vocabulary of package report, normalised (trimmed, lowercased, ports
// stripped from addresses), sorted and without duplicates:
//
//   - remote-access-hardware findings: the USB serial (report.EvSerial) and
//     the EDID serials (report.EvEDIDSerialText, report.EvEDIDSerial32),
//     unless report.EvSerialDefault marks them as the product's factory or
//     preset serial, which thousands of devices share;
//   - peers: whoever connected into a tool's listener
//     (report.EvInboundConnections), the far end of an SSH reverse tunnel or
//     relay (report.EvConnectedTo), the controlling side of a flow this host
//     is driven over (report.EvControllerSide, report.EvHostRole), and the
//     server of a tunnel/proxy/relay flow (as a relay) unless the service is
//     vendor-hosted;
//   - a configured relay (report.EvRelay) and a remote-desktop id
//     (report.EvRemoteID, per tool).
//
// Allowlisted findings yield none. Placeholder values ("0", "unknown", short
// strings) and loopback, link-local, private and CGNAT addresses are skipped:
// they are the same on unrelated networks and would link unrelated hosts
// (hosts sharing one LAN are found by co-location instead).
func Indicators(f report.Finding) []Indicator {
	if f.Allowed || len(f.Evidence) == 0 {
		return nil
	}
	ev := f.Evidence
	seen := map[Indicator]bool{}
	add := func(kind string, raws ...string) {
		for _, raw := range raws {
			val := normalise(kind, raw)
			if val == "" {
				continue
			}
			if kind == KindRemoteID && f.Tool != "" {
				val = f.Tool + ":" + val // ids are only unique within one product
			}
			seen[Indicator{kind, val}] = true
		}
	}
	if f.Category == report.CategoryRemoteAccessHardware && ev[report.EvSerialDefault] != true {
		add(KindUSBSerial, values(ev[report.EvSerial])...)
		add(KindEDIDSerial, values(ev[report.EvEDIDSerialText])...)
		// The 32-bit serial qualifies the string one when both exist; alone
		// it is the only identity the display has.
		if len(values(ev[report.EvEDIDSerialText])) == 0 || values(ev[report.EvEDIDSerialText])[0] == "" {
			add(KindEDIDSerial, values(ev[report.EvEDIDSerial32])...)
		}
	}
	for _, c := range values(ev[report.EvInboundConnections]) {
		// "tcp/5900 from 203.0.113.5:51000"
		if _, from, ok := strings.Cut(c, " from "); ok {
			add(KindPeer, from)
		}
	}
	if !(f.Category == report.CategoryTunnel && vendorHosted[f.Tool]) {
		add(KindPeer, values(ev[report.EvConnectedTo])...)
	}
	// The server of a flow to a vendor's cloud (a TeamViewer router, an
	// AnyDesk relay) serves every customer of the vendor: it links nobody.
	vendorServer := vendorEdge(f)
	switch ev[report.EvHostRole] {
	case report.HostRoleControlled:
		for _, c := range values(ev[report.EvControllerSide]) {
			if vendorServer && sameHost(c, ev[report.EvServer]) {
				continue
			}
			add(KindPeer, c)
		}
	case report.HostRoleViewer:
		// This host drives someone else: not a peer of the farm.
	default:
		// The far end of a tunnel, proxy or relay flow; not of a VPN flow:
		// commercial VPN servers serve thousands of unrelated customers.
		switch f.Category {
		case report.CategoryTunnel, report.CategoryProxy, report.CategoryRelay:
			if !vendorHosted[f.Tool] && !vendorServer {
				add(KindRelay, values(ev[report.EvServer])...)
			}
		}
	}
	add(KindRelay, values(ev[report.EvRelay])...)
	add(KindRemoteID, values(ev[report.EvRemoteID])...)
	out := make([]Indicator, 0, len(seen))
	for i := range seen {
		out = append(out, i)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].String() < out[b].String() })
	return out
}

func values(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case float64:
		return []string{fmt.Sprintf("%.0f", x)}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, values(e)...)
		}
		return out
	case []string:
		return x
	}
	return nil
}

// vendorHosted are tunnel services whose clients connect to the vendor's
// shared edge (ngrok, Cloudflare, Microsoft dev tunnels…): every customer
// reaches the same addresses, so they link nobody. Self-hosted tunnels
// (frp, chisel, bore to one's own server) do.
var vendorHosted = map[string]bool{
	"ngrok": true, "cloudflared": true, "devtunnel": true, "vscode-tunnel": true, "zrok": true,
	"localtonet": true, "localxpose": true, "pinggy": true, "tailscale": true, "zerotier": true,
}

// vendorBrokered are remote-access products whose sessions always run
// through the vendor's own routers or relays when they cross networks
// (there is no self-hosted server to point them at): the server of such a
// flow the host opened is the vendor's. Self-hostable products (RustDesk,
// MeshCentral, ScreenConnect on-premises) are not here: their server is
// the operator's and links hosts.
var vendorBrokered = map[string]bool{
	"teamviewer": true, "anydesk": true, "chrome-remote-desktop": true, "parsec": true,
	"quickassist": true, "splashtop": true,
}

// vendorEdge reports whether the finding's flow went out to a vendor's
// shared cloud: its server's name (DNS answer, TLS SNI, HTTP Host) is one
// of the remote-access catalog's vendor domains, or the host opened it to
// a vendor-brokered product.
func vendorEdge(f report.Finding) bool {
	ev := f.Evidence
	if _, ok := ev[report.EvServer].(string); !ok {
		return false
	}
	for _, k := range []string{report.EvServerName, report.EvTLSSNI, report.EvHTTPHost} {
		if n, ok := ev[k].(string); ok && vendorDomain(n) {
			return true
		}
	}
	return vendorBrokered[f.Tool] && ev[report.EvDirection] == report.DirectionOutbound
}

// vendorDomains are the catalog's vendor domains: exact names, and
// suffixes (".example.com") from its "*.example.com" patterns.
var vendorDomains = sync.OnceValue(func() map[string]bool {
	out := map[string]bool{}
	c, err := catalog.Default()
	if err != nil {
		return out // the embedded catalog is tested to parse
	}
	for _, t := range c.Tools {
		for _, d := range t.Domains {
			out[strings.ToLower(strings.TrimPrefix(d, "*"))] = true
		}
	}
	return out
})

// vendorDomain reports whether name is a catalog vendor domain or below a
// wildcard one.
func vendorDomain(name string) bool {
	name = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
	if name == "" {
		return false
	}
	ds := vendorDomains()
	if ds[name] {
		return true
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '.' && ds[name[i:]] {
			return true
		}
	}
	return false
}

// sameHost reports whether two "host[:port]" values name the same host.
func sameHost(a string, b any) bool {
	bs, ok := b.(string)
	if !ok {
		return false
	}
	return normalise(KindPeer, a) == normalise(KindPeer, bs) && normalise(KindPeer, a) != ""
}

// cgnat is 100.64.0.0/10: carrier-grade NAT and Tailscale addresses, reused
// by every network.
var cgnat = &net.IPNet{IP: net.IPv4(100, 64, 0, 0), Mask: net.CIDRMask(10, 32)}

var placeholders = map[string]bool{"0": true, "unknown": true, "none": true, "n/a": true, "null": true, "default": true, "0123456789": true, "000000000000": true, "00000000": true, "ffffffff": true}

func normalise(kind, s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if kind == KindPeer || kind == KindRelay {
		if h, _, err := net.SplitHostPort(s); err == nil {
			s = h
		}
		s = strings.Trim(s, "[]")
		if ip := net.ParseIP(s); ip != nil {
			if ip.IsLoopback() || ip.IsUnspecified() || ip.IsLinkLocalUnicast() || ip.IsPrivate() || cgnat.Contains(ip) || ip.IsMulticast() {
				return ""
			}
			return ip.String()
		}
	}
	if len(s) < 3 || placeholders[s] || len(s) > 256 {
		return ""
	}
	return s
}
