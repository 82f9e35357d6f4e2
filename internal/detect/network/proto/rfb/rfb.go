// Package rfb recognises the RFB (VNC) protocol from the start of a flow on
// any port: the 12-byte "RFB xxx.yyy\n" ProtocolVersion banner the server
// sends and the client echoes, then the security handshake. A server banner
// the client never answers, or a handshake with nothing after it, is a
// scan or a banner grab rather than a session.
package rfb

import "errors"

// ErrNotRFB means the bytes do not start with an RFB banner.
var ErrNotRFB = errors.New("not an RFB banner")

// Version is a parsed ProtocolVersion message.
type Version struct{ Major, Minor int }

// ParseVersion reads "RFB 003.008\n".
func ParseVersion(b []byte) (Version, error) {
	if len(b) < 12 || string(b[:4]) != "RFB " || b[7] != '.' || b[11] != '\n' {
		return Version{}, ErrNotRFB
	}
	maj, ok1 := digits(b[4:7])
	min, ok2 := digits(b[8:11])
	if !ok1 || !ok2 {
		return Version{}, ErrNotRFB
	}
	return Version{maj, min}, nil
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Handshake summarises the RFB opening of a flow.
type Handshake struct {
	Server, Client Version
	ClientAnswered bool
	SecurityTypes  []byte
	// Walked is true when the security exchange used a type this parser
	// can follow (None or VNC authentication).
	Walked bool
	// AuthOK and ServerInit: the server accepted the client and sent its
	// framebuffer parameters — a session, not a probe.
	AuthOK     bool
	ServerInit bool
	Width      int
	Height     int
	Name       string
}

// Parse reads the server's and client's first bytes and follows the
// handshake (ProtocolVersion, security, ServerInit) as far as it can.
func Parse(s2c, c2s []byte) (*Handshake, error) {
	sv, err := ParseVersion(s2c)
	if err != nil {
		return nil, err
	}
	h := &Handshake{Server: sv}
	if cv, err := ParseVersion(c2s); err == nil {
		h.Client, h.ClientAnswered = cv, true
	}
	s := s2c[12:]
	var c []byte
	if h.ClientAnswered {
		c = c2s[12:]
	}
	minor := sv.Minor
	if h.ClientAnswered && h.Client.Minor < minor {
		minor = h.Client.Minor
	}
	var chosen byte
	if minor >= 7 {
		if len(s) < 1 {
			return h, nil
		}
		n := int(s[0])
		if n == 0 || len(s) < 1+n {
			return h, nil // 0 = failure with a reason string
		}
		h.SecurityTypes = append([]byte(nil), s[1:1+n]...)
		s = s[1+n:]
		if len(c) < 1 {
			return h, nil
		}
		chosen, c = c[0], c[1:]
	} else {
		if len(s) < 4 {
			return h, nil
		}
		chosen = s[3]
		h.SecurityTypes = []byte{chosen}
		s = s[4:]
	}
	switch chosen {
	case 1: // None
	case 2: // VNC authentication: 16-byte challenge and response
		if len(s) < 16 || len(c) < 16 {
			return h, nil
		}
		s = s[16:]
	default:
		return h, nil
	}
	h.Walked = true
	if chosen == 2 || minor >= 8 {
		if len(s) < 4 {
			return h, nil
		}
		if s[0]|s[1]|s[2]|s[3] != 0 {
			return h, nil // authentication failed
		}
		s = s[4:]
	}
	h.AuthOK = true
	// ServerInit: width, height, 16-byte pixel format, name length, name.
	if len(s) < 24 {
		return h, nil
	}
	h.ServerInit = true
	h.Width = int(s[0])<<8 | int(s[1])
	h.Height = int(s[2])<<8 | int(s[3])
	nl := int(s[20])<<24 | int(s[21])<<16 | int(s[22])<<8 | int(s[23])
	if nl > 0 && nl <= 256 && len(s) >= 24+nl {
		h.Name = printable(s[24 : 24+nl])
	}
	return h, nil
}

func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, ch := range b {
		if ch < 0x20 || ch >= 0x7f {
			ch = '?'
		}
		out[i] = ch
	}
	return string(out)
}
