package network

import (
	"encoding/hex"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/internal/pcaptest"
	"github.com/farmwatch/farmwatch/internal/report"
)

// rawIP appends one packet of IP protocol proto to c.
func rawIP(c *pcaptest.Capture, src, dst string, proto byte, payload []byte) {
	c.Frames = append(c.Frames, pcaptest.Frame{Time: c.Now, Data: pcaptest.IP(netip.MustParseAddr(src), netip.MustParseAddr(dst), proto, payload)})
	c.Advance(50 * time.Millisecond)
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// noise gives ciphertext-like bytes from a fixed seed, so every run
// builds the same conversations.
var noise = rand.NewChaCha8([32]byte{'l', 'e', 'g', 'a', 'c', 'y'})

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = noise.Read(b)
	return b
}

// dtlsHello rewrites a TLS ClientHello record as a DTLS 1.2 one (record
// epoch and sequence, handshake fragment fields, an empty cookie).
func dtlsHello(rec []byte) []byte {
	body := append([]byte(nil), rec[9:]...) // after record (5) and handshake (4) headers
	body[0], body[1] = 0xfe, 0xfd
	sid := 35 + int(body[34])
	body = cat(body[:sid], []byte{0}, body[sid:])
	hs := cat([]byte{1}, u24(len(body)), []byte{0, 0}, u24(0), u24(len(body)), body)
	return cat([]byte{22, 0xfe, 0xfd}, make([]byte, 8), u16(len(hs)), hs)
}

// innerIPv4 is a minimal IPv4 header + 8 bytes, as a tunnel carries it.
var innerIPv4 = mustHex("4500001c00004000400100000a0000010a00000208000000abcd0001")

