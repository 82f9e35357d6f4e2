package source

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// The one-socket sock_diag exchange (linux/inet_diag.h, linux/sock_diag.h):
// an inet_diag_req_v2 naming the exact 5-tuple without NLM_F_DUMP makes the
// kernel look that one socket up (inet_diag_find_one_icsk, udp_dump_one)
// and answer with one inet_diag_msg, or an NLMSG_ERROR (ENOENT when no
// socket has that tuple). The request and reply are built and parsed here,
// portably, so the parser is fuzzed on every OS; sockdiag_linux.go does the
// I/O.

const (
	nlmsgHdrLen      = 16
	inetDiagReqLen   = 56 // inet_diag_req_v2
	inetDiagMsgLen   = 72 // inet_diag_msg
	sockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY
	nlmsgError       = 2  // NLMSG_ERROR
	nlmFRequest      = 1  // NLM_F_REQUEST
	inetDiagInfo     = 2  // INET_DIAG_INFO: struct tcp_info follows
	afInet           = 2
	afInet6          = 10
	ipprotoTCP       = 6
	ipprotoUDP       = 17
	// tcp_info offsets (linux/tcp.h, stable ABI: fields are only appended).
	tcpiRTT           = 68
	tcpiRTTVar        = 72
	tcpiBytesAcked    = 120
	tcpiBytesReceived = 128
	tcpiDataSegsIn    = 152
	tcpiDataSegsOut   = 156
	tcpiBytesSent     = 200 // Linux 4.19+
	tcpiBytesRetrans  = 208
)

// payloadSent is the payload bytes a TCP socket sent, from tcp_info:
// bytes_sent less bytes_retrans (Linux 4.19+: payload only, exact on
// either end). Older kernels lack them (sent 0): bytes_acked less the SYN,
// which only the end that opened the connection counts there, so it reads
// one low on the accepting end.
func payloadSent(acked, sent, retrans uint64) uint64 {
	if sent > 0 {
		if retrans > sent {
			return 0
		}
		return sent - retrans
	}
	if acked > 0 {
		acked--
	}
	return acked
}

// ErrConnNotFound is returned when the OS has no socket with the asked-for
// endpoints (closed, or never on this host).
var ErrConnNotFound = errors.New("no such connection on this host")

// SocketInfo is what the kernel tells about one socket.
type SocketInfo struct {
	Proto string
	// Local and Remote are the socket's own endpoints as the kernel holds
	// them (addresses unmapped); Remote is unspecified for an unconnected
	// UDP socket.
	Local, Remote netip.AddrPort
	State         uint8 // TCP state (1 ESTABLISHED, 10 LISTEN, ...)
	UID           uint32
	Inode         uint32
	// TCP holds tcp_info's counters when the kernel sent them.
	TCP *TCPStats
}

// diagRequest builds the netlink message asking for the one socket of proto
// ("tcp" or "udp") with these endpoints: local is the socket's own end.
func diagRequest(proto string, local, remote netip.AddrPort, seq uint32) ([]byte, error) {
	var p uint8
	switch proto {
	case "tcp":
		p = ipprotoTCP
	case "udp":
		p = ipprotoUDP
	default:
		return nil, fmt.Errorf("sock_diag: protocol %q: want tcp or udp", proto)
	}
	la, ra := local.Addr().Unmap(), remote.Addr().Unmap()
	if !la.IsValid() || !ra.IsValid() {
		return nil, fmt.Errorf("sock_diag: invalid endpoints %v, %v", local, remote)
	}
	fam := uint8(afInet6)
	if la.Is4() && ra.Is4() {
		fam = afInet
	} else {
		la, ra = local.Addr(), remote.Addr()
		if la.Is4() {
			la = netip.AddrFrom16(la.As16())
		}
		if ra.Is4() {
			ra = netip.AddrFrom16(ra.As16())
		}
	}
	b := make([]byte, nlmsgHdrLen+inetDiagReqLen)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], sockDiagByFamily)
	ne.PutUint16(b[6:], nlmFRequest)
	ne.PutUint32(b[8:], seq)
	r := b[nlmsgHdrLen:]
	r[0], r[1], r[2] = fam, p, 1<<(inetDiagInfo-1)
	ne.PutUint32(r[4:], 0xffffffff) // every state
	id := r[8:]
	binary.BigEndian.PutUint16(id[0:], local.Port())
	binary.BigEndian.PutUint16(id[2:], remote.Port())
	putAddr(id[4:20], la)
	putAddr(id[20:36], ra)
	// id[36:40] interface 0; the cookie is INET_DIAG_NOCOOKIE.
	ne.PutUint32(id[40:], 0xffffffff)
	ne.PutUint32(id[44:], 0xffffffff)
	return b, nil
}

