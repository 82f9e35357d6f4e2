package source

import (
	"net/netip"

	"github.com/farmwatch/farmwatch/internal/source/xnu"
)

// This file converts the macOS kernel's PCB tables (package xnu) into
// Connections. It has no build tag so that the conversion is tested on any
// OS; the sysctl calls are in conns_darwin.go.

// xnuStateNames names XNU's t_state values (bsd/netinet/tcp_fsm.h) the way
// gopsutil names Linux TCP states, so detectors see one vocabulary.
var xnuStateNames = [...]string{
	xnu.TCPSClosed:      "CLOSE",
	xnu.TCPSListen:      "LISTEN",
	xnu.TCPSSynSent:     "SYN_SENT",
	xnu.TCPSSynReceived: "SYN_RECV",
	xnu.TCPSEstablished: "ESTABLISHED",
	xnu.TCPSCloseWait:   "CLOSE_WAIT",
	xnu.TCPSFinWait1:    "FIN_WAIT1",
	xnu.TCPSClosing:     "CLOSING",
	xnu.TCPSLastAck:     "LAST_ACK",
	xnu.TCPSFinWait2:    "FIN_WAIT2",
	xnu.TCPSTimeWait:    "TIME_WAIT",
}

// xnuStateName returns the gopsutil-style name of a TCP state, or
// "UNKNOWN(n)" for a value the kernel should not produce.
func xnuStateName(s int) string {
	if s >= 0 && s < len(xnuStateNames) {
		return xnuStateNames[s]
	}
	return xnu.StateName(s)
}

// xnuSynchronized reports whether a TCP state is ESTABLISHED or one of the
// closing states after it: the connections with peer traffic to count.
func xnuSynchronized(s int) bool {
	return s >= xnu.TCPSEstablished && s <= xnu.TCPSTimeWait
}

// xnuPID is the process a socket is attributed to: so_last_pid, the last
// process that used it — the "pid" column of `netstat -anv` — or, when that
// is 0, so_e_pid, the effective owner a daemon acts for ("epid").
func xnuPID(pid, epid int32) int32 {
	if pid != 0 {
		return pid
	}
	return epid
}

// xnuAddr formats an endpoint address as gopsutil does: dotted IPv4, IPv6
// in its canonical form, IPv4-mapped IPv6 as the IPv4 address. The parser
// already returns the wildcard as "0.0.0.0" or "::" by the socket's
// inp_vflag.
func xnuAddr(a netip.Addr) string {
	return a.Unmap().WithZone("").String()
}

// tcpStatsFromPCB converts one TCP PCB's counters.
//
// Bytes are payload octets from sequence arithmetic (snd_una-iss,
// rcv_nxt-irs, less the SYN's sequence number), the same meaning as Linux
// tcp_info bytes_acked/bytes_received and Windows ThruBytesAcked/Received,
// so relayed connections compare across OSes. The 32-bit sequence space
// wraps every 4 GiB; the engine treats a counter that went backwards as
// restarted. Segment counts come from the socket's xsockstat_n counters
// (whole packets as the socket layer saw them, pure ACKs included): the
// only packet counts the kernel keeps.
func tcpStatsFromPCB(c xnu.TCPConn) TCPStats {
	return TCPStats{
		RTTms:         c.SRTTms,
		RTTVarMs:      c.RTTVarMs,
		BytesSent:     payload(c.SeqSent),
		BytesReceived: payload(c.SeqReceived),
		SegsSent:      c.TxPackets,
		SegsReceived:  c.RxPackets,
	}
}

// payload removes the SYN's sequence number from a sequence difference.
func payload(seq uint32) uint64 {
	if seq == 0 {
		return 0
	}
	return uint64(seq - 1)
}

// connectionsFromPCBs turns the parsed TCP and UDP tables into
// Connections, TCP first, in table order. Synchronized TCP connections
// (ESTABLISHED and later) carry their counters.
func connectionsFromPCBs(tcp []xnu.TCPConn, udp []xnu.UDPConn) []Connection {
	out := make([]Connection, 0, len(tcp)+len(udp))
	for _, c := range tcp {
		conn := xnuConnection("tcp", c.PID, c.EPID, c.Local, c.Remote)
		conn.State = xnuStateName(c.State)
		if xnuSynchronized(c.State) {
			st := tcpStatsFromPCB(c)
			conn.TCP = &st
		}
		out = append(out, conn)
	}
	for _, c := range udp {
		out = append(out, xnuConnection("udp", c.PID, c.EPID, c.Local, c.Remote))
	}
	return out
}

// xnuConnection is the part of a Connection both PCB tables give.
func xnuConnection(proto string, pid, epid int32, local, remote netip.AddrPort) Connection {
	return Connection{
		PID:   xnuPID(pid, epid),
		Proto: proto,
		LAddr: xnuAddr(local.Addr()),
		LPort: uint32(local.Port()),
		RAddr: xnuAddr(remote.Addr()),
		RPort: uint32(remote.Port()),
	}
}
