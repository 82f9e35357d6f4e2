package tls

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func u16(v int) []byte { return []byte{byte(v >> 8), byte(v)} }
func u24(v int) []byte { return []byte{byte(v >> 16), byte(v >> 8), byte(v)} }
func cat(p ...[]byte) []byte {
	var o []byte
	for _, x := range p {
		o = append(o, x...)
	}
	return o
}
func ext(t int, d []byte) []byte { return cat(u16(t), u16(len(d)), d) }

// hello builds a ClientHello with GREASE values, SNI, ALPN h2, sigalgs
// and supported_versions (TLS 1.3, 1.2).
func hello() []byte {
	name := cat([]byte{0}, u16(len("example.org")), []byte("example.org"))
	exts := cat(
		ext(0x1a1a, nil),
		ext(0, cat(u16(len(name)), name)),
		ext(0x0a, cat(u16(2), u16(0x1d))),
		ext(0x0d, cat(u16(4), u16(0x0403), u16(0x0804))),
		ext(0x10, cat(u16(3), []byte{2, 'h', '2'})),
		ext(0x2b, []byte{6, 0x2a, 0x2a, 0x03, 0x04, 0x03, 0x03}),
	)
	ciphers := cat(u16(0x0a0a), u16(0x1301), u16(0xc02f), u16(0x009c))
	body := cat(u16(0x0303), make([]byte, 32), []byte{0}, u16(len(ciphers)), ciphers, []byte{1, 0}, u16(len(exts)), exts)
	hs := cat([]byte{1}, u24(len(body)), body)
	return cat([]byte{22, 3, 1}, u16(len(hs)), hs)
}

func TestClientHelloAndJA4(t *testing.T) {
	ch, err := ParseClientHello(hello())
	if err != nil {
		t.Fatal(err)
	}
	if ch.SNI != "example.org" || len(ch.ALPN) != 1 || ch.ALPN[0] != "h2" {
		t.Fatalf("SNI %q ALPN %v", ch.SNI, ch.ALPN)
	}
	// JA4 by the spec: t + 13 (highest supported_versions, GREASE
	// dropped) + d (SNI) + 03 ciphers + 05 extensions (GREASE dropped, SNI
	// and ALPN counted) + h2; then sha256 of sorted cipher hex; then sha256
	// of sorted extensions without SNI/ALPN "_" signature algorithms.
	h := func(s string) string { x := sha256.Sum256([]byte(s)); return hex.EncodeToString(x[:])[:12] }
	want := "t13d0305h2_" + h("009c,1301,c02f") + "_" + h("000a,000d,002b_0403,0804")
	if got := ch.JA4('t'); got != want {
		t.Errorf("JA4 = %s, want %s", got, want)
	}
}

func TestClientHelloTruncated(t *testing.T) {
	b := hello()
	for n := 0; n < len(b); n++ {
		_, _ = ParseClientHello(b[:n]) // must not panic
	}
	if _, err := ParseClientHello([]byte("GET / HTTP/1.1\r\n")); err != ErrNotTLS {
		t.Errorf("want ErrNotTLS, got %v", err)
	}
}

func TestServerCertNames(t *testing.T) {
	// Minimal DER: Certificate{TBS{[0]v3, serial, alg, issuer, validity, subject}}
	name := func(cn, o string) []byte {
		atv := func(oid []byte, v string) []byte {
			seq := cat([]byte{6, byte(len(oid))}, oid, []byte{12, byte(len(v))}, []byte(v))
			set := cat([]byte{0x30, byte(len(seq))}, seq)
			return cat([]byte{0x31, byte(len(set))}, set)
		}
		n := cat(atv(oidO, o), atv(oidCN, cn))
		return cat([]byte{0x30, byte(len(n))}, n)
	}
	tbs := cat([]byte{0xa0, 3, 2, 1, 2}, []byte{2, 1, 7}, []byte{0x30, 0}, name("AnyNet Root CA", "philandro Software GmbH"), []byte{0x30, 0}, name("AnyNet Relay", "philandro Software GmbH"))
	tbsSeq := cat([]byte{0x30, 0x81, byte(len(tbs))}, tbs)
	cert := cat([]byte{0x30, 0x81, byte(len(tbsSeq))}, tbsSeq)
	sh := cat(u16(0x0303), make([]byte, 32), []byte{0}, u16(0xc02f), []byte{0})
	certs := cat(u24(len(cert)), cert)
	cm := cat(u24(len(certs)), certs)
	hs := cat([]byte{2}, u24(len(sh)), sh, []byte{11}, u24(len(cm)), cm)
	s, err := ParseServer(cat([]byte{22, 3, 3}, u16(len(hs)), hs))
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != 0x0303 || s.Cipher != 0xc02f || s.Cert == nil {
		t.Fatalf("%+v", s)
	}
	c := s.Cert
	if c.SubjectCN != "AnyNet Relay" || c.SubjectO != "philandro Software GmbH" || c.IssuerCN != "AnyNet Root CA" {
		t.Errorf("%+v", c)
	}
}

func FuzzClientHello(f *testing.F) {
	f.Add(hello())
	f.Add([]byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 1, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 8})
	f.Fuzz(func(t *testing.T, b []byte) {
		if ch, err := ParseClientHello(b); err == nil {
			_ = ch.JA4('t')
		}
		_, _ = ParseServer(b)
	})
}

func FuzzCertNames(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x30, 0x01, 0x02})
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseCertNames(b) })
}
