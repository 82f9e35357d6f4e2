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
	switch ev[report.EvHostRole] {
	case report.HostRoleControlled:
		add(KindPeer, values(ev[report.EvControllerSide])...)
	case report.HostRoleViewer:
		// This host drives someone else: not a peer of the farm.
	default:
		// The far end of a tunnel, proxy or relay flow; not of a VPN flow:
		// commercial VPN servers serve thousands of unrelated customers.
		switch f.Category {
		case report.CategoryTunnel, report.CategoryProxy, report.CategoryRelay:
			if !vendorHosted[f.Tool] {
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