// TestLegacyVPNsAndTunnels covers the parsers and analyzers that have no
// recording here (the kernel lacks PPP, L2TP and GRE; no cleartext SSL-VPN
// opening is reachable), with conversations built from the RFC layouts.
func TestLegacyVPNsAndTunnels(t *testing.T) {
	iputilsPing := mustHex("08001d644b020001679e156b000000004bbc080000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637")
	cases := []struct {
		name     string
		build    func(c *pcaptest.Capture)
		rule     string
		tool     string
		category report.Category
		sev      report.Severity
	}{
		{"pptp enhanced GRE", func(c *pcaptest.Capture) {
			for i := 0; i < 4; i++ {
				rawIP(c, "192.168.1.10", "203.0.113.5", 47, mustHex("3081880b0004004000000001000000007e21ff03"))
				rawIP(c, "203.0.113.5", "192.168.1.10", 47, mustHex("3081880b0004008000000001000000017e21ff03"))
			}
		}, "network.pptp.gre", "pptp", report.CategoryVPN, report.SeverityMedium},
		{"GRE carrying IPv4", func(c *pcaptest.Capture) {
			for i := 0; i < 4; i++ {
				rawIP(c, "192.168.1.10", "203.0.113.6", 47, cat(mustHex("00000800"), innerIPv4))
			}
		}, "network.gre.tunnel", "gre", report.CategoryTunnel, report.SeverityMedium},
		{"IP in IP", func(c *pcaptest.Capture) {
			rawIP(c, "192.168.1.10", "203.0.113.7", 4, innerIPv4)
		}, "network.ip-in-ip.tunnel", "ipip", report.CategoryTunnel, report.SeverityMedium},
		{"L2TPv2 SCCRQ/SCCRP", func(c *pcaptest.Capture) {
			k := c.UDPConn("192.168.1.10:1701", "203.0.113.8:1701")
			req := mustHex("c802002c000000000000000080080000000000018008000000020100800900000007" + "6c6163" + "8008000000090007")
			req[3] = byte(len(req))
			rep := append([]byte(nil), req...)
			rep[21] = 2
			k.Send(true, req)
			k.Send(false, rep)
		}, "network.l2tp.session", "l2tp", report.CategoryVPN, report.SeverityMedium},
		{"ICMP echo carrying random data", func(c *pcaptest.Capture) {
			for i := 0; i < 4; i++ {
				rawIP(c, "192.168.1.10", "203.0.113.9", 1, cat(mustHex("08000000abcd000"+string(rune('0'+i))), randBytes(100+40*i)))
				rawIP(c, "203.0.113.9", "192.168.1.10", 1, cat(mustHex("00000000abcd000"+string(rune('0'+i))), randBytes(300+20*i)))
			}
		}, "network.icmp.tunnel", "icmp-tunnel", report.CategoryTunnel, report.SeverityMedium},
		{"AnyConnect CSTP in the clear", func(c *pcaptest.Capture) {
			k := c.TCP("192.168.1.10:40000", "203.0.113.10:443", time.Millisecond)
			k.Send(true, []byte("CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\nHost: vpn.example\r\nUser-Agent: Open AnyConnect VPN Agent v9.01\r\nX-CSTP-Version: 1\r\nX-CSTP-MTU: 1406\r\n\r\n"))
			k.Send(false, []byte("HTTP/1.1 200 CONNECTED\r\nX-CSTP-Version: 1\r\nX-CSTP-Address: 192.168.99.2\r\nX-DTLS-Session-ID: 00\r\n\r\n"))
			k.Close()
		}, "network.anyconnect.session", "anyconnect", report.CategoryVPN, report.SeverityMedium},
		{"SSTP in the clear", func(c *pcaptest.Capture) {
			k := c.TCP("192.168.1.10:40001", "203.0.113.11:443", time.Millisecond)
			k.Send(true, []byte("SSTP_DUPLEX_POST /sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/ HTTP/1.1\r\nHost: vpn.example\r\nContent-Length: 18446744073709551615\r\nSSTPCORRELATIONID: {x}\r\n\r\n"))
			k.Send(false, []byte("HTTP/1.1 200\r\nContent-Length: 18446744073709551615\r\n\r\n"))
			k.Close()
		}, "network.sstp.session", "sstp", report.CategoryVPN, report.SeverityMedium},
		{"DTLS on 443 beside TLS on 443", func(c *pcaptest.Capture) {
			tlsSession(c, "192.168.1.10:40002", "203.0.113.12:443", clientHello("vpn.example"), nil)
			k := c.UDPConn("192.168.1.10:50000", "203.0.113.12:443")
			k.Send(true, dtlsHello(clientHello("")))
		}, "network.sslvpn.dtls", "ssl-vpn", report.CategoryVPN, report.SeverityMedium},
		{"lowercase CONNECT without version", func(c *pcaptest.Capture) {
			k := c.TCP("192.168.1.10:40003", "203.0.113.13:8080", time.Millisecond)
			k.Send(true, []byte("connect example.org:443\r\n\r\n"))
			k.Send(false, []byte("HTTP/1.0 200 Connection established\r\nProxy-Agent: tinyproxy/1.11\r\n\r\n"))
			k.Close()
		}, "network.http-connect.proxy", "http-connect", report.CategoryProxy, report.SeverityLow},
		{"407 from a proxy", func(c *pcaptest.Capture) {
			k := c.TCP("192.168.1.10:40004", "203.0.113.14:3128", time.Millisecond)
			k.Send(true, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
			k.Send(false, []byte("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"proxy\"\r\n\r\n"))
			k.Close()
		}, "network.http-proxy.response", "http-proxy", report.CategoryProxy, report.SeverityLow},
		{"ping is not a tunnel", func(c *pcaptest.Capture) {
			for i := 0; i < 4; i++ {
				rawIP(c, "192.168.1.10", "203.0.113.15", 1, iputilsPing)
				reply := append([]byte(nil), iputilsPing...)
				reply[0] = 0
				rawIP(c, "203.0.113.15", "192.168.1.10", 1, reply)
			}
		}, "", "", "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := pcaptest.New()
			tc.build(c)
			fs := run(t, c)
			if tc.rule == "" {
				for _, f := range fs {
					if f.Category == report.CategoryTunnel || f.Category == report.CategoryVPN {
						t.Errorf("unexpected %s %s", f.Rule, f.Tool)
					}
				}
				return
			}
			f := find(fs, tc.rule, tc.tool)
			if f == nil {
				t.Fatalf("no %s %s in:\n%s", tc.rule, tc.tool, list(fs))
			}
			if f.Category != tc.category || f.Severity != tc.sev || f.Confidence <= 0 || f.Confidence > 1 {
				t.Errorf("%s: category %s severity %s confidence %.2f", tc.rule, f.Category, f.Severity, f.Confidence)
			}
		})
	}
}
