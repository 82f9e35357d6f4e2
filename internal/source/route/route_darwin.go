package route

import (
	"net"

	xroute "golang.org/x/net/route"
	"golang.org/x/sys/unix"

	"github.com/farmwatch/farmwatch/internal/source/hostpath"
)

// defaultInterfaces finds the interfaces of the IPv4 and IPv6 default
// routes in the kernel routing table (a sysctl dump, no subprocess).
func defaultInterfaces(hostpath.Root) []string {
	var out []string
	for _, af := range []int{unix.AF_INET, unix.AF_INET6} {
		rib, err := xroute.FetchRIB(af, xroute.RIBTypeRoute, 0)
		if err != nil {
			continue
		}
		msgs, err := xroute.ParseRIB(xroute.RIBTypeRoute, rib)
		if err != nil {
			continue
		}
		for _, m := range msgs {
			rm, ok := m.(*xroute.RouteMessage)
			if !ok || rm.Flags&unix.RTF_GATEWAY == 0 || len(rm.Addrs) <= unix.RTAX_NETMASK {
				continue
			}
			if !isDefault(rm.Addrs[unix.RTAX_DST]) {
				continue
			}
			if ifi, err := net.InterfaceByIndex(rm.Index); err == nil && !contains(out, ifi.Name) {
				out = append(out, ifi.Name)
			}
		}
	}
	return out
}

func isDefault(a xroute.Addr) bool {
	switch a := a.(type) {
	case *xroute.Inet4Addr:
		return a.IP == [4]byte{}
	case *xroute.Inet6Addr:
		return a.IP == [16]byte{}
	}
	return false
}
