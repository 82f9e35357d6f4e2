// Package pptp parses the PPTP control connection (RFC 2637, TCP 1723) and
// the enhanced GRE header (version 1) that carries its PPP data, plus the
// plain GRE header (RFC 2784/2890, version 0) other tunnels use. Parsing is
// bounded by the bytes given; nothing is allocated beyond the result.
package pptp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/text"
)

// Magic is the PPTP magic cookie every control message carries.
const Magic = 0x1A2B3C4D

// Control message types (RFC 2637 §2).
const (
	StartControlRequest = 1
	StartControlReply   = 2
	StopControlRequest  = 3
	StopControlReply    = 4
	EchoRequest         = 5
	EchoReply           = 6
	OutgoingCallRequest = 7
	OutgoingCallReply   = 8
	IncomingCallRequest = 9
	IncomingCallReply   = 10
	IncomingCallConn    = 11
	CallClearRequest    = 12
	CallDisconnectNotif = 13
	WANErrorNotify      = 14
	SetLinkInfo         = 15
)

// ErrNotPPTP means the bytes are not a PPTP control message (or GRE header).
var ErrNotPPTP = errors.New("not a PPTP control message")

// Message is one control message.
type Message struct {
	Type int
	// Version (Start-Control-Connection) is the protocol version, 0x0100.
	Version int
	// Hostname and Vendor come from Start-Control-Connection messages.
	Hostname, Vendor string
	// CallID is the sender's call id of an Outgoing-Call request/reply.
	CallID int
}

// Parse reads the control messages at the start of a TCP stream prefix
// (at most max of them); it fails unless the first one is well formed.
func Parse(b []byte, max int) ([]Message, error) {
	var out []Message
	for len(b) >= 12 && len(out) < max {
		n := int(binary.BigEndian.Uint16(b))
		if n < 16 || n > 1500 || binary.BigEndian.Uint16(b[2:]) != 1 || binary.BigEndian.Uint32(b[4:]) != Magic {
			break
		}
		m := Message{Type: int(binary.BigEndian.Uint16(b[8:]))}
		if m.Type < StartControlRequest || m.Type > SetLinkInfo {
			break
		}
		body := b[12:]
		if len(body) > n-12 {
			body = body[:n-12]
		}
		switch m.Type {
		case StartControlRequest, StartControlReply:
			if len(body) >= 2 {
				m.Version = int(binary.BigEndian.Uint16(body))
			}
			// version 2, result/reserved 2, framing 4, bearer 4, channels 2,
			// firmware 2, host name 64, vendor 64.
			if len(body) >= 16+64 {
				m.Hostname = cstr(body[16 : 16+64])
			}
			if len(body) >= 16+128 {
				m.Vendor = cstr(body[16+64 : 16+128])
			}
		case OutgoingCallRequest, OutgoingCallReply:
			if len(body) >= 2 {
				m.CallID = int(binary.BigEndian.Uint16(body))
			}
		}
		out = append(out, m)
		if len(b) < n {
			break
		}
		b = b[n:]
	}
	if len(out) == 0 {
		return nil, ErrNotPPTP
	}
	return out, nil
}

// cstr is a NUL-terminated field as printable text.
func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return text.Printable(b, 0)
}

// GRE protocol types seen in tunnels.
const (
	GREPPP      = 0x880B // PPTP's enhanced GRE
	GREIPv4     = 0x0800
	GREIPv6     = 0x86DD
	GREEthernet = 0x6558 // transparent Ethernet bridging (gretap)
	GREERSPAN   = 0x88BE
)

// GRE is a parsed GRE header.
type GRE struct {
	Version  int // 0 plain GRE, 1 PPTP enhanced GRE
	Protocol uint16
	// Key: the key field (version 0) or payload length<<16 | call id
	// (version 1).
	Key                    uint32
	HasKey, HasSeq, HasAck bool
	CallID, PayloadLen     int
	HeaderLen              int
}

// ParseGRE reads a GRE header (the payload of IP protocol 47).
func ParseGRE(b []byte) (GRE, error) {
	if len(b) < 4 {
		return GRE{}, ErrNotPPTP
	}
	g := GRE{Version: int(b[1] & 7), Protocol: binary.BigEndian.Uint16(b[2:])}
	c, k, s := b[0]&0x80 != 0, b[0]&0x20 != 0, b[0]&0x10 != 0
	g.HasKey, g.HasSeq = k, s
	n := 4
	switch g.Version {
	case 0:
		// Reserved0 bits 1 and 4..12 must be zero (RFC 2784: bit 1 is
		// the old routing bit, never set today).
		if b[0]&0x4f != 0 || b[1]&0xf8 != 0 {
			return GRE{}, ErrNotPPTP
		}
		if c {
			n += 4
		}
		if k {
			if len(b) < n+4 {
				return GRE{}, ErrNotPPTP
			}
			g.Key = binary.BigEndian.Uint32(b[n:])
			n += 4
		}
		if s {
			n += 4
		}
	case 1:
		// Enhanced GRE: C=0, R=0, K=1, s=0, recursion 0, protocol PPP.
		g.HasAck = b[1]&0x80 != 0
		if c || !k || b[0]&0x4f != 0 || b[1]&0x78 != 0 || g.Protocol != GREPPP || len(b) < 8 {
			return GRE{}, ErrNotPPTP
		}
		g.Key = binary.BigEndian.Uint32(b[4:])
		g.PayloadLen, g.CallID = int(binary.BigEndian.Uint16(b[4:])), int(binary.BigEndian.Uint16(b[6:]))
		n = 8
		if s {
			n += 4
		}
		if g.HasAck {
			n += 4
		}
	default:
		return GRE{}, ErrNotPPTP
	}
	if len(b) < n {
		return GRE{}, ErrNotPPTP
	}
	g.HeaderLen = n
	return g, nil
}