func putAddr(dst []byte, a netip.Addr) {
	if a.Is4() {
		v := a.As4()
		copy(dst, v[:])
		return
	}
	v := a.As16()
	copy(dst, v[:])
}

// parseDiagReply reads the kernel's answer to diagRequest: the socket, or
// ErrConnNotFound for ENOENT, or an error naming what was wrong. It never
// panics on malformed input.
func parseDiagReply(b []byte, proto string) (SocketInfo, error) {
	ne := binary.NativeEndian
	for len(b) >= nlmsgHdrLen {
		n := int(ne.Uint32(b[0:]))
		typ := ne.Uint16(b[4:])
		if n < nlmsgHdrLen || n > len(b) {
			return SocketInfo{}, fmt.Errorf("sock_diag reply: message length %d of %d bytes", n, len(b))
		}
		msg := b[nlmsgHdrLen:n]
		switch typ {
		case nlmsgError:
			if len(msg) < 4 {
				return SocketInfo{}, errors.New("sock_diag reply: short error message")
			}
			errno := -int32(ne.Uint32(msg))
			if errno == 0 {
				break // an acknowledgement
			}
			if syscall.Errno(errno) == syscall.ENOENT {
				return SocketInfo{}, ErrConnNotFound
			}
			return SocketInfo{}, fmt.Errorf("sock_diag: %w", syscall.Errno(errno))
		case sockDiagByFamily:
			return parseDiagMsg(msg, proto)
		}
		adv := (n + 3) &^ 3
		if adv > len(b) {
			break
		}
		b = b[adv:]
	}
	return SocketInfo{}, errors.New("sock_diag reply: no socket and no error")
}

// parseDiagMsg reads one inet_diag_msg and its attributes.
func parseDiagMsg(m []byte, proto string) (SocketInfo, error) {
	if len(m) < inetDiagMsgLen {
		return SocketInfo{}, fmt.Errorf("sock_diag reply: inet_diag_msg of %d bytes, want %d", len(m), inetDiagMsgLen)
	}
	ne := binary.NativeEndian
	fam := m[0]
	if fam != afInet && fam != afInet6 {
		return SocketInfo{}, fmt.Errorf("sock_diag reply: address family %d", fam)
	}
	id := m[4:52]
	addr := func(b []byte) netip.Addr {
		if fam == afInet {
			return netip.AddrFrom4([4]byte(b[:4]))
		}
		return netip.AddrFrom16([16]byte(b[:16])).Unmap()
	}
	s := SocketInfo{
		Proto:  proto,
		State:  m[1],
		Local:  netip.AddrPortFrom(addr(id[4:20]), binary.BigEndian.Uint16(id[0:])),
		Remote: netip.AddrPortFrom(addr(id[20:36]), binary.BigEndian.Uint16(id[2:])),
		UID:    ne.Uint32(m[64:]),
		Inode:  ne.Uint32(m[68:]),
	}
	attrs := m[inetDiagMsgLen:]
	for len(attrs) >= 4 {
		l := int(ne.Uint16(attrs[0:]))
		typ := ne.Uint16(attrs[2:]) & 0x3fff
		if l < 4 || l > len(attrs) {
			break
		}
		if typ == inetDiagInfo && proto == "tcp" {
			ti := attrs[4:l]
			if len(ti) >= tcpiDataSegsOut+4 {
				st := TCPStats{
					RTTms:         float64(ne.Uint32(ti[tcpiRTT:])) / 1000,
					RTTVarMs:      float64(ne.Uint32(ti[tcpiRTTVar:])) / 1000,
					BytesSent:     ne.Uint64(ti[tcpiBytesAcked:]),
					BytesReceived: ne.Uint64(ti[tcpiBytesReceived:]),
					SegsReceived:  uint64(ne.Uint32(ti[tcpiDataSegsIn:])),
					SegsSent:      uint64(ne.Uint32(ti[tcpiDataSegsOut:])),
				}
				if len(ti) >= tcpiBytesRetrans+8 {
					st.BytesSent = payloadSent(st.BytesSent, ne.Uint64(ti[tcpiBytesSent:]), ne.Uint64(ti[tcpiBytesRetrans:]))
				} else {
					st.BytesSent = payloadSent(st.BytesSent, 0, 0)
				}
				s.TCP = &st
			}
		}
		adv := (l + 3) &^ 3
		if adv > len(attrs) {
			break
		}
		attrs = attrs[adv:]
	}
	return s, nil
}
