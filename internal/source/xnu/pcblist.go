// Package xnu parses the binary TCP and UDP connection tables that the
// macOS (XNU) kernel exports through the sysctls net.inet.tcp.pcblist_n and
// net.inet.udp.pcblist_n — the source `netstat -n -b -v` reads — into
// per-socket endpoints, owner pids, TCP state, RTT and traffic counters. It
// is pure Go with no build tags, so the parsers are tested and fuzzed on any
// OS; only the sysctl calls live in the darwin build
// (internal/source/conns_darwin.go).
//
// # Buffer layout
//
// The handler is get_pcblist_n in XNU's bsd/netinet/in_pcblist.c. All the
// structures below are declared under #pragma pack(4) (bsd/netinet/in_pcb.h,
// bsd/sys/socketvar.h, bsd/netinet/tcp_var.h), so 64-bit fields are only
// 4-byte aligned inside a record; integers are in host byte order (little
// endian on both x86_64 and arm64 Macs) except ports, which are in network
// byte order.
//
//	struct xinpgen (24 bytes)             header: u32 xig_len, u32 xig_count,
//	                                      u64 xig_gen, u64 xig_sogen
//	then, per PCB, each record starting at ROUNDUP64 (8-byte) offsets:
//	  struct xinpcb_n    kind 0x10 (XSO_INPCB)
//	  struct xsocket_n   kind 0x01 (XSO_SOCKET)
//	  struct xsockbuf_n  kind 0x02 (XSO_RCVBUF)
//	  struct xsockbuf_n  kind 0x04 (XSO_SNDBUF)
//	  struct xsockstat_n kind 0x08 (XSO_STATS)
//	  struct xtcpcb_n    kind 0x20 (XSO_TCPCB)
//	then a trailing struct xinpgen (fresh generation count).
//
// net.inet.udp.pcblist_n (udp_pcblist_n in bsd/netinet/udp_usrreq.c) is the
// same get_pcblist_n called with IPPROTO_UDP: the same records per PCB
// without the xtcpcb_n. On kernels built with SKYWALK, flows of user-space
// stacks follow the kernel PCBs in the same framing.
//
// Every record begins with u32 length (its own sizeof) and u32 kind; the
// next record starts ROUNDUP64(length) further on. Like netstat's protopr
// (network_cmds netstat.tproj/inet.c), the walk stops at a record whose
// length is at most sizeof(struct xinpgen) — the trailer — and a PCB is
// complete once all six kinds were seen, whatever their order. Records are
// read by offset and only up to the last field used, so kernels whose
// structs grew at the end (xsocket_n gained so_gencnt … xso_filter_flags:
// 76 → 104 bytes) parse alike.
//
// Offsets used (verified by testdata/gen/gen.c, which compiles XNU's struct
// definitions verbatim and records offsetof in testdata/pcblist_n.json):
//
//	xinpcb_n (104 bytes): 16 inp_fport u16 (BE), 18 inp_lport u16 (BE),
//	    28 inp_gencnt u64, 44 inp_vflag u8 (INP_IPV4 0x1, INP_IPV6 0x2),
//	    48 foreign address, 64 local address: 16-byte unions of in6_addr and
//	    in_addr_4in6 (the IPv4 address is the last 4 bytes).
//	xsocket_n (104 bytes; 76 in older kernels): 36 xso_protocol i32,
//	    64 so_uid u32, 68 so_last_pid i32, 72 so_e_pid i32.
//	xsockbuf_n (32 bytes): 8 sb_cc u32 (bytes queued).
//	xsockstat_n (136 bytes): 8 xst_tc_stats[SO_TC_STATS_MAX=4] of
//	    {rxpackets, rxbytes, txpackets, txbytes} u64.
//	xtcpcb_n (204 bytes): 36 t_state i32, 48 snd_una, 72 iss, 76 irs,
//	    80 rcv_nxt (u32 sequence numbers), 136 t_srtt i32, 140 t_rttvar i32.
//
// t_srtt and t_rttvar are fixed point in milliseconds (TCP_RETRANSHZ is
// 1000): t_srtt carries TCP_RTT_SHIFT = 5 fraction bits and t_rttvar
// TCP_RTTVAR_SHIFT = 4 (bsd/netinet/tcp_var.h); XNU's own tcp_fill_info
// reports tcpi_srtt = t_srtt >> TCP_RTT_SHIFT and tcpi_rttvar =
// t_rttvar >> TCP_RTTVAR_SHIFT, in ms. This package keeps the fraction.
package xnu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Record kinds (xgn_kind), from bsd/sys/socketvar.h.
const (
	KindSocket = 0x01 // XSO_SOCKET: struct xsocket_n
	KindRcvBuf = 0x02 // XSO_RCVBUF: struct xsockbuf_n
	KindSndBuf = 0x04 // XSO_SNDBUF: struct xsockbuf_n
	KindStats  = 0x08 // XSO_STATS: struct xsockstat_n
	KindInPCB  = 0x10 // XSO_INPCB: struct xinpcb_n
	KindTCPCB  = 0x20 // XSO_TCPCB: struct xtcpcb_n

	kindAllUDP = KindSocket | KindRcvBuf | KindSndBuf | KindStats | KindInPCB
	kindAllTCP = kindAllUDP | KindTCPCB
)

