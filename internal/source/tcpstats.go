package source

import (
	"net/netip"
	"strings"
)

// ConnKey identifies a connection by protocol and both endpoints, with
// IPv4-mapped IPv6 addresses unmapped so that dual-stack sockets match.
type ConnKey struct {
	Proto         string
	Local, Remote netip.AddrPort
}

// Key returns c's ConnKey; ok is false when an address does not parse.
func (c Connection) Key() (ConnKey, bool) {
	l, err1 := netip.ParseAddr(strings.TrimSpace(c.LAddr))
	r, err2 := netip.ParseAddr(strings.TrimSpace(c.RAddr))
	if err1 != nil || err2 != nil {
		return ConnKey{}, false
	}
	return ConnKey{
		Proto:  c.Proto,
		Local:  netip.AddrPortFrom(l.Unmap().WithZone(""), uint16(c.LPort)),
		Remote: netip.AddrPortFrom(r.Unmap().WithZone(""), uint16(c.RPort)),
	}, true
}

// MakeConnKey builds a ConnKey from raw endpoints (unmapping addresses).
func MakeConnKey(proto string, local, remote netip.AddrPort) ConnKey {
	return ConnKey{
		Proto:  proto,
		Local:  netip.AddrPortFrom(local.Addr().Unmap().WithZone(""), local.Port()),
		Remote: netip.AddrPortFrom(remote.Addr().Unmap().WithZone(""), remote.Port()),
	}
}

// attachTCPStats sets conns[i].TCP for every established TCP connection
// found in stats. It returns how many were attached.
func attachTCPStats(conns []Connection, stats map[ConnKey]TCPStats) int {
	n := 0
	for i := range conns {
		c := &conns[i]
		if c.Proto != "tcp" || !c.Established() {
			continue
		}
		k, ok := c.Key()
		if !ok {
			continue
		}
		if st, ok := stats[k]; ok {
			st := st
			c.TCP = &st
			n++
		}
	}
	return n
}
