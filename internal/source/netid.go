package source

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/farmwatch/farmwatch/internal/report"
)

// Network snapshot files: the Linux procfs tables (also what `collect`
// records) and, for any OS, network.json holding a Network.
const (
	NetworkFile   = "network.json"
	FileProcRoute = "proc/net/route"
	FileProcARP   = "proc/net/arp"
	// maxNetFile bounds the procfs tables read.
	maxNetFile = 1 << 20
	// MaxNeighbours bounds the neighbour MACs reported.
	MaxNeighbours = 256
)

// Network is the network a host is attached to, in clear: its default
// gateway, Wi-Fi access point and the MACs on its LAN. It is never reported
// as is: the agent sends keyed hashes of it (report.NetworkIdentity), so the
// collector can tell that laptops share a network without learning which.
type Network struct {
	// Interface is the default route's interface.
	Interface  string `json:"interface,omitempty"`
	GatewayIP  string `json:"gateway_ip,omitempty"`
	GatewayMAC string `json:"gateway_mac,omitempty"`
	BSSID      string `json:"bssid,omitempty"`
	SSID       string `json:"ssid,omitempty"`
	// SelfMAC is the default route interface's own MAC.
	SelfMAC string `json:"self_mac,omitempty"`
	// Neighbours are the MACs in the neighbour table on that interface.
	Neighbours []string `json:"neighbours,omitempty"`
	// Redacted names what the OS withheld (RedactedBSSID, RedactedSSID):
	// macOS 14 and later and Windows 11 24H2 and later hide the Wi-Fi
	// association from a caller without location permission.
	Redacted []string `json:"redacted,omitempty"`
}

// What Network.Redacted may name.
const (
	RedactedBSSID = report.NetBSSID
	RedactedSSID  = report.NetSSID
)

// Empty reports whether nothing identifies the network.
func (n Network) Empty() bool {
	return n.GatewayMAC == "" && n.BSSID == "" && n.SSID == "" && n.SelfMAC == "" && len(n.Neighbours) == 0 && len(n.Redacted) == 0
}

// ReadNetwork returns the network src's host is attached to. A snapshot
// gives network.json or, failing that, its recorded proc/net tables; a live
// host is read per OS (Linux: /proc/net/route and /proc/net/arp under the
// root, the interface's sysfs address and nl80211 for Wi-Fi; elsewhere see
// liveNetwork).
func ReadNetwork(ctx context.Context, src Source) (Network, error) {
	root := src.Root()
	if src.Snapshot() {
		var n Network
		err := DecodeJSONFile(filepath.Join(root, NetworkFile), &n)
		switch {
		case err == nil:
			return cleanNetwork(n), nil
		case !errors.Is(err, fs.ErrNotExist):
			return Network{}, fmt.Errorf("network: %w", err)
		}
		return procNetwork(root)
	}
	n, err := liveNetwork(ctx, root)
	return cleanNetwork(n), err
}

// procNetwork reads the Linux procfs routing and ARP tables under root.
func procNetwork(root string) (Network, error) {
	route, err := ReadOptionalFile(filepath.Join(root, FileProcRoute), maxNetFile)
	if err != nil {
		return Network{}, fmt.Errorf("network: %w", err)
	}
	arp, err := ReadOptionalFile(filepath.Join(root, FileProcARP), maxNetFile)
	if err != nil {
		return Network{}, fmt.Errorf("network: %w", err)
	}
	var n Network
	n.Interface, n.GatewayIP = ParseProcRoute(route)
	for _, e := range ParseProcARP(arp) {
		if n.Interface != "" && e.Interface != n.Interface {
			continue
		}
		if e.IP == n.GatewayIP {
			n.GatewayMAC = e.MAC
		}
		n.Neighbours = append(n.Neighbours, e.MAC)
	}
	if n.Interface != "" {
		if b, _ := ReadOptionalFile(filepath.Join(root, "sys/class/net", filepath.Base(n.Interface), "address"), 64); b != nil {
			n.SelfMAC = strings.TrimSpace(string(b))
		}
	}
	return cleanNetwork(n), nil
}