// TCP states (t_state), from bsd/netinet/tcp_fsm.h.
const (
	TCPSClosed      = 0
	TCPSListen      = 1
	TCPSSynSent     = 2
	TCPSSynReceived = 3
	TCPSEstablished = 4
	TCPSCloseWait   = 5
	TCPSFinWait1    = 6
	TCPSClosing     = 7
	TCPSLastAck     = 8
	TCPSFinWait2    = 9
	TCPSTimeWait    = 10
)

var stateNames = [...]string{
	"CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED",
	"CLOSE_WAIT", "FIN_WAIT_1", "CLOSING", "LAST_ACK", "FIN_WAIT_2", "TIME_WAIT",
}

// StateName names a TCP state the way netstat does ("ESTABLISHED"), or
// "UNKNOWN(n)".
func StateName(s int) string {
	if s >= 0 && s < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("UNKNOWN(%d)", s)
}

// Sizes and offsets of the XNU structures (see the package comment).
const (
	sizeofXinpgen = 24

	inpFport    = 16
	inpLport    = 18
	inpGencnt   = 28
	inpVflag    = 44
	inpFaddr    = 48
	inpLaddr    = 64
	inpMinLen   = inpLaddr + 16
	inpVflagV4  = 0x1
	inpVflagV6  = 0x2
	addr4Offset = 12 // in_addr_4in6.ia46_addr4

	soProtocol = 36
	soUID      = 64
	soLastPID  = 68
	soEPID     = 72
	soMinLen   = soEPID + 4

	sbCC     = 8
	sbMinLen = sbCC + 4

	stTCStats   = 8
	soTCStatMax = 4 // SO_TC_STATS_MAX
	stMinLen    = stTCStats + soTCStatMax*32

	tState    = 36
	tSndUna   = 48
	tIss      = 72
	tIrs      = 76
	tRcvNxt   = 80
	tSrtt     = 136
	tRttvar   = 140
	tcpMinLen = tRttvar + 4

	tcpRTTScale    = 1 << 5 // TCP_RTT_SHIFT
	tcpRTTVarScale = 1 << 4 // TCP_RTTVAR_SHIFT
	ipprotoTCP     = 6
	ipprotoUDP     = 17
)

