package source

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// tcpStats dumps every TCP socket's tcp_info through NETLINK_SOCK_DIAG (one
// dump per address family; no /proc walk) and keys it by endpoints.
func tcpStats(ctx context.Context, _ []Connection) (map[ConnKey]TCPStats, error) {
	out := make(map[ConnKey]TCPStats)
	var errs []error
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		rs, err := netlink.SocketDiagTCPInfo(fam)
		if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
			errs = append(errs, fmt.Errorf("sock_diag tcp_info (family %d): %w", fam, err))
			continue
		}
		for _, r := range rs {
			if r == nil || r.InetDiagMsg == nil || r.TCPInfo == nil {
				continue
			}
			m := r.InetDiagMsg
			l, ok1 := netip.AddrFromSlice(m.ID.Source)
			rem, ok2 := netip.AddrFromSlice(m.ID.Destination)
			if !ok1 || !ok2 {
				continue
			}
			out[MakeConnKey("tcp", netip.AddrPortFrom(l, m.ID.SourcePort), netip.AddrPortFrom(rem, m.ID.DestinationPort))] = linuxTCPStats(r.TCPInfo)
		}
	}
	return out, errors.Join(errs...)
}

// linuxTCPStats converts tcp_info (RTT in µs).
func linuxTCPStats(ti *netlink.TCPInfo) TCPStats {
	sent := payloadSent(ti.Bytes_acked, ti.Bytes_sent, ti.Bytes_retrans)
	return TCPStats{
		RTTms:         float64(ti.Rtt) / 1000,
		RTTVarMs:      float64(ti.Rttvar) / 1000,
		BytesSent:     sent,
		BytesReceived: ti.Bytes_received,
		SegsSent:      uint64(ti.Data_segs_out),
		SegsReceived:  uint64(ti.Data_segs_in),
	}
}
