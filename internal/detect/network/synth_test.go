package network

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"math/big"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/internal/pcaptest"
	"github.com/farmwatch/farmwatch/internal/report"
)

// run feeds a synthetic capture to a fresh engine.
func run(t *testing.T, c *pcaptest.Capture) []report.Finding {
	t.Helper()
	e := New(Config{Host: report.Host{Name: "test", ID: "test"}})
	for _, f := range c.Frames {
		e.Packet(f.Time, 1, f.Data)
	}
	fs := e.Close()
	for i := range fs {
		if err := fs[i].Validate(); err != nil {
			t.Errorf("invalid finding: %v", err)
		}
	}
	return fs
}

func find(fs []report.Finding, rule, tool string) *report.Finding {
	for i := range fs {
		if fs[i].Rule == rule && fs[i].Tool == tool {
			return &fs[i]
		}
	}
	return nil
}

func u16(v int) []byte { return []byte{byte(v >> 8), byte(v)} }
func u24(v int) []byte { return []byte{byte(v >> 16), byte(v >> 8), byte(v)} }

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func ext(typ int, data []byte) []byte { return cat(u16(typ), u16(len(data)), data) }

// clientHello builds a TLS 1.2 record holding a ClientHello.
func clientHello(sni string, alpn ...string) []byte {
	var exts []byte
	if sni != "" {
		name := cat([]byte{0}, u16(len(sni)), []byte(sni))
		exts = append(exts, ext(0, cat(u16(len(name)), name))...)
	}
	exts = append(exts, ext(0x0a, cat(u16(4), u16(0x1d), u16(0x17)))...)
	exts = append(exts, ext(0x0d, cat(u16(4), u16(0x0403), u16(0x0804)))...)
	if len(alpn) > 0 {
		var l []byte
		for _, a := range alpn {
			l = append(l, byte(len(a)))
			l = append(l, a...)
		}
		exts = append(exts, ext(0x10, cat(u16(len(l)), l))...)
	}
	exts = append(exts, ext(0x2b, []byte{4, 0x03, 0x04, 0x03, 0x03})...)
	ciphers := cat(u16(0x1301), u16(0xc02f), u16(0x0a0a), u16(0x009c))
	body := cat(u16(0x0303), make([]byte, 32), []byte{0}, u16(len(ciphers)), ciphers, []byte{1, 0}, u16(len(exts)), exts)
	hs := cat([]byte{1}, u24(len(body)), body)
	return cat([]byte{22, 3, 1}, u16(len(hs)), hs)
}

// serverFlight builds ServerHello + Certificate records (TLS 1.2) for a
// certificate with the given subject and issuer.
func serverFlight(t *testing.T, subjectCN, subjectO, issuerCN, issuerO string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: subjectCN, Organization: []string{subjectO}},
		Issuer:       pkix.Name{CommonName: issuerCN, Organization: []string{issuerO}},
		NotBefore:    time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0),
	}
	parent := &x509.Certificate{Subject: pkix.Name{CommonName: issuerCN, Organization: []string{issuerO}}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	sh := cat(u16(0x0303), make([]byte, 32), []byte{0}, u16(0xc02f), []byte{0})
	certs := cat(u24(len(der)), der)
	cm := cat(u24(len(certs)), certs)
	hs := cat([]byte{2}, u24(len(sh)), sh, []byte{11}, u24(len(cm)), cm)
	return cat([]byte{22, 3, 3}, u16(len(hs)), hs)
}

func dnsQuery(name string, qtype int) []byte {
	b := []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, l := range splitDots(name) {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	b = append(b, 0)
	return cat(b, u16(qtype), u16(1))
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

func stunBinding() []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:], 0x0001)
	binary.BigEndian.PutUint32(b[4:], 0x2112A442)
	return b
}

func tlsSession(c *pcaptest.Capture, client, server string, ch, flight []byte) {
	k := c.TCP(client, server, 20*time.Millisecond)
	k.Send(true, ch)
	c.Advance(20 * time.Millisecond)
	if flight != nil {
		k.Send(false, flight)
	}
	c.Advance(time.Second)
	k.Send(true, []byte{23, 3, 3, 0, 4, 1, 2, 3, 4})
	k.Close()
}