// TCPConn is one TCP PCB from net.inet.tcp.pcblist_n.
type TCPConn struct {
	Local, Remote netip.AddrPort
	// State is t_state (TCPSEstablished …); see StateName.
	State int
	// PID is the last process to use the socket (so_last_pid), EPID the
	// effective owner (so_e_pid, differs when a daemon acts for an app).
	PID, EPID int32
	UID       uint32
	// SRTTms and RTTVarMs are the smoothed RTT and its variance in ms.
	SRTTms, RTTVarMs float64
	// Byte and packet counters summed over the socket's traffic classes
	// (xsockstat_n): packets as seen by the socket layer, bytes including
	// IP/TCP headers; Tx is what this host sent.
	RxBytes, TxBytes, RxPackets, TxPackets uint64
	// SeqSent (snd_una-iss) and SeqReceived (rcv_nxt-irs) are the sequence
	// space acknowledged by the peer / received in order, modulo 2^32: the
	// payload bytes plus one for SYN (and FIN), wrapping every 4 GiB.
	SeqSent, SeqReceived uint32
	// RecvQ and SendQ are the bytes queued in the socket buffers (sb_cc).
	RecvQ, SendQ uint32
}

// UDPConn is one UDP PCB from net.inet.udp.pcblist_n. An unconnected
// socket has the unspecified remote address and port 0; one never bound
// has the unspecified local address and port 0.
type UDPConn struct {
	Local, Remote netip.AddrPort
	// PID is the last process to use the socket (so_last_pid), EPID the
	// effective owner (so_e_pid).
	PID, EPID int32
	UID       uint32
	// Byte and packet counters summed over the socket's traffic classes
	// (xsockstat_n); Tx is what this host sent.
	RxBytes, TxBytes, RxPackets, TxPackets uint64
	// RecvQ and SendQ are the bytes queued in the socket buffers (sb_cc).
	RecvQ, SendQ uint32
}

// ErrFormat is wrapped by every parse error.
var ErrFormat = errors.New("malformed pcblist_n buffer")

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// ParseTCPPCBList parses a net.inet.tcp.pcblist_n buffer. It returns the
// connections parsed so far together with an error (wrapping ErrFormat)
// when the buffer is malformed or truncated; it never panics. Every state is
// returned (LISTEN included). PCBs that are not IPv4/IPv6 TCP, or that were
// allocated while the kernel copied the list out (inp_gencnt newer than the
// header's generation), are skipped as netstat does.
func ParseTCPPCBList(b []byte) ([]TCPConn, error) {
	var out []TCPConn
	err := walkPCBList(b, kindAllTCP, func(gen uint64, p *pcb) error {
		c, ok, err := buildTCPConn(gen, p)
		if ok {
			out = append(out, c)
		}
		return err
	})
	return out, err
}

// ParseUDPPCBList parses a net.inet.udp.pcblist_n buffer: the same record
// stream as the TCP list minus the xtcpcb_n (get_pcblist_n only appends one
// for IPPROTO_TCP). Errors and skipped PCBs are as for ParseTCPPCBList.
func ParseUDPPCBList(b []byte) ([]UDPConn, error) {
	var out []UDPConn
	err := walkPCBList(b, kindAllUDP, func(gen uint64, p *pcb) error {
		c, ok, err := buildUDPConn(gen, p)
		if ok {
			out = append(out, c)
		}
		return err
	})
	return out, err
}

// pcb holds the records of one PCB (tcpb only in the TCP list).
type pcb struct {
	inp, so, rcv, snd, stats, tcpb []byte
}

