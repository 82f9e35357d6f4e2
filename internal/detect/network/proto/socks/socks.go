// Package socks parses the opening of a SOCKS 4/4a or SOCKS 5 proxy
// conversation from both directions' first bytes: the version, the command
// and the requested destination, and whether the proxy granted it.
package socks

import (
	"encoding/binary"
	"errors"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/text"
	"net"
	"strconv"
)

// Session is a recognised SOCKS opening.
type Session struct {
	Version int
	Command int // 1 connect, 2 bind, 3 UDP associate
	Target  string
	Granted bool
}

// ErrNotSOCKS means the bytes are not a SOCKS opening.
var ErrNotSOCKS = errors.New("not a SOCKS handshake")

// Parse reads a SOCKS opening from the client's and server's first bytes.
func Parse(c2s, s2c []byte) (*Session, error) {
	if len(c2s) < 3 {
		return nil, ErrNotSOCKS
	}
	switch c2s[0] {
	case 4:
		return parse4(c2s, s2c)
	case 5:
		return parse5(c2s, s2c)
	}
	return nil, ErrNotSOCKS
}

func parse4(c, s []byte) (*Session, error) {
	// VN CD DSTPORT(2) DSTIP(4) USERID NUL [DOMAIN NUL]
	if len(c) < 9 || (c[1] != 1 && c[1] != 2) {
		return nil, ErrNotSOCKS
	}
	end := indexNUL(c[8:])
	if end < 0 || end > 255 {
		return nil, ErrNotSOCKS
	}
	// The reply is exactly VN=0, CD 90..93.
	if len(s) < 8 || s[0] != 0 || s[1] < 90 || s[1] > 93 {
		return nil, ErrNotSOCKS
	}
	port := binary.BigEndian.Uint16(c[2:4])
	host := net.IP(c[4:8]).String()
	if c[4] == 0 && c[5] == 0 && c[6] == 0 && c[7] != 0 { // SOCKS4a
		rest := c[8+end+1:]
		if e := indexNUL(rest); e > 0 {
			host = printable(rest[:e])
		}
	}
	return &Session{Version: 4, Command: int(c[1]), Target: net.JoinHostPort(host, strconv.Itoa(int(port))), Granted: s[1] == 90}, nil
}

func parse5(c, s []byte) (*Session, error) {
	n := int(c[1])
	if n == 0 || len(c) < 2+n {
		return nil, ErrNotSOCKS
	}
	for _, m := range c[2 : 2+n] {
		if m > 3 && m < 0x80 && m != 0xff {
			return nil, ErrNotSOCKS
		}
	}
	if len(s) < 2 || s[0] != 5 || (s[1] > 3 && s[1] != 0xff) {
		return nil, ErrNotSOCKS
	}
	sess := &Session{Version: 5}
	req := c[2+n:]
	sreply := s[2:]
	if s[1] == 2 && len(req) >= 2 && req[0] == 1 { // username/password sub-negotiation
		ul := int(req[1])
		if len(req) < 2+ul+1 {
			return sess, nil
		}
		pl := int(req[2+ul])
		if len(req) < 3+ul+pl {
			return sess, nil
		}
		req = req[3+ul+pl:]
		if len(sreply) >= 2 {
			sreply = sreply[2:]
		}
	}
	if len(req) < 4 || req[0] != 5 {
		return sess, nil // greeting only
	}
	sess.Command = int(req[1])
	var host string
	var p []byte
	switch req[3] {
	case 1:
		if len(req) < 10 {
			return sess, nil
		}
		host, p = net.IP(req[4:8]).String(), req[8:10]
	case 3:
		if len(req) < 5 {
			return sess, nil
		}
		l := int(req[4])
		if len(req) < 5+l+2 {
			return sess, nil
		}
		host, p = printable(req[5:5+l]), req[5+l:7+l]
	case 4:
		if len(req) < 22 {
			return sess, nil
		}
		host, p = net.IP(req[4:20]).String(), req[20:22]
	default:
		return sess, nil
	}
	sess.Target = net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(p))))
	sess.Granted = len(sreply) >= 2 && sreply[0] == 5 && sreply[1] == 0
	return sess, nil
}

func indexNUL(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

func printable(b []byte) string {
	return text.Printable(b, 0)
}
