// Package l2tp parses L2TP headers: version 2 over UDP (RFC 2661, port
// 1701) with the AVPs of control messages, and version 3 control messages
// over IP protocol 115 (RFC 3931, session id 0). Parsing is bounded by the
// bytes given.
package l2tp

import (
	"encoding/binary"
	"errors"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/text"
)

// Control message types (the Message Type AVP).
const (
	SCCRQ   = 1
	SCCRP   = 2
	SCCCN   = 3
	StopCCN = 4
	Hello   = 6
	OCRQ    = 7
	ICRQ    = 10
	ICRP    = 11
	ICCN    = 12
	CDN     = 14
)

// ErrNotL2TP means the bytes are not an L2TP message.
var ErrNotL2TP = errors.New("not an L2TP message")

// Message is one parsed L2TP message.
type Message struct {
	Version int
	Control bool
	// TunnelID and SessionID (v2); for v3 control, TunnelID is the
	// control connection id.
	TunnelID, SessionID uint32
	// Type is the control message type (0 for a ZLB acknowledgement or
	// a data message).
	Type int
	// HostName and Vendor from the SCCRQ/SCCRP AVPs (7, 8), when present.
	HostName, Vendor string
	// AVPs counts the attribute-value pairs read.
	AVPs int
}

// Parse reads an L2TPv2 message (UDP payload).
func Parse(b []byte) (Message, error) {
	if len(b) < 6 {
		return Message{}, ErrNotL2TP
	}
	fl := binary.BigEndian.Uint16(b)
	m := Message{Version: int(fl & 0xf), Control: fl&0x8000 != 0}
	if m.Version != 2 || fl&0x04f0 != 0 { // reserved bits
		return Message{}, ErrNotL2TP
	}
	hasLen, hasSeq, hasOff := fl&0x4000 != 0, fl&0x0800 != 0, fl&0x0200 != 0
	if m.Control && (!hasLen || !hasSeq || hasOff) {
		return Message{}, ErrNotL2TP
	}
	n := 2
	length := len(b)
	if hasLen {
		length = int(binary.BigEndian.Uint16(b[2:]))
		n += 2
		if length < 6 || (m.Control && length < 12) {
			return Message{}, ErrNotL2TP
		}
	}
	if len(b) < n+4 {
		return Message{}, ErrNotL2TP
	}
	m.TunnelID, m.SessionID = uint32(binary.BigEndian.Uint16(b[n:])), uint32(binary.BigEndian.Uint16(b[n+2:]))
	n += 4
	if hasSeq {
		n += 4
	}
	if hasOff {
		if len(b) < n+2 {
			return Message{}, ErrNotL2TP
		}
		n += 2 + int(binary.BigEndian.Uint16(b[n:]))
	}
	if len(b) < n || (hasLen && length < n) {
		return Message{}, ErrNotL2TP
	}
	if !m.Control {
		return m, nil
	}
	end := min(length, len(b))
	if err := avps(b[n:end], &m); err != nil {
		return Message{}, err
	}
	return m, nil
}

// ParseIP reads an L2TPv3 control message carried directly over IP
// (protocol 115): a zero session id, then the v3 control header.
func ParseIP(b []byte) (Message, error) {
	if len(b) < 16 || binary.BigEndian.Uint32(b) != 0 {
		return Message{}, ErrNotL2TP
	}
	b = b[4:]
	fl := binary.BigEndian.Uint16(b)
	// T=1, L=1, S=1, version 3, other bits zero.
	if fl != 0xc803 {
		return Message{}, ErrNotL2TP
	}
	length := int(binary.BigEndian.Uint16(b[2:]))
	if length < 12 {
		return Message{}, ErrNotL2TP
	}
	m := Message{Version: 3, Control: true, TunnelID: binary.BigEndian.Uint32(b[4:])}
	end := min(length, len(b))
	if err := avps(b[12:end], &m); err != nil {
		return Message{}, err
	}
	return m, nil
}

// avps reads the attribute-value pairs of a control message; the first
// must be the Message Type (a message with none is a ZLB acknowledgement).
func avps(b []byte, m *Message) error {
	for len(b) >= 6 && m.AVPs < 64 {
		hdr := binary.BigEndian.Uint16(b)
		l := int(hdr & 0x3ff)
		if hdr&0x3c00 != 0 || l < 6 || l > len(b) {
			if m.AVPs == 0 {
				return ErrNotL2TP
			}
			return nil // cut off or damaged after a valid start
		}
		vendor, attr := binary.BigEndian.Uint16(b[2:]), binary.BigEndian.Uint16(b[4:])
		val := b[6:l]
		if m.AVPs == 0 {
			if vendor != 0 || attr != 0 || len(val) != 2 {
				return ErrNotL2TP
			}
			m.Type = int(binary.BigEndian.Uint16(val))
			if m.Type == 0 || m.Type > 20 {
				return ErrNotL2TP
			}
		} else if vendor == 0 && hdr&0x4000 == 0 { // not hidden
			switch attr {
			case 7:
				m.HostName = printable(val)
			case 8:
				m.Vendor = printable(val)
			}
		}
		m.AVPs++
		b = b[l:]
	}
	if m.AVPs == 0 && len(b) > 0 {
		return ErrNotL2TP
	}
	return nil
}

func printable(b []byte) string {
	return text.Printable(b, 64)
}
