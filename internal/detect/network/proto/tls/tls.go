// Package tls parses the cleartext part of a TLS (or DTLS) handshake from
// the first bytes of each direction of a flow: the ClientHello (SNI, ALPN,
// offered versions, cipher suites, extensions, signature algorithms and the
// JA4 client fingerprint), the ServerHello (selected version, cipher, ALPN)
// and, before TLS 1.3, the server's Certificate message (subject and issuer
// common name and organisation of the leaf certificate). It reads only the
// bytes it is given and never allocates more than the handshake it parses.
package tls

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/text"
)

// Handshake message types.
const (
	typeClientHello = 1
	typeServerHello = 2
	typeCertificate = 11
)

// maxHandshake caps reassembly of one handshake message.
const maxHandshake = 1 << 16

// ErrNotTLS means the bytes do not start with a TLS handshake record.
var ErrNotTLS = errors.New("not a TLS handshake")

// ClientHello is what a client offers.
type ClientHello struct {
	DTLS              bool
	LegacyVersion     uint16
	SupportedVersions []uint16
	SNI               string
	ALPN              []string
	Ciphers           []uint16
	Extensions        []uint16 // in wire order, GREASE included
	SigAlgs           []uint16
}

// ServerHello is the server's choice, plus its leaf certificate names when
// the Certificate message is in the clear (TLS ≤ 1.2).
type ServerHello struct {
	Version uint16 // negotiated (supported_versions when present)
	Cipher  uint16
	ALPN    string
	Cert    *Certificate
}

// Certificate holds the names of a leaf certificate.
type Certificate struct {
	SubjectCN, SubjectO string
	IssuerCN, IssuerO   string
}

// IsHandshake reports whether b starts like a TLS or DTLS handshake record.
func IsHandshake(b []byte) bool {
	if len(b) < 5 || b[0] != 22 {
		return false
	}
	return (b[1] == 3 && b[2] <= 4) || (b[1] == 0xfe && b[2] >= 0xfc)
}

// messages reassembles handshake messages from records in b and calls fn
// with each (type, body) until fn returns false or the bytes run out.
func messages(b []byte, fn func(typ byte, body []byte) bool) error {
	if !IsHandshake(b) {
		return ErrNotTLS
	}
	dtls := b[1] == 0xfe
	hdr := 5
	if dtls {
		hdr = 13
	}
	var buf []byte
	for len(b) >= hdr {
		ctype := b[0]
		rlen := int(binary.BigEndian.Uint16(b[hdr-2 : hdr]))
		if len(b) < hdr+rlen {
			// Truncated record: use what we have.
			rlen = len(b) - hdr
		}
		rec := b[hdr : hdr+rlen]
		b = b[hdr+rlen:]
		if ctype != 22 {
			if ctype == 20 || ctype == 23 { // ChangeCipherSpec / data: handshake is over or encrypted
				break
			}
			continue
		}
		if dtls {
			// DTLS handshake header: type(1) len(3) seq(2) fragoff(3) fraglen(3)
			for len(rec) >= 12 {
				flen := int(rec[9])<<16 | int(rec[10])<<8 | int(rec[11])
				if flen > len(rec)-12 {
					flen = len(rec) - 12
				}
				if !fn(rec[0], rec[12:12+flen]) {
					return nil
				}
				rec = rec[12+flen:]
			}
			continue
		}
		if len(buf)+len(rec) > maxHandshake {
			return fmt.Errorf("handshake longer than %d bytes", maxHandshake)
		}
		buf = append(buf, rec...)
		for len(buf) >= 4 {
			mlen := int(buf[1])<<16 | int(buf[2])<<8 | int(buf[3])
			if len(buf) < 4+mlen {
				break
			}
			if !fn(buf[0], buf[4:4+mlen]) {
				return nil
			}
			buf = buf[4+mlen:]
		}
	}
	if len(buf) >= 4 {
		// The last message is cut off by the capture limit: hand over the prefix.
		fn(buf[0], buf[4:])
	}
	return nil
}

type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u8() int {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return int(v)
}

