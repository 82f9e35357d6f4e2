// Package decode parses the link, network and transport headers of one
// captured frame into a fixed-size Packet without allocating. It covers the
// link types farmwatch reads (Ethernet with 802.1Q/QinQ, Linux SLL and SLL2,
// raw IP, BSD loopback/null), IPv4 and IPv6 (skipping extension headers), and
// TCP and UDP; other IP protocols (ESP, ICMP, GRE) keep their addresses.
//
// It is hand-written rather than built on gopacket's DecodingLayerParser:
// farmwatch needs only addresses, ports, flags and the payload slice, and a
// straight-line decoder is several times faster, never allocates and is
// simple to fuzz.
package decode

import (
	"encoding/binary"
	"errors"
)

// Link types (the pcap LINKTYPE_ values).
const (
	LinkNull     = 0
	LinkEthernet = 1
	LinkRaw      = 101
	LinkLoop     = 108
	LinkSLL      = 113
	LinkIPv4     = 228
	LinkIPv6     = 229
	LinkSLL2     = 276
	linkRawBSD12 = 12
	linkRawBSD14 = 14
)

// IP protocol numbers the engine distinguishes.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoGRE    = 47
	ProtoESP    = 50
	ProtoICMPv6 = 58
)

// TCP flags.
const (
	FlagFIN = 0x01
	FlagSYN = 0x02
	FlagRST = 0x04
	FlagPSH = 0x08
	FlagACK = 0x10
)

// Errors returned by Decode; callers count them, they are not fatal.
var (
	ErrLinkType  = errors.New("unsupported link type")
	ErrShort     = errors.New("frame too short")
	ErrNotIP     = errors.New("not an IP packet")
	ErrMalformed = errors.New("malformed header")
	ErrFragment  = errors.New("non-first IP fragment")
)

// Packet is one decoded frame. Src and Dst hold IPv4 addresses in their
// first four bytes when V6 is false. Payload aliases the frame.
type Packet struct {
	Src, Dst         [16]byte
	V6               bool
	Proto            uint8
	SrcPort, DstPort uint16
	Flags            uint8 // TCP flags
	Seq, Ack         uint32
	Window           uint16
	IPLen            int // bytes of the IP packet (from its header)
	// Payload is the captured transport payload; PayloadLen is its length
	// on the wire, from the IP (and UDP) headers. A live capture caps what
	// the kernel copies, so Payload may be shorter: count PayloadLen, parse
	// Payload.
	Payload    []byte
	PayloadLen int
	// ESP carries the SPI for IP protocol 50, used as the flow's port.
	SPI uint32
}

// Decode parses frame of the given link type into p. p is overwritten.
func Decode(linkType int, frame []byte, p *Packet) error {
	*p = Packet{}
	switch linkType {
	case LinkEthernet:
		return decodeEthernet(frame, p)
	case LinkRaw, LinkIPv4, LinkIPv6, linkRawBSD12, linkRawBSD14:
		return decodeIP(frame, p)
	case LinkNull, LinkLoop:
		if len(frame) < 4 {
			return ErrShort
		}
		// The address family is host-endian (null) or big-endian (loop);
		// IPv4 is 2 everywhere, IPv6 is 24, 28 or 30 depending on the BSD.
		return decodeIP(frame[4:], p)
	case LinkSLL:
		if len(frame) < 16 {
			return ErrShort
		}
		return decodeEtherType(binary.BigEndian.Uint16(frame[14:16]), frame[16:], p)
	case LinkSLL2:
		if len(frame) < 20 {
			return ErrShort
		}
		return decodeEtherType(binary.BigEndian.Uint16(frame[0:2]), frame[20:], p)
	}
	return ErrLinkType
}

func decodeEthernet(b []byte, p *Packet) error {
	if len(b) < 14 {
		return ErrShort
	}
	return decodeEtherType(binary.BigEndian.Uint16(b[12:14]), b[14:], p)
}

func decodeEtherType(et uint16, b []byte, p *Packet) error {
	// 802.1Q, 802.1ad (QinQ) and the old 0x9100 QinQ tag, any depth up to 4.
	for i := 0; i < 4 && (et == 0x8100 || et == 0x88a8 || et == 0x9100); i++ {
		if len(b) < 4 {
			return ErrShort
		}
		et = binary.BigEndian.Uint16(b[2:4])
		b = b[4:]
	}
	switch et {
	case 0x0800, 0x86dd:
		return decodeIP(b, p)
	case 0x8864: // PPPoE session: 6-byte header then a 2-byte PPP protocol
		if len(b) < 8 {
			return ErrShort
		}
		switch binary.BigEndian.Uint16(b[6:8]) {
		case 0x0021, 0x0057:
			return decodeIP(b[8:], p)
		}
	}
	return ErrNotIP
}

