// Package xnu parses the binary TCP connection table that the macOS (XNU)
// kernel exports through the sysctl net.inet.tcp.pcblist_n — the source
// `netstat -n -b -v` reads — into per-connection endpoints, owner pids,
// state, RTT and traffic counters. It is pure Go with no build tags, so the
// parser is tested and fuzzed on any OS; only the sysctl call itself lives in
// the darwin build (internal/source/tcpstats_darwin.go).
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

	kindAllTCP = KindSocket | KindRcvBuf | KindSndBuf | KindStats | KindInPCB | KindTCPCB
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

// ErrFormat is wrapped by every parse error.
var ErrFormat = errors.New("malformed pcblist_n buffer")

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// ParseTCPPCBList parses a net.inet.tcp.pcblist_n buffer. It returns the
// connections parsed so far together with an error (wrapping ErrFormat)
// when the buffer is malformed or truncated; it never panics. PCBs that are
// not IPv4/IPv6 TCP, or that were allocated while the kernel copied the
// list out (inp_gencnt newer than the header's generation), are skipped as
// netstat does.
func ParseTCPPCBList(b []byte) ([]TCPConn, error) {
	if len(b) < sizeofXinpgen {
		return nil, formatErr("%d bytes, shorter than struct xinpgen (%d)", len(b), sizeofXinpgen)
	}
	xigLen := u32(b, 0)
	if xigLen < sizeofXinpgen || uint64(xigLen) > uint64(len(b)) {
		return nil, formatErr("header xig_len %d out of range (buffer %d bytes)", xigLen, len(b))
	}
	gen := u64(b, 8)

	var (
		out                            []TCPConn
		seen                           uint32
		inp, so, rcv, snd, stats, tcpb []byte
	)
	off := roundup8(uint64(xigLen))
	for off < uint64(len(b)) {
		if uint64(len(b))-off < 8 {
			return out, formatErr("truncated record header at offset %d", off)
		}
		l, kind := u32(b, int(off)), u32(b, int(off)+4)
		if l < 8 {
			return out, formatErr("record length %d at offset %d", l, off)
		}
		if uint64(l) > uint64(len(b))-off {
			return out, formatErr("record of %d bytes at offset %d runs past the buffer end (%d)", l, off, len(b))
		}
		if l <= sizeofXinpgen { // the trailing xinpgen
			return out, nil
		}
		rec := b[off : off+uint64(l)]
		off += roundup8(uint64(l))

		switch kind {
		case KindInPCB, KindSocket, KindRcvBuf, KindSndBuf, KindStats, KindTCPCB:
		default:
			continue // a kind this parser does not know: skip it
		}
		if seen&kind != 0 {
			// A kind repeats before the PCB was complete: drop the partial
			// PCB and start a new one with this record.
			seen = 0
		}
		seen |= kind
		switch kind {
		case KindInPCB:
			inp = rec
		case KindSocket:
			so = rec
		case KindRcvBuf:
			rcv = rec
		case KindSndBuf:
			snd = rec
		case KindStats:
			stats = rec
		case KindTCPCB:
			tcpb = rec
		}
		if seen != kindAllTCP {
			continue
		}
		seen = 0
		c, ok, err := buildConn(gen, inp, so, rcv, snd, stats, tcpb)
		if err != nil {
			return out, err
		}
		if ok {
			out = append(out, c)
		}
	}
	return out, formatErr("no trailing xinpgen: buffer truncated after %d bytes", len(b))
}

func buildConn(gen uint64, inp, so, rcv, snd, stats, tcpb []byte) (TCPConn, bool, error) {
	for _, r := range []struct {
		name string
		b    []byte
		min  int
	}{
		{"xinpcb_n", inp, inpMinLen},
		{"xsocket_n", so, soMinLen},
		{"xsockbuf_n (rcv)", rcv, sbMinLen},
		{"xsockbuf_n (snd)", snd, sbMinLen},
		{"xsockstat_n", stats, stMinLen},
		{"xtcpcb_n", tcpb, tcpMinLen},
	} {
		if len(r.b) < r.min {
			return TCPConn{}, false, formatErr("%s record of %d bytes, want at least %d", r.name, len(r.b), r.min)
		}
	}
	if int32(u32(so, soProtocol)) != ipprotoTCP || u64(inp, inpGencnt) > gen {
		return TCPConn{}, false, nil
	}
	var local, remote netip.Addr
	switch vflag := inp[inpVflag]; {
	case vflag&inpVflagV4 != 0:
		local = netip.AddrFrom4([4]byte(inp[inpLaddr+addr4Offset : inpLaddr+16]))
		remote = netip.AddrFrom4([4]byte(inp[inpFaddr+addr4Offset : inpFaddr+16]))
	case vflag&inpVflagV6 != 0:
		local = netip.AddrFrom16([16]byte(inp[inpLaddr : inpLaddr+16]))
		remote = netip.AddrFrom16([16]byte(inp[inpFaddr : inpFaddr+16]))
	default:
		return TCPConn{}, false, nil
	}
	c := TCPConn{
		Local:       netip.AddrPortFrom(local, binary.BigEndian.Uint16(inp[inpLport:])),
		Remote:      netip.AddrPortFrom(remote, binary.BigEndian.Uint16(inp[inpFport:])),
		State:       int(int32(u32(tcpb, tState))),
		PID:         int32(u32(so, soLastPID)),
		EPID:        int32(u32(so, soEPID)),
		UID:         u32(so, soUID),
		SRTTms:      fixedMs(u32(tcpb, tSrtt), tcpRTTScale),
		RTTVarMs:    fixedMs(u32(tcpb, tRttvar), tcpRTTVarScale),
		SeqSent:     u32(tcpb, tSndUna) - u32(tcpb, tIss),
		SeqReceived: u32(tcpb, tRcvNxt) - u32(tcpb, tIrs),
		RecvQ:       u32(rcv, sbCC),
		SendQ:       u32(snd, sbCC),
	}
	for i := range soTCStatMax {
		o := stTCStats + i*32
		c.RxPackets += u64(stats, o)
		c.RxBytes += u64(stats, o+8)
		c.TxPackets += u64(stats, o+16)
		c.TxBytes += u64(stats, o+24)
	}
	return c, true, nil
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