// ParseProcRoute returns the interface and gateway of the default IPv4
// route (the lowest metric) in /proc/net/route.
func ParseProcRoute(b []byte) (iface, gateway string) {
	best := -1
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 4096), 4096)
	for first := true; sc.Scan(); first = false {
		f := strings.Fields(sc.Text())
		if first || len(f) < 8 || f[1] != "00000000" || f[7] != "00000000" {
			continue
		}
		gw, err := hex.DecodeString(f[2])
		if err != nil || len(gw) != 4 {
			continue
		}
		metric := 0
		if _, err := fmt.Sscanf(f[6], "%d", &metric); err != nil || metric < 0 {
			continue
		}
		if best >= 0 && metric >= best {
			continue
		}
		best = metric
		// Little-endian on every architecture Linux reports it from.
		iface, gateway = f[0], net.IPv4(gw[3], gw[2], gw[1], gw[0]).String()
	}
	return iface, gateway
}

// ARPEntry is one complete entry of /proc/net/arp.
type ARPEntry struct{ IP, MAC, Interface string }

// ParseProcARP returns the complete entries (flag ATF_COM) of /proc/net/arp.
func ParseProcARP(b []byte) []ARPEntry {
	var out []ARPEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 4096), 4096)
	for first := true; sc.Scan(); first = false {
		f := strings.Fields(sc.Text())
		if first || len(f) < 6 {
			continue
		}
		var flags int
		if _, err := fmt.Sscanf(f[2], "0x%x", &flags); err != nil || flags&0x2 == 0 {
			continue
		}
		mac := NormMAC(f[3])
		if mac == "" || net.ParseIP(f[0]) == nil {
			continue
		}
		out = append(out, ARPEntry{IP: f[0], MAC: mac, Interface: f[5]})
	}
	return out
}

// NormMAC returns a unicast MAC as lowercase aa:bb:cc:dd:ee:ff, or "" for
// anything else: malformed, all-zero, broadcast/multicast, or a router
// redundancy protocol's virtual MAC (VRRP 00:00:5e:00:01/02:xx, HSRP
// 00:00:0c:07:ac:xx, 00:00:0c:9f:fx:xx), which the same on unrelated networks.
func NormMAC(s string) string {
	hw, err := net.ParseMAC(strings.TrimSpace(s))
	if err != nil || len(hw) != 6 || hw[0]&1 == 1 {
		return ""
	}
	m := hw.String()
	switch {
	case m == "00:00:00:00:00:00",
		strings.HasPrefix(m, "00:00:5e:00:01:"), strings.HasPrefix(m, "00:00:5e:00:02:"),
		strings.HasPrefix(m, "00:00:0c:07:ac:"), strings.HasPrefix(m, "00:00:0c:9f:f"):
		return ""
	}
	return m
}

// cleanNetwork normalises MACs, drops duplicates and bounds the list.
func cleanNetwork(n Network) Network {
	n.GatewayMAC, n.BSSID, n.SelfMAC = NormMAC(n.GatewayMAC), NormMAC(n.BSSID), NormMAC(n.SelfMAC)
	n.SSID = strings.TrimSpace(n.SSID)
	if len(n.SSID) > 32 {
		n.SSID = n.SSID[:32]
	}
	seen := map[string]bool{}
	var ns []string
	for _, m := range n.Neighbours {
		if m = NormMAC(m); m != "" && !seen[m] && m != n.SelfMAC {
			seen[m] = true
			ns = append(ns, m)
		}
	}
	sort.Strings(ns)
	if len(ns) > MaxNeighbours {
		ns = ns[:MaxNeighbours]
	}
	n.Neighbours = ns
	var red []string
	for _, r := range n.Redacted {
		if (r == RedactedBSSID && n.BSSID == "" || r == RedactedSSID && n.SSID == "") && !slices.Contains(red, r) {
			red = append(red, r)
		}
	}
	n.Redacted = red
	return n
}