func decodeIP(b []byte, p *Packet) error {
	if len(b) < 1 {
		return ErrShort
	}
	switch b[0] >> 4 {
	case 4:
		return decodeIPv4(b, p)
	case 6:
		return decodeIPv6(b, p)
	}
	return ErrNotIP
}

func decodeIPv4(b []byte, p *Packet) error {
	if len(b) < 20 {
		return ErrShort
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if ihl < 20 || total < ihl || len(b) < ihl {
		return ErrMalformed
	}
	if total < len(b) { // strip Ethernet padding
		b = b[:total]
	}
	copy(p.Src[:4], b[12:16])
	copy(p.Dst[:4], b[16:20])
	p.Proto = b[9]
	p.IPLen = total
	if binary.BigEndian.Uint16(b[6:8])&0x1fff != 0 {
		return ErrFragment
	}
	return decodeTransport(b[ihl:], total-ihl, p)
}

func decodeIPv6(b []byte, p *Packet) error {
	if len(b) < 40 {
		return ErrShort
	}
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	p.V6 = true
	copy(p.Src[:], b[8:24])
	copy(p.Dst[:], b[24:40])
	p.IPLen = 40 + plen
	if 40+plen < len(b) {
		b = b[:40+plen]
	}
	next := b[6]
	b = b[40:]
	wire := plen // transport bytes on the wire, after the headers skipped
	// Skip hop-by-hop, routing, destination options and fragment headers.
	for i := 0; i < 8; i++ {
		switch next {
		case 0, 43, 60:
			if len(b) < 8 {
				return ErrShort
			}
			n := (int(b[1]) + 1) * 8
			if len(b) < n {
				return ErrShort
			}
			next, b, wire = b[0], b[n:], wire-n
			continue
		case 44:
			if len(b) < 8 {
				return ErrShort
			}
			if binary.BigEndian.Uint16(b[2:4])&0xfff8 != 0 {
				p.Proto = b[0]
				return ErrFragment
			}
			next, b, wire = b[0], b[8:], wire-8
			continue
		}
		break
	}
	p.Proto = next
	return decodeTransport(b, wire, p)
}

// decodeTransport parses the transport header in b (captured bytes, maybe
// fewer than the wire bytes of the segment).
func decodeTransport(b []byte, wire int, p *Packet) error {
	if wire < len(b) {
		wire = len(b)
	}
	switch p.Proto {
	case ProtoTCP:
		if len(b) < 20 {
			return ErrShort
		}
		off := int(b[12]>>4) * 4
		if off < 20 || off > len(b) {
			return ErrMalformed
		}
		p.SrcPort = binary.BigEndian.Uint16(b[0:2])
		p.DstPort = binary.BigEndian.Uint16(b[2:4])
		p.Seq = binary.BigEndian.Uint32(b[4:8])
		p.Ack = binary.BigEndian.Uint32(b[8:12])
		p.Flags = b[13]
		p.Window = binary.BigEndian.Uint16(b[14:16])
		p.Payload = b[off:]
		p.PayloadLen = wire - off
	case ProtoUDP:
		if len(b) < 8 {
			return ErrShort
		}
		p.SrcPort = binary.BigEndian.Uint16(b[0:2])
		p.DstPort = binary.BigEndian.Uint16(b[2:4])
		ul := int(binary.BigEndian.Uint16(b[4:6]))
		if ul >= 8 && ul < len(b) {
			b = b[:ul]
		}
		p.Payload = b[8:]
		p.PayloadLen = len(p.Payload)
		if ul >= 8 && ul <= wire {
			p.PayloadLen = ul - 8
		} else if wire > len(b) {
			p.PayloadLen = wire - 8
		}
	case ProtoESP:
		if len(b) >= 4 {
			p.SPI = binary.BigEndian.Uint32(b[0:4])
		}
		p.Payload, p.PayloadLen = b, wire
	default:
		p.Payload, p.PayloadLen = b, wire
	}
	return nil
}
