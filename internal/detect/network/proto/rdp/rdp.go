// Package rdp recognises the Remote Desktop Protocol on any port: the
// TPKT/X.224 Connection Request (with the "Cookie: mstshash=" user hint
// and the RDP_NEG_REQ requested protocols) and Connection Confirm over TCP,
// and the MS-RDPEUDP SYN datagram over UDP.
package rdp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/text"
)

// ErrNotRDP means the bytes are not an RDP opening.
var ErrNotRDP = errors.New("not an RDP opening")

// Protocols requested or selected in RDP negotiation.
const (
	ProtoRDP    = 0
	ProtoSSL    = 1
	ProtoHybrid = 2 // CredSSP / NLA
)

// Request is an X.224 Connection Request.
type Request struct {
	Cookie    string
	Requested uint32
	HasNeg    bool
}

// Confirm is an X.224 Connection Confirm.
type Confirm struct {
	Selected uint32
	Failure  bool
}

func tpkt(b []byte) ([]byte, error) {
	if len(b) < 11 || b[0] != 3 || b[1] != 0 {
		return nil, ErrNotRDP
	}
	l := int(binary.BigEndian.Uint16(b[2:4]))
	if l < 11 || l > len(b) {
		return nil, ErrNotRDP
	}
	x := b[4:l]
	li := int(x[0])
	if li+1 > len(x) || li < 6 {
		return nil, ErrNotRDP
	}
	return x, nil
}

// ParseRequest parses a TPKT + X.224 CR (code 0xE0).
func ParseRequest(b []byte) (*Request, error) {
	x, err := tpkt(b)
	if err != nil {
		return nil, err
	}
	if x[1]&0xf0 != 0xe0 {
		return nil, ErrNotRDP
	}
	r := &Request{}
	v := x[7:]
	if bytes.HasPrefix(v, []byte("Cookie: ")) || bytes.HasPrefix(v, []byte("Cookie:")) {
		if i := bytes.Index(v, []byte("\r\n")); i > 0 {
			c := v[:i]
			if j := bytes.IndexByte(c, '='); j > 0 {
				r.Cookie = clean(c[j+1:])
			} else {
				r.Cookie = clean(c)
			}
			v = v[i+2:]
		}
	}
	if len(v) >= 8 && v[0] == 1 && binary.LittleEndian.Uint16(v[2:4]) == 8 {
		r.HasNeg, r.Requested = true, binary.LittleEndian.Uint32(v[4:8])
	}
	return r, nil
}

// ParseConfirm parses a TPKT + X.224 CC (code 0xD0).
func ParseConfirm(b []byte) (*Confirm, error) {
	x, err := tpkt(b)
	if err != nil {
		return nil, err
	}
	if x[1]&0xf0 != 0xd0 {
		return nil, ErrNotRDP
	}
	c := &Confirm{}
	v := x[7:]
	if len(v) >= 8 && binary.LittleEndian.Uint16(v[2:4]) == 8 {
		switch v[0] {
		case 2:
			c.Selected = binary.LittleEndian.Uint32(v[4:8])
		case 3:
			c.Failure = true
		}
	}
	return c, nil
}

// IsUDPSyn reports whether b is an MS-RDPEUDP SYN (or SYN+ACK) datagram:
// snSourceAck = -1, the SYN flag, and MTUs in the 1132..1232 range.
func IsUDPSyn(b []byte) bool {
	if len(b) < 16 || binary.BigEndian.Uint32(b) != 0xffffffff {
		return false
	}
	flags := binary.BigEndian.Uint16(b[6:8])
	if flags&0x0001 == 0 {
		return false
	}
	up := binary.BigEndian.Uint16(b[12:14])
	down := binary.BigEndian.Uint16(b[14:16])
	return up >= 1132 && up <= 1232 && down >= 1132 && down <= 1232
}

func clean(b []byte) string {
	return text.Printable(b, 64)
}