// walkPCBList walks the records after the xinpgen header and calls fn with
// the header's generation count for every PCB whose record kinds add up to
// want. Kinds outside want are skipped.
func walkPCBList(b []byte, want uint32, fn func(gen uint64, p *pcb) error) error {
	if len(b) < sizeofXinpgen {
		return formatErr("%d bytes, shorter than struct xinpgen (%d)", len(b), sizeofXinpgen)
	}
	xigLen := u32(b, 0)
	if xigLen < sizeofXinpgen || uint64(xigLen) > uint64(len(b)) {
		return formatErr("header xig_len %d out of range (buffer %d bytes)", xigLen, len(b))
	}
	gen := u64(b, 8)

	var (
		seen uint32
		p    pcb
	)
	off := roundup8(uint64(xigLen))
	for off < uint64(len(b)) {
		if uint64(len(b))-off < 8 {
			return formatErr("truncated record header at offset %d", off)
		}
		l, kind := u32(b, int(off)), u32(b, int(off)+4)
		if l < 8 {
			return formatErr("record length %d at offset %d", l, off)
		}
		if uint64(l) > uint64(len(b))-off {
			return formatErr("record of %d bytes at offset %d runs past the buffer end (%d)", l, off, len(b))
		}
		if l <= sizeofXinpgen { // the trailing xinpgen
			return nil
		}
		rec := b[off : off+uint64(l)]
		off += roundup8(uint64(l))

		switch kind {
		case KindInPCB, KindSocket, KindRcvBuf, KindSndBuf, KindStats, KindTCPCB:
		default:
			continue // a kind this parser does not know: skip it
		}
		if want&kind == 0 {
			continue // e.g. an xtcpcb_n in the UDP list
		}
		if seen&kind != 0 {
			// A kind repeats before the PCB was complete: drop the partial
			// PCB and start a new one with this record.
			seen = 0
		}
		seen |= kind
		switch kind {
		case KindInPCB:
			p.inp = rec
		case KindSocket:
			p.so = rec
		case KindRcvBuf:
			p.rcv = rec
		case KindSndBuf:
			p.snd = rec
		case KindStats:
			p.stats = rec
		case KindTCPCB:
			p.tcpb = rec
		}
		if seen != want {
			continue
		}
		seen = 0
		if err := fn(gen, &p); err != nil {
			return err
		}
	}
	return formatErr("no trailing xinpgen: buffer truncated after %d bytes", len(b))
}

type minRecord struct {
	name string
	b    []byte
	min  int
}

func checkLengths(rs ...minRecord) error {
	for _, r := range rs {
		if len(r.b) < r.min {
			return formatErr("%s record of %d bytes, want at least %d", r.name, len(r.b), r.min)
		}
	}
	return nil
}

// socketRecords checks the records every PCB carries and decodes what the
// TCP and UDP lists share; ok is false for a PCB to skip.
func socketRecords(gen uint64, p *pcb, proto int32) (s sockInfo, ok bool, err error) {
	if err := checkLengths(
		minRecord{"xinpcb_n", p.inp, inpMinLen},
		minRecord{"xsocket_n", p.so, soMinLen},
		minRecord{"xsockbuf_n (rcv)", p.rcv, sbMinLen},
		minRecord{"xsockbuf_n (snd)", p.snd, sbMinLen},
		minRecord{"xsockstat_n", p.stats, stMinLen},
	); err != nil {
		return s, false, err
	}
	if int32(u32(p.so, soProtocol)) != proto || u64(p.inp, inpGencnt) > gen {
		return s, false, nil
	}
	vflag := p.inp[inpVflag]
	if vflag&(inpVflagV4|inpVflagV6) == 0 {
		return s, false, nil
	}
	s = sockInfo{
		local:  netip.AddrPortFrom(pcbAddr(p.inp[inpLaddr:inpLaddr+16], vflag), binary.BigEndian.Uint16(p.inp[inpLport:])),
		remote: netip.AddrPortFrom(pcbAddr(p.inp[inpFaddr:inpFaddr+16], vflag), binary.BigEndian.Uint16(p.inp[inpFport:])),
		pid:    int32(u32(p.so, soLastPID)),
		epid:   int32(u32(p.so, soEPID)),
		uid:    u32(p.so, soUID),
		recvQ:  u32(p.rcv, sbCC),
		sendQ:  u32(p.snd, sbCC),
	}
	for i := range soTCStatMax {
		o := stTCStats + i*32
		s.rxPackets += u64(p.stats, o)
		s.rxBytes += u64(p.stats, o+8)
		s.txPackets += u64(p.stats, o+16)
		s.txBytes += u64(p.stats, o+24)
	}
	return s, true, nil
}