func (r *reader) u16() int {
	if len(r.b) < 2 {
		r.bad = true
		return 0
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return int(v)
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.bad = true
		r.b = nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// ParseClientHello parses the first ClientHello in b (records from the
// client side of a TLS or DTLS flow).
func ParseClientHello(b []byte) (*ClientHello, error) {
	var ch *ClientHello
	var perr error
	dtls := len(b) > 2 && b[1] == 0xfe
	err := messages(b, func(typ byte, body []byte) bool {
		if typ != typeClientHello {
			return true
		}
		ch, perr = parseClientHello(body, dtls)
		return false
	})
	if err != nil {
		return nil, err
	}
	if perr != nil {
		return nil, perr
	}
	if ch == nil {
		return nil, errors.New("no ClientHello")
	}
	return ch, nil
}

func parseClientHello(body []byte, dtls bool) (*ClientHello, error) {
	r := &reader{b: body}
	ch := &ClientHello{DTLS: dtls}
	ch.LegacyVersion = uint16(r.u16())
	r.bytes(32)
	r.bytes(r.u8()) // session id
	if dtls {
		r.bytes(r.u8()) // cookie
	}
	cs := r.bytes(r.u16())
	if r.bad {
		return nil, errors.New("ClientHello truncated before cipher suites")
	}
	for i := 0; i+1 < len(cs); i += 2 {
		ch.Ciphers = append(ch.Ciphers, binary.BigEndian.Uint16(cs[i:]))
	}
	r.bytes(r.u8()) // compression
	if r.bad || len(r.b) < 2 {
		return ch, nil // no extensions
	}
	ext := &reader{b: r.bytes(r.u16())}
	if r.bad { // extensions cut off by the capture limit: parse what is there
		ext.b = body[len(body)-len(ext.b):]
	}
	for len(ext.b) >= 4 {
		typ := uint16(ext.u16())
		data := ext.bytes(ext.u16())
		if ext.bad {
			break
		}
		ch.Extensions = append(ch.Extensions, typ)
		d := &reader{b: data}
		switch typ {
		case 0: // server_name
			list := &reader{b: d.bytes(d.u16())}
			for len(list.b) >= 3 && !list.bad {
				kind := list.u8()
				name := list.bytes(list.u16())
				if kind == 0 && ch.SNI == "" && !list.bad {
					ch.SNI = printable(name)
				}
			}
		case 16: // ALPN
			list := &reader{b: d.bytes(d.u16())}
			for len(list.b) > 0 && !list.bad {
				p := list.bytes(list.u8())
				if !list.bad && len(ch.ALPN) < 16 {
					ch.ALPN = append(ch.ALPN, printable(p))
				}
			}
		case 13: // signature_algorithms
			list := d.bytes(d.u16())
			for i := 0; i+1 < len(list); i += 2 {
				ch.SigAlgs = append(ch.SigAlgs, binary.BigEndian.Uint16(list[i:]))
			}
		case 43: // supported_versions
			list := d.bytes(d.u8())
			for i := 0; i+1 < len(list); i += 2 {
				ch.SupportedVersions = append(ch.SupportedVersions, binary.BigEndian.Uint16(list[i:]))
			}
		}
	}
	return ch, nil
}

// printable keeps hostile names from carrying control bytes into reports.
func printable(b []byte) string {
	return text.Printable(b, 255)
}

// ParseServer parses the ServerHello and (TLS ≤ 1.2) the leaf certificate
// from the server side of a flow. Cert is nil when it is not in the clear.
func ParseServer(b []byte) (*ServerHello, error) {
	var sh *ServerHello
	var perr error
	err := messages(b, func(typ byte, body []byte) bool {
		switch typ {
		case typeServerHello:
			if sh == nil {
				sh, perr = parseServerHello(body)
				if perr != nil {
					return false
				}
			}
		case typeCertificate:
			if sh != nil && sh.Cert == nil && sh.Version != 0x0304 {
				sh.Cert = parseCertificateMsg(body)
			}
			return false
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if perr != nil {
		return nil, perr
	}
	if sh == nil {
		return nil, errors.New("no ServerHello")
	}
	return sh, nil
}

func parseServerHello(body []byte) (*ServerHello, error) {
	r := &reader{b: body}
	sh := &ServerHello{Version: uint16(r.u16())}
	r.bytes(32)
	r.bytes(r.u8())
	sh.Cipher = uint16(r.u16())
	r.u8()
	if r.bad {
		return nil, errors.New("ServerHello truncated")
	}
	if len(r.b) < 2 {
		return sh, nil
	}
	ext := &reader{b: r.bytes(r.u16())}
	for len(ext.b) >= 4 && !ext.bad {
		typ := ext.u16()
		d := &reader{b: ext.bytes(ext.u16())}
		switch typ {
		case 43:
			if v := d.u16(); !d.bad {
				sh.Version = uint16(v)
			}
		case 16:
			list := &reader{b: d.bytes(d.u16())}
			if p := list.bytes(list.u8()); !list.bad {
				sh.ALPN = printable(p)
			}
		}
	}
	return sh, nil
}

func parseCertificateMsg(body []byte) *Certificate {
	r := &reader{b: body}
	r.u8()
	r.u16() // 24-bit list length
	l := r.u8()<<16 | r.u16()
	if r.bad {
		return nil
	}
	der := r.b
	if l < len(der) {
		der = der[:l]
	}
	c, err := ParseCertNames(der)
	if err != nil {
		return nil
	}
	return c
}

// VersionName renders a TLS version number.
func VersionName(v uint16) string {
	switch v {
	case 0x0300:
		return "SSL3.0"
	case 0x0301:
		return "TLS1.0"
	case 0x0302:
		return "TLS1.1"
	case 0x0303:
		return "TLS1.2"
	case 0x0304:
		return "TLS1.3"
	case 0xfeff:
		return "DTLS1.0"
	case 0xfefd:
		return "DTLS1.2"
	case 0xfefc:
		return "DTLS1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}
