// Package neighbour reduces a host's neighbour table (ARP/NDP, as each OS
// reads it) to what co-location hashes: the default gateway's MAC and the
// distinct MACs on the gateway's interface.
package neighbour

import (
	"net/netip"
	"sort"
)

// Entry is one usable neighbour on the default route's interface.
type Entry struct {
	Addr netip.Addr
	MAC  string
}

// GatewayAndLAN returns the MAC of gw among entries and every MAC of
// entries, sorted and each once.
func GatewayAndLAN(entries []Entry, gw netip.Addr) (gwMAC string, macs []string) {
	seen := map[string]bool{}
	for _, e := range entries {
		if e.Addr == gw {
			gwMAC = e.MAC
		}
		if !seen[e.MAC] {
			seen[e.MAC] = true
			macs = append(macs, e.MAC)
		}
	}
	sort.Strings(macs)
	return gwMAC, macs
}
