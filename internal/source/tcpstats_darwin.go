package source

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/farmwatch/farmwatch/internal/source/xnu"
)

// pcblistSysctl is the kernel's TCP PCB table with socket and tcpcb
// details (what `netstat -b -v` reads); see package xnu for its layout.
const pcblistSysctl = "net.inet.tcp.pcblist_n"

// tcpStats reads every TCP PCB from net.inet.tcp.pcblist_n in one sysctl
// and keys the synchronized ones (ESTABLISHED and the closing states) by
// endpoints.
//
// Bytes are payload octets from sequence arithmetic (snd_una-iss,
// rcv_nxt-irs, less the SYN's sequence number), the same meaning as Linux
// tcp_info bytes_acked/bytes_received and Windows ThruBytesAcked/Received,
// so relayed connections compare across OSes. The 32-bit sequence space
// wraps every 4 GiB; the engine treats a counter that went backwards as
// restarted. Segment counts come from the socket's xsockstat_n counters
// (whole packets as the socket layer saw them, pure ACKs included): the
// only packet counts the kernel keeps.
func tcpStats(ctx context.Context, _ []Connection) (map[ConnKey]TCPStats, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := readPCBList()
	if err != nil {
		return nil, err
	}
	conns, perr := xnu.ParseTCPPCBList(b)
	out := make(map[ConnKey]TCPStats, len(conns))
	states := make(map[ConnKey]int, len(conns))
	for _, c := range conns {
		if c.State < xnu.TCPSEstablished {
			continue // LISTEN, SYN_SENT, …: no peer traffic worth keying
		}
		k := MakeConnKey("tcp", c.Local, c.Remote)
		// A TIME_WAIT PCB may share a 4-tuple with a newer connection:
		// keep the ESTABLISHED one.
		if prev, ok := states[k]; ok && prev == xnu.TCPSEstablished {
			continue
		}
		states[k] = c.State
		out[k] = TCPStats{
			RTTms:         c.SRTTms,
			RTTVarMs:      c.RTTVarMs,
			BytesSent:     payload(c.SeqSent),
			BytesReceived: payload(c.SeqReceived),
			SegsSent:      c.TxPackets,
			SegsReceived:  c.RxPackets,
		}
	}
	if perr != nil {
		return out, fmt.Errorf("parse %s (%d bytes): %w", pcblistSysctl, len(b), perr)
	}
	return out, nil
}

// readPCBList reads the sysctl, retrying when the table grew between the
// size probe and the copy (ENOMEM).
func readPCBList() ([]byte, error) {
	var err error
	for range 3 {
		var b []byte
		b, err = unix.SysctlRaw(pcblistSysctl)
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, unix.ENOMEM) {
			break
		}
	}
	return nil, fmt.Errorf("sysctl %s: %w", pcblistSysctl, err)
}

// payload removes the SYN's sequence number from a sequence difference.
func payload(seq uint32) uint64 {
	if seq == 0 {
		return 0
	}
	return uint64(seq - 1)
}