type sockInfo struct {
	local, remote                          netip.AddrPort
	pid, epid                              int32
	uid                                    uint32
	rxBytes, txBytes, rxPackets, txPackets uint64
	recvQ, sendQ                           uint32
}

// pcbAddr decodes a 16-byte inp_dependladdr/inp_dependfaddr union the way
// netstat does: an IPv4 address (the last 4 bytes) when inp_vflag has
// INP_IPV4, else the in6_addr. A dual-stack socket (INP_IPV4|INP_IPV6,
// an AF_INET6 socket bound to in6addr_any) with no address yields "::".
// Link- and interface-local IPv6 addresses lose the scope (interface index)
// the kernel embeds in bytes 2-3 (the KAME convention netstat also undoes),
// so they read as on the wire.
func pcbAddr(a []byte, vflag byte) netip.Addr {
	if vflag&inpVflagV4 != 0 {
		v4 := netip.AddrFrom4([4]byte(a[addr4Offset:16]))
		if v4.IsUnspecified() && vflag&inpVflagV6 != 0 {
			return netip.IPv6Unspecified()
		}
		return v4
	}
	b := [16]byte(a)
	v6 := netip.AddrFrom16(b)
	if v6.IsLinkLocalUnicast() || v6.IsLinkLocalMulticast() || v6.IsInterfaceLocalMulticast() {
		b[2], b[3] = 0, 0
		v6 = netip.AddrFrom16(b)
	}
	return v6
}

func buildTCPConn(gen uint64, p *pcb) (TCPConn, bool, error) {
	if err := checkLengths(minRecord{"xtcpcb_n", p.tcpb, tcpMinLen}); err != nil {
		return TCPConn{}, false, err
	}
	s, ok, err := socketRecords(gen, p, ipprotoTCP)
	if !ok || err != nil {
		return TCPConn{}, false, err
	}
	tcpb := p.tcpb
	return TCPConn{
		Local:       s.local,
		Remote:      s.remote,
		State:       int(int32(u32(tcpb, tState))),
		PID:         s.pid,
		EPID:        s.epid,
		UID:         s.uid,
		SRTTms:      fixedMs(u32(tcpb, tSrtt), tcpRTTScale),
		RTTVarMs:    fixedMs(u32(tcpb, tRttvar), tcpRTTVarScale),
		RxBytes:     s.rxBytes,
		TxBytes:     s.txBytes,
		RxPackets:   s.rxPackets,
		TxPackets:   s.txPackets,
		SeqSent:     u32(tcpb, tSndUna) - u32(tcpb, tIss),
		SeqReceived: u32(tcpb, tRcvNxt) - u32(tcpb, tIrs),
		RecvQ:       s.recvQ,
		SendQ:       s.sendQ,
	}, true, nil
}

func buildUDPConn(gen uint64, p *pcb) (UDPConn, bool, error) {
	s, ok, err := socketRecords(gen, p, ipprotoUDP)
	if !ok || err != nil {
		return UDPConn{}, false, err
	}
	return UDPConn{
		Local:     s.local,
		Remote:    s.remote,
		PID:       s.pid,
		EPID:      s.epid,
		UID:       s.uid,
		RxBytes:   s.rxBytes,
		TxBytes:   s.txBytes,
		RxPackets: s.rxPackets,
		TxPackets: s.txPackets,
		RecvQ:     s.recvQ,
		SendQ:     s.sendQ,
	}, true, nil
}

// fixedMs converts a scaled millisecond value; negative (corrupt) is 0.
func fixedMs(v uint32, scale float64) float64 {
	if int32(v) <= 0 {
		return 0
	}
	return float64(int32(v)) / scale
}

func u32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func u64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

func roundup8(n uint64) uint64 { return (n + 7) &^ 7 }
