// Package ssh parses the cleartext start of an SSH connection: the
// identification banner ("SSH-2.0-OpenSSH_9.6") and the message numbers of
// the binary packets before encryption starts, which tell the SSH client
// from the SSH server whatever the TCP roles are (the side that sends
// KEXDH_INIT/KEX_ECDH_INIT, message 30, is the SSH client).
package ssh

import (
	"bytes"
	"encoding/binary"
	"errors"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/text"
)

// ErrNotSSH means the bytes do not start with an SSH banner.
var ErrNotSSH = errors.New("not an SSH banner")

// Message numbers used to tell roles.
const (
	MsgKexInit   = 20
	MsgNewKeys   = 21
	MsgKexInit30 = 30 // KEXDH_INIT / KEX_ECDH_INIT / KEX_HYBRID_INIT: sent by the client
	MsgKexReply  = 31 // sent by the server
)

// Stream is one direction's cleartext SSH prefix.
type Stream struct {
	Banner   string
	Messages []byte // message numbers until NEWKEYS or the capture ends
}

// Parse reads a banner (possibly preceded by other lines, as RFC 4253
// allows from servers) and the following cleartext binary packets.
func Parse(b []byte) (*Stream, error) {
	for i := 0; i < 8; i++ {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			if bytes.HasPrefix(b, []byte("SSH-")) && len(b) >= 8 {
				return &Stream{Banner: clean(b)}, nil
			}
			return nil, ErrNotSSH
		}
		line := bytes.TrimRight(b[:nl], "\r")
		b = b[nl+1:]
		if bytes.HasPrefix(line, []byte("SSH-")) {
			if !bytes.HasPrefix(line, []byte("SSH-2.0-")) && !bytes.HasPrefix(line, []byte("SSH-1.99-")) && !bytes.HasPrefix(line, []byte("SSH-1.")) {
				return nil, ErrNotSSH
			}
			s := &Stream{Banner: clean(line)}
			s.Messages = messages(b)
			return s, nil
		}
		if i == 0 && len(line) > 0 && (line[0] < 0x20 && line[0] != '\t') {
			return nil, ErrNotSSH
		}
	}
	return nil, ErrNotSSH
}

func messages(b []byte) []byte {
	var out []byte
	for len(b) >= 6 && len(out) < 16 {
		l := int(binary.BigEndian.Uint32(b))
		if l < 2 || l > 35000 {
			break
		}
		out = append(out, b[5])
		if b[5] == MsgNewKeys {
			break
		}
		if len(b) < 4+l {
			break
		}
		b = b[4+l:]
	}
	return out
}

// Has reports whether the stream sent message number m.
func (s *Stream) Has(m byte) bool { return bytes.IndexByte(s.Messages, m) >= 0 }

// Software returns the software part of the banner ("OpenSSH_9.6").
func (s *Stream) Software() string {
	b := s.Banner
	for i, n := 0, 0; i < len(b); i++ {
		if b[i] == '-' {
			n++
			if n == 2 {
				return b[i+1:]
			}
		}
	}
	return ""
}

func clean(b []byte) string {
	return text.Printable(b, 255)
}
