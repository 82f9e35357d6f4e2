package tls

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// isGREASE reports RFC 8701 reserved values (0x0a0a, 0x1a1a, …).
func isGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// JA4 computes the FoxIO JA4 TLS client fingerprint (the BSD-licensed part
// of JA4+) for a TCP ("t"), QUIC ("q") or DTLS ("d") ClientHello.
func (ch *ClientHello) JA4(transport byte) string {
	if ch.DTLS {
		transport = 'd'
	}
	ver := ch.LegacyVersion
	for _, v := range ch.SupportedVersions {
		if !isGREASE(v) && v > ver && v < 0xfe00 {
			ver = v
		}
	}
	vs := "00"
	switch ver {
	case 0x0304:
		vs = "13"
	case 0x0303:
		vs = "12"
	case 0x0302:
		vs = "11"
	case 0x0301:
		vs = "10"
	case 0x0300:
		vs = "s3"
	case 0x0002:
		vs = "s2"
	case 0xfeff:
		vs = "d1"
	case 0xfefd:
		vs = "d2"
	case 0xfefc:
		vs = "d3"
	}
	sni := byte('i')
	if ch.SNI != "" {
		sni = 'd'
	}
	var ciphers, exts []string
	for _, c := range ch.Ciphers {
		if !isGREASE(c) {
			ciphers = append(ciphers, fmt.Sprintf("%04x", c))
		}
	}
	nExt := 0
	for _, e := range ch.Extensions {
		if isGREASE(e) {
			continue
		}
		nExt++
		if e != 0 && e != 16 {
			exts = append(exts, fmt.Sprintf("%04x", e))
		}
	}
	alpn := "00"
	if len(ch.ALPN) > 0 && ch.ALPN[0] != "" {
		a := ch.ALPN[0]
		f, l := a[0], a[len(a)-1]
		if alnum(f) && alnum(l) {
			alpn = string([]byte{f, l})
		} else {
			h := hex.EncodeToString([]byte{f, l})
			alpn = string([]byte{h[0], h[3]})
		}
	}
	sort.Strings(ciphers)
	sort.Strings(exts)
	b := hash12(strings.Join(ciphers, ","))
	c := "000000000000"
	if len(exts) > 0 {
		s := strings.Join(exts, ",")
		if len(ch.SigAlgs) > 0 {
			sa := make([]string, 0, len(ch.SigAlgs))
			for _, v := range ch.SigAlgs {
				if !isGREASE(v) {
					sa = append(sa, fmt.Sprintf("%04x", v))
				}
			}
			s += "_" + strings.Join(sa, ",")
		}
		c = hash12(s)
	}
	return fmt.Sprintf("%c%s%c%02d%02d%s_%s_%s", transport, vs, sni, min(len(ciphers), 99), min(nExt, 99), alpn, b, c)
}

func alnum(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func hash12(s string) string {
	if s == "" {
		return "000000000000"
	}
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:12]
}