// TestTools covers every tool the engine claims that has no public
// capture in ../shared/data/pcaps, with synthetic conversations built
// from the facts in indicators.tsv.
func TestTools(t *testing.T) {
	type tc struct {
		name     string
		build    func(t *testing.T, c *pcaptest.Capture)
		rule     string
		tool     string
		category report.Category
		sev      report.Severity
	}
	cases := []tc{
		{"anydesk relay certificate", func(t *testing.T, c *pcaptest.Capture) {
			tlsSession(c, "192.168.1.10:50000", "195.181.174.176:443", clientHello(""),
				serverFlight(t, "AnyNet Relay", "philandro Software GmbH", "AnyNet Root CA", "philandro Software GmbH"))
		}, "network.anydesk.session", "anydesk", report.CategoryRemoteAccess, report.SeverityMedium},
		{"anydesk direct 7070 inbound", func(t *testing.T, c *pcaptest.Capture) {
			tlsSession(c, "192.168.1.20:50000", "192.168.1.10:7070", clientHello(""),
				serverFlight(t, "AnyDesk Client", "", "AnyDesk Client", ""))
		}, "network.anydesk.session", "anydesk", report.CategoryRemoteAccess, report.SeverityHigh},
		{"anydesk alpn", func(t *testing.T, c *pcaptest.Capture) {
			tlsSession(c, "192.168.1.10:50001", "195.181.174.1:443", clientHello("", "anydesk/6.2.0/linux"), nil)
		}, "network.anydesk.session", "anydesk", report.CategoryRemoteAccess, report.SeverityMedium},
		{"rustdesk register peer", func(t *testing.T, c *pcaptest.Capture) {
			k := c.UDPConn("192.168.1.10:40000", "203.0.113.8:21116")
			k.Send(true, []byte{0x32, 0x0d, 0x0a, 0x09, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x10, 0x01})
		}, "network.rustdesk.session", "rustdesk", report.CategoryRemoteAccess, report.SeverityMedium},
		{"nomachine banners inbound", func(t *testing.T, c *pcaptest.Capture) {
			k := c.TCP("192.168.1.20:40000", "192.168.1.10:4000", time.Millisecond)
			k.Send(false, []byte("NXD-8.10.1\n"))
			k.Send(true, []byte("NXSH-8.10.1\n"))
			k.Close()
		}, "network.nomachine.session", "nomachine", report.CategoryRemoteAccess, report.SeverityHigh},
		{"splashtop session start", func(t *testing.T, c *pcaptest.Capture) {
			k := c.TCP("192.168.1.10:40000", "203.0.113.9:6784", time.Millisecond)
			k.Send(true, []byte{1, 0, 0x34, 0x12})
			k.Close()
		}, "network.splashtop.session", "splashtop", report.CategoryRemoteAccess, report.SeverityMedium},
		{"screenconnect relay hello", func(t *testing.T, c *pcaptest.Capture) {
			k := c.TCP("192.168.1.10:40000", "203.0.113.10:443", time.Millisecond)
			k.Send(true, cat([]byte{0x87, 0x15, 0x10, 0x00}, make([]byte, 12)))
			k.Close()
		}, "network.screenconnect.session", "screenconnect", report.CategoryRemoteAccess, report.SeverityMedium},
		{"sunshine rtsp inbound", func(t *testing.T, c *pcaptest.Capture) {
			k := c.TCP("192.168.1.20:40000", "192.168.1.10:48010", time.Millisecond)
			k.Send(true, []byte("OPTIONS rtsp://192.168.1.10:48010 RTSP/1.0\r\nCSeq: 1\r\n\r\n"))
			k.Close()
		}, "network.sunshine.session", "sunshine", report.CategoryRemoteAccess, report.SeverityHigh},
		{"chrome remote desktop names + STUN", func(t *testing.T, c *pcaptest.Capture) {
			c.UDPConn("192.168.1.10:5353", "192.168.1.1:53").Send(true, dnsQuery("remotedesktop-pa.googleapis.com", 1))
			c.Advance(time.Second)
			k := c.UDPConn("192.168.1.10:50000", "74.125.1.1:19302")
			k.Send(true, stunBinding())
			k.Send(false, stunBinding())
		}, "network.chrome-remote-desktop.session", "chrome-remote-desktop", report.CategoryRemoteAccess, report.SeverityMedium},
		{"parsec names + STUN", func(t *testing.T, c *pcaptest.Capture) {
			c.UDPConn("192.168.1.10:5353", "192.168.1.1:53").Send(true, dnsQuery("kessel-ws.parsec.app", 1))
			k := c.UDPConn("192.168.1.10:50000", "198.51.100.3:3478")
			k.Send(true, stunBinding())
		}, "network.parsec.session", "parsec", report.CategoryRemoteAccess, report.SeverityMedium},
		{"teamviewer dns", func(t *testing.T, c *pcaptest.Capture) {
			c.UDPConn("192.168.1.10:5353", "192.168.1.1:53").Send(true, dnsQuery("router5.teamviewer.com", 1))
		}, "network.teamviewer.dns", "teamviewer", report.CategoryRemoteAccess, report.SeverityLow},
		{"rdp on port 443", func(t *testing.T, c *pcaptest.Capture) {
			k := c.TCP("203.0.113.5:40000", "192.168.1.10:443", time.Millisecond)
			cr := cat([]byte("\xe0\x00\x00\x00\x00\x00Cookie: mstshash=bob\r\n"), []byte{1, 0, 8, 0, 3, 0, 0, 0})
			k.Send(true, cat([]byte{3, 0}, u16(4+1+len(cr)), []byte{byte(len(cr))}, cr))
			cc := []byte{0xd0, 0, 0, 0x12, 0x34, 0, 2, 0, 8, 0, 2, 0, 0, 0}
			k.Send(false, cat([]byte{3, 0}, u16(4+1+len(cc)), []byte{byte(len(cc))}, cc))
			k.Close()
		}, "network.rdp.session", "rdp", report.CategoryRemoteAccess, report.SeverityHigh},
		{"vnc on port 6900 with session", func(t *testing.T, c *pcaptest.Capture) {
			k := c.TCP("203.0.113.5:40000", "192.168.1.10:6900", time.Millisecond)
			k.Send(false, []byte("RFB 003.008\n"))
			k.Send(true, []byte("RFB 003.008\n"))
			k.Send(false, []byte{1, 1})
			k.Send(true, []byte{1})
			k.Send(false, []byte{0, 0, 0, 0})
			k.Send(true, []byte{1})
			k.Send(false, cat([]byte{5, 0, 3, 0x20}, make([]byte, 16), []byte{0, 0, 0, 4}, []byte("desk")))
			k.Close()
		}, "network.vnc.session", "vnc", report.CategoryRemoteAccess, report.SeverityHigh},
		{"ssh on port 443", func(t *testing.T, c *pcaptest.Capture) {
			k := c.TCP("192.168.1.10:40000", "203.0.113.5:443", time.Millisecond)
			k.Send(false, []byte("SSH-2.0-OpenSSH_9.6\r\n"))
			k.Send(true, []byte("SSH-2.0-OpenSSH_9.6\r\n"))
			k.Close()
		}, "network.ssh.session", "ssh", report.CategoryRemoteAccess, report.SeverityLow},
		{"zerotier", func(t *testing.T, c *pcaptest.Capture) {
			k := c.UDPConn("192.168.1.10:9993", "203.0.113.20:9993")
			k.Send(true, make([]byte, 60))
			k.Send(false, make([]byte, 60))
		}, "network.zerotier.session", "zerotier", report.CategoryVPN, report.SeverityMedium},
		{"cloudflare warp", func(t *testing.T, c *pcaptest.Capture) {
			k := c.UDPConn("192.168.1.10:50000", "162.159.192.1:2408")
			k.Send(true, cat([]byte{1, 0xaa, 0xbb, 0xcc}, make([]byte, 144)))
			k.Send(false, cat([]byte{2, 0xaa, 0xbb, 0xcc}, make([]byte, 88)))
		}, "network.cloudflare-warp.session", "cloudflare-warp", report.CategoryVPN, report.SeverityMedium},
		{"softether vpn gate", func(t *testing.T, c *pcaptest.Capture) {
			tlsSession(c, "192.168.1.10:50000", "203.0.113.30:443", clientHello("public-vpn-12.opengw.net"), nil)
		}, "network.softether.session", "softether", report.CategoryVPN, report.SeverityMedium},
		{"tor random sni", func(t *testing.T, c *pcaptest.Capture) {
			tlsSession(c, "192.168.1.10:50000", "203.0.113.31:9001", clientHello("www.xkcdqzrtpwb.com"), nil)
		}, "network.tor.session", "tor", report.CategoryVPN, report.SeverityMedium},
		{"tor certificate", func(t *testing.T, c *pcaptest.Capture) {
			tlsSession(c, "192.168.1.10:50000", "203.0.113.32:443", clientHello("www.bcdfghjklmn.com", "h2"),
				serverFlight(t, "www.qwrtzpsdfgh.net", "", "www.zxcvbnmlkjh.com", ""))
		}, "network.tor.session", "tor", report.CategoryVPN, report.SeverityMedium},
		{"ngrok agent", func(t *testing.T, c *pcaptest.Capture) {
			tlsSession(c, "192.168.1.10:50000", "3.125.1.1:443", clientHello("connect.eu.ngrok-agent.com"), nil)
		}, "network.ngrok.session", "ngrok", report.CategoryTunnel, report.SeverityMedium},
		{"cloudflared", func(t *testing.T, c *pcaptest.Capture) {
			tlsSession(c, "192.168.1.10:50000", "198.41.192.7:7844", clientHello("region1.v2.argotunnel.com"), nil)
		}, "network.cloudflared.session", "cloudflared", report.CategoryTunnel, report.SeverityMedium},
		{"dev tunnels", func(t *testing.T, c *pcaptest.Capture) {
			tlsSession(c, "192.168.1.10:50000", "20.50.1.1:443", clientHello("abc123-8080.euw.devtunnels.ms"), nil)
		}, "network.devtunnels.session", "devtunnels", report.CategoryTunnel, report.SeverityMedium},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cp := pcaptest.New()
			c.build(t, cp)
			fs := run(t, cp)
			f := find(fs, c.rule, c.tool)
			if f == nil {
				t.Fatalf("no %s/%s finding; got %s", c.rule, c.tool, summarize(fs))
			}
			if f.Category != c.category || f.Severity != c.sev {
				t.Errorf("%s: category %s severity %s, want %s %s", f.Rule, f.Category, f.Severity, c.category, c.sev)
			}
		})
	}
}

