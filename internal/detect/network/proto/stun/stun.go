// Package stun recognises STUN (RFC 5389/8489) messages — the NAT
// traversal that WebRTC, Chrome Remote Desktop, Parsec and most peer-to-peer
// remote-control tools use before their media flows — and reads the
// SOFTWARE attribute and whether the message is a TURN allocation.
package stun

import (
	"encoding/binary"
	"errors"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/text"
)

// MagicCookie is the fixed value at offset 4 of every RFC 5389 message.
const MagicCookie = 0x2112A442

// ErrNotSTUN means the datagram is not a STUN message.
var ErrNotSTUN = errors.New("not a STUN message")

// Message is a parsed STUN header and the attributes the engine uses.
type Message struct {
	Method   uint16 // 1 binding, 3 allocate (TURN), …
	Class    uint8  // 0 request, 1 indication, 2 success, 3 error
	Software string
	Username bool
}

// Parse checks the header (type, length, magic cookie) and walks the
// attributes.
func Parse(b []byte) (*Message, error) {
	if len(b) < 20 || b[0]&0xc0 != 0 {
		return nil, ErrNotSTUN
	}
	l := int(binary.BigEndian.Uint16(b[2:4]))
	if l%4 != 0 || 20+l > len(b) || binary.BigEndian.Uint32(b[4:8]) != MagicCookie {
		return nil, ErrNotSTUN
	}
	t := binary.BigEndian.Uint16(b[0:2])
	m := &Message{
		Method: t&0x000f | (t&0x00e0)>>1 | (t&0x3e00)>>2,
		Class:  uint8((t&0x0010)>>4 | (t&0x0100)>>7),
	}
	a := b[20 : 20+l]
	for len(a) >= 4 {
		at := binary.BigEndian.Uint16(a[0:2])
		al := int(binary.BigEndian.Uint16(a[2:4]))
		if 4+al > len(a) {
			return nil, errors.New("STUN attribute overruns message")
		}
		v := a[4 : 4+al]
		switch at {
		case 0x8022:
			m.Software = clean(v)
		case 0x0006:
			m.Username = true
		}
		pad := (al + 3) &^ 3
		if 4+pad > len(a) {
			break
		}
		a = a[4+pad:]
	}
	return m, nil
}

func clean(b []byte) string {
	return text.Printable(b, 128)
}
