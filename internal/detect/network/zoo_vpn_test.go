package network

import (
	"net/netip"
	"testing"

	"github.com/farmwatch/farmwatch/internal/report"
)

// TestZooVPNCaptures analyses the VPN, tunnel and proxy sessions
// scripts/zoo.sh recorded from real software in network namespaces
// (testdata/pcaps/zoo-<scenario>.pcap; the scenario files under
// scripts/zoo/ say what ran). The laptop is 10.210.0.2 (and 10.210.1.1 on
// its side link), the controller 10.210.0.1. Each wanted finding is
// checked for rule, tool, category, minimum severity and a confidence
// range; every other finding must stay at or below max.
func TestZooVPNCaptures(t *testing.T) {
	laptop := []netip.Prefix{netip.MustParsePrefix("10.210.0.2/32"), netip.MustParsePrefix("10.210.1.1/32")}
	type want struct {
		rule, tool string
		cat        report.Category
		sev        report.Severity
		conf       [2]float64
		evidence   map[string]string
	}
	cases := []struct {
		file string
		want []want
		max  report.Severity
	}{
		// ptunnel-ng proxy on the laptop; the controller's SSH rides ICMP
		// echo into it (named by ptunnel-ng's magic 0xDEADC0DE).
		{"zoo-icmp-ptunnel.pcap", []want{
			{"network.icmp.tunnel", "ptunnel", report.CategoryTunnel, report.SeverityHigh, [2]float64{0.9, 1},
				map[string]string{"client": "10.210.0.1", "server": "10.210.0.2", "matched": "0xDEADC0DE", "proto": "ip-1"}},
			// The person typing inside the tunnel shows too.
			{"network.behavior.controlled", "unknown", "", report.SeverityHigh, [2]float64{0, 1}, nil}}, report.SeverityLow},
		// tinc 1.0: the laptop's node connects out to the controller's
		// (TCP 655 meta connection, ID lines "0 farm 17" / "0 hq 17"), the
		// controller's SSH into the laptop rides the VPN.
		{"zoo-tinc.pcap", []want{
			{"network.tinc.session", "tinc", report.CategoryVPN, report.SeverityMedium, [2]float64{0.9, 1},
				map[string]string{"client": "10.210.0.2", "server": "10.210.0.1:655", "matched": `"farm"`}}}, report.SeverityLow},
		// squid on the laptop serves the controller: forward proxying in
		// absolute form (GET http://10.210.1.2:8000/…) and CONNECT
		// tunnels (HTTP/1.1 and curl --proxy1.0); this host relays for an
		// outsider, so both rise from low to medium.
		{"zoo-squid-exit.pcap", []want{
			{"network.http-proxy.forward", "http-proxy", report.CategoryProxy, report.SeverityMedium, [2]float64{0.9, 1},
				map[string]string{"proxy_target": "http://10.210.1.2:8000/", "http_via": "squid", "server": "10.210.0.2:3128", "direction": "inbound"}},
			{"network.http-connect.proxy", "http-connect", report.CategoryProxy, report.SeverityMedium, [2]float64{0.9, 1},
				map[string]string{"connect_target": "10.210.1.2:8000", "server": "10.210.0.2:3128"}}}, report.SeverityLow},
		// dante behind socat dialling out: the controller (which accepted
		// the connection) sends the SOCKS5 greeting; the laptop is the exit.
		{"zoo-socks-reverse.pcap", []want{
			{"network.socks.reverse", "socks", report.CategoryProxy, report.SeverityHigh, [2]float64{0.8, 0.9},
				map[string]string{"client": "10.210.0.2", "server": "10.210.0.1:9000", "socks_target": "10.210.1.2:8000", "socks_reverse": "true"}}}, report.SeverityLow},
		// sslh on the laptop's 443 in front of sshd and a TLS web server:
		// one port answering SSH and TLS (medium: inbound), and the SSH
		// session on 443 itself.
		{"zoo-sslh.pcap", []want{
			{"network.multiplexer.port", "protocol-multiplexer", report.CategoryTunnel, report.SeverityMedium, [2]float64{0.75, 0.85},
				map[string]string{"server": "10.210.0.2:443", "protocols": "ssh×1", "direction": "inbound"}},
			{"network.ssh.session", "ssh", "", report.SeverityHigh, [2]float64{0, 1}, map[string]string{"server": "10.210.0.2:443"}}}, report.SeverityLow},
		// pptp-linux on the laptop to pptpd abroad: the control connection
		// up to the Outgoing-Call (this kernel has no PPP, so no GRE; see
		// scripts/zoo/pptp.sh).
		{"zoo-pptp.pcap", []want{
			{"network.pptp.session", "pptp", report.CategoryVPN, report.SeverityMedium, [2]float64{0.9, 1},
				map[string]string{"client": "10.210.0.2", "server": "10.210.0.1:1723", "matched": `vendor "linux"), Outgoing-Call request`, "direction": "outbound"}}}, report.SeverityLow},
		// xl2tpd LAC on the laptop to an xl2tpd LNS abroad, userspace
		// (no kernel L2TP/PPP): the tunnel's control connection, host
		// names in the SCCRQ/SCCRP AVPs.
		{"zoo-l2tp.pcap", []want{
			{"network.l2tp.session", "l2tp", report.CategoryVPN, report.SeverityMedium, [2]float64{0.9, 1},
				map[string]string{"client": "10.210.0.2:1701", "server": "10.210.0.1:1701", "matched": `"farm-lac"`, "direction": "outbound"}}}, report.SeverityLow},
		// openconnect on the laptop to ocserv abroad: TLS login on TCP 443,
		// then the tunnel in DTLS 1.2 (PSK) on UDP 443; nothing in the
		// clear names the protocol.
		{"zoo-ocserv.pcap", []want{
			{"network.sslvpn.dtls", "ssl-vpn", report.CategoryVPN, report.SeverityMedium, [2]float64{0.7, 0.8},
				map[string]string{"client": "10.210.0.2", "server": "10.210.0.1:443", "direction": "outbound"}}}, report.SeverityLow},
		// microsocks on the laptop with a login (RFC 1929 sub-negotiation),
		// used from abroad: this host relays for an outsider.
		{"zoo-socks5-auth.pcap", []want{
			{"network.socks.proxy", "socks", report.CategoryProxy, report.SeverityHigh, [2]float64{0.85, 0.95},
				map[string]string{"client": "10.210.0.1", "server": "10.210.0.2:1080", "socks_target": "10.210.1.2:8000", "socks_granted": "true"}}}, report.SeverityLow},
		// Ordinary pings (iputils default, -s 1200, -p 5aa5; busybox -s
		// 500): nothing.
		{"zoo-icmp-ping.pcap", nil, report.SeverityInfo},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			fs := analyzeRecording(t, c.file, laptop)
			used := map[int]bool{}
			for _, w := range c.want {
				f := claimFinding(t, fs, used, w.rule+" "+w.tool+" ≥ "+w.sev.String(), func(f report.Finding) bool {
					return f.Rule == w.rule && f.Tool == w.tool && f.Severity >= w.sev
				})
				if w.cat != "" && f.Category != w.cat {
					t.Errorf("%s: category %s, want %s", w.rule, f.Category, w.cat)
				}
				if f.Confidence < w.conf[0] || f.Confidence > w.conf[1] {
					t.Errorf("%s: confidence %.2f outside %v", w.rule, f.Confidence, w.conf)
				}
				checkEvidence(t, w.rule, f, w.evidence, nil)
			}
			checkUnclaimed(t, fs, used, c.max)
			if t.Failed() || testing.Verbose() {
				t.Logf("findings:\n%s", list(fs))
			}
		})
	}
}
