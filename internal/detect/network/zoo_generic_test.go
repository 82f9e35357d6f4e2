package network

import (
	"net/netip"
	"testing"

	"github.com/farmwatch/farmwatch/internal/report"
)

// TestZooGeneric analyses tunnel, proxy and VPN sessions scripts/zoo.sh
// recorded from real software (testdata/pcaps/zoo-*.pcap; the laptop is
// 10.210.0.2, the far end 10.210.0.1) that no name, certificate or
// protocol parser recognises: the generic evidence must find them, with
// the category, severity and confidence it claims, and say it is generic.
func TestZooGeneric(t *testing.T) {
	laptop := []netip.Prefix{netip.MustParsePrefix("10.210.0.2/32"), netip.MustParsePrefix("10.210.1.1/32")}
	type want struct {
		rule, tool string
		category   report.Category
		sev        report.Severity
		minConf    float64
		evidence   map[string]string
		num        map[string][2]float64
	}
	cases := []struct {
		file string
		want []want
		max  report.Severity // every other finding at most this
	}{
		// shadowsocks-libev (ss-local → ss-server on TCP 443, aes-256-gcm)
		// carrying HTTPS fetches: no TLS, no header, on the HTTPS port.
		{"zoo-shadowsocks-https.pcap", []want{{"network.behavior.fully-encrypted", "unknown", report.CategoryProxy, report.SeverityMedium, 0.8,
			map[string]string{"generic": "true", "expected_protocol": "https", "server": "10.210.0.1:443"}, nil}}, report.SeverityLow},
		// obfs4proxy's obfs4 transport on TCP 443 carrying HTTPS fetches.
		{"zoo-obfs4.pcap", []want{{"network.behavior.fully-encrypted", "unknown", report.CategoryProxy, report.SeverityMedium, 0.8,
			map[string]string{"generic": "true", "expected_protocol": "https", "server": "10.210.0.1:443"}, nil}}, report.SeverityLow},
		// shadowsocks behind simple-obfs in TLS mode with the decoy SNI
		// www.bing.com: TLS 1.2 "negotiated", yet the client never sends
		// ChangeCipherSpec/Finished before its data.
		{"zoo-shadowsocks-obfs-tls.pcap", []want{{"network.behavior.tls-imitation", "unknown", report.CategoryProxy, report.SeverityMedium, 0.8,
			map[string]string{"generic": "true", "tls_sni": "www.bing.com", "server": "10.210.0.1:443"},
			map[string][2]float64{"flows": {3, 100}}}}, report.SeverityLow},
		// stunnel wrapping HTTPS in a second TLS session on 443: the inner
		// handshake's record sizes and order inside the outer session.
		{"zoo-stunnel-https.pcap", []want{{"network.behavior.tls-in-tls", "unknown", report.CategoryProxy, report.SeverityMedium, 0.7,
			map[string]string{"generic": "true", "inner_protocol": "tls", "server": "10.210.0.1:443"},
			map[string][2]float64{"flows": {3, 100}}}}, report.SeverityLow},
		// V2Ray VMess in WebSocket in TLS on 443 carrying HTTPS.
		{"zoo-v2ray-vmess-ws-tls.pcap", []want{{"network.behavior.tls-in-tls", "unknown", report.CategoryProxy, report.SeverityMedium, 0.7,
			map[string]string{"generic": "true", "inner_protocol": "tls", "server": "10.210.0.1:443"},
			map[string][2]float64{"flows": {3, 100}}}}, report.SeverityLow},
		// Trojan (xray-core) on 443 carrying HTTPS: an outer ClientHello
		// of 1.7 KiB (post-quantum key share) before the inner one.
		{"zoo-xray-trojan.pcap", []want{{"network.behavior.tls-in-tls", "unknown", report.CategoryProxy, report.SeverityMedium, 0.6,
			map[string]string{"generic": "true", "inner_protocol": "tls", "server": "10.210.0.1:443"},
			map[string][2]float64{"flows": {3, 100}}}}, report.SeverityLow},
		// OpenVPN over UDP with --tls-crypt and --tls-crypt-v2: the hard
		// reset is encrypted, so the OpenVPN parser sees nothing; the
		// inner HTTPS sessions show in the outer sizes.
		{"zoo-openvpn-tls-crypt.pcap", []want{{"network.behavior.encapsulation", "unknown", report.CategoryVPN, report.SeverityMedium, 0.6,
			map[string]string{"generic": "true", "server": "10.210.0.1:1194", "proto": "udp"},
			map[string][2]float64{"full_packet_bytes": {1400, 1500}, "ack_packet_bytes": {60, 120}}}}, report.SeverityLow},
		// The same tunnel carrying a 26 s download beside the browsing:
		// thousands of MTU-bound packets, the flow a live capture's
		// kernel bypass takes over (TestBypassSameFindings replays it
		// with the bypass on).
		{"zoo-openvpn-tls-crypt-download.pcap", []want{{"network.behavior.encapsulation", "unknown", report.CategoryVPN, report.SeverityMedium, 0.6,
			map[string]string{"generic": "true", "server": "10.210.0.1:1194", "proto": "udp"},
			map[string][2]float64{"full_packet_bytes": {1400, 1500}, "ack_packet_bytes": {60, 120}, "full_packet_share": {0.5, 1}}}}, report.SeverityLow},
		{"zoo-openvpn-tls-crypt-v2.pcap", []want{{"network.behavior.encapsulation", "unknown", report.CategoryVPN, report.SeverityMedium, 0.6,
			map[string]string{"generic": "true", "server": "10.210.0.1:1194", "proto": "udp"},
			map[string][2]float64{"full_packet_bytes": {1400, 1500}, "ack_packet_bytes": {60, 120}}}}, report.SeverityLow},
		// iodine in raw mode: after the DNS handshake the data leaves DNS
		// for raw UDP to the server's port 53; the inner HTTPS shows.
		{"zoo-iodine.pcap", []want{{"network.behavior.encapsulation", "unknown", report.CategoryVPN, report.SeverityMedium, 0.7,
			map[string]string{"generic": "true", "server": "10.210.0.1:53", "expected_protocol": "dns"}, nil}}, report.SeverityLow},
		// iodine -r (no raw mode): everything in NULL queries under a
		// tunnel domain no list knows (t.tunnel.lan).
		{"zoo-iodine-dns.pcap", []want{{"network.dns.tunnel", "dns-tunnel", report.CategoryTunnel, report.SeverityMedium, 0.8,
			map[string]string{"domain": "tunnel.lan", "client": "10.210.0.2"}, nil}}, report.SeverityLow},
		// dns2tcp: TXT queries under an unlisted domain (d.tunnel.lan).
		{"zoo-dns2tcp.pcap", []want{{"network.dns.tunnel", "dns-tunnel", report.CategoryTunnel, report.SeverityMedium, 0.8,
			map[string]string{"domain": "tunnel.lan", "client": "10.210.0.2"},
			map[string][2]float64{"data_record_queries": {50, 10000}}}}, report.SeverityLow},
		// Negative control: the same browsing straight to the site over
		// HTTPS, no tunnel: nothing above low.
		{"zoo-https-direct.pcap", nil, report.SeverityLow},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			fs := analyzeRecording(t, c.file, laptop)
			used := map[int]bool{}
			for _, w := range c.want {
				f := claimFinding(t, fs, used, w.rule+" "+w.tool+" ≥ "+w.sev.String(), func(f report.Finding) bool {
					return f.Rule == w.rule && f.Tool == w.tool && f.Severity >= w.sev
				})
				if f.Category != w.category {
					t.Errorf("%s: category %s, want %s", f.Rule, f.Category, w.category)
				}
				if f.Confidence < w.minConf {
					t.Errorf("%s: confidence %.2f, want ≥ %.2f", f.Rule, f.Confidence, w.minConf)
				}
				checkEvidence(t, w.rule, f, w.evidence, w.num)
			}
			checkUnclaimed(t, fs, used, c.max)
		})
	}
}