// TestBenignTLS: ordinary browsing yields nothing.
func TestBenignTLS(t *testing.T) {
	c := pcaptest.New()
	tlsSession(c, "192.168.1.10:50000", "142.250.1.1:443", clientHello("www.google.com", "h2", "http/1.1"),
		serverFlight(t, "*.google.com", "Google LLC", "WR2", "Google Trust Services"))
	k := c.UDPConn("192.168.1.10:50001", "142.250.1.2:3478")
	k.Send(true, stunBinding())
	if fs := run(t, c); len(fs) != 0 {
		t.Errorf("benign traffic gave findings: %s", summarize(fs))
	}
}

func TestUserAgents(t *testing.T) {
	for ua, tool := range map[string]string{
		"AnyDesk/7.1.0": "anydesk",
		"Mozilla/4.0 (compatible; MSIE 6.0; DynGate)": "teamviewer",
		"NetSupport Manager/1.3":                      "netsupport",
	} {
		c := pcaptest.New()
		k := c.TCP("192.168.1.10:40000", "203.0.113.40:80", time.Millisecond)
		k.Send(true, []byte("POST /fakeurl.htm HTTP/1.1\r\nHost: 203.0.113.40\r\nUser-Agent: "+ua+"\r\n\r\n"))
		k.Send(false, []byte("HTTP/1.1 200 OK\r\n\r\n"))
		k.Close()
		fs := run(t, c)
		f := find(fs, "network."+tool+".session", tool)
		if f == nil || f.Evidence["http_user_agent"] != ua {
			t.Errorf("%s: no %s finding with the user agent; got %s", ua, tool, summarize(fs))
		}
	}
}

// TestWebSocketApp: an ordinary WebSocket application (JSON frames, no
// tunnel signature) is not a tunnel.
func TestWebSocketApp(t *testing.T) {
	c := pcaptest.New()
	k := c.TCP("192.168.1.10:40000", "203.0.113.50:443", time.Millisecond)
	k.Send(true, []byte("GET /socket HTTP/1.1\r\nHost: chat.example\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: chat\r\n\r\n\x81\x85\x01\x02\x03\x04"+string([]byte{'{' ^ 1, '"' ^ 2, 'a' ^ 3, '"' ^ 4, '}' ^ 1})))
	k.Send(false, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02{}"))
	k.Close()
	if fs := run(t, c); len(fs) != 0 {
		t.Errorf("WebSocket app reported: %s", summarize(fs))
	}
}
