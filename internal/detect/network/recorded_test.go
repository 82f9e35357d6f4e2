package network

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/farmwatch/farmwatch/internal/report"
)

// TestRecordedCaptures analyses the captures scripts/record-pcaps.sh
// recorded from real software in network namespaces, with a 180 ms round
// trip between the controller (10.200.0.1) and the laptop (10.200.0.2).
func TestRecordedCaptures(t *testing.T) {
	local := []netip.Prefix{
		netip.MustParsePrefix("10.200.0.2/32"), netip.MustParsePrefix("10.200.1.1/32"),
		netip.MustParsePrefix("10.201.0.2/32"), netip.MustParsePrefix("10.202.0.0/24"),
	}
	type want struct {
		rule, tool string
		sev        report.Severity
		evidence   map[string]string
	}
	cases := []struct {
		file string
		want []want
		max  report.Severity // nothing above this except the wanted findings
	}{
		{"rdp-xrdp-freerdp.pcap", []want{{"network.rdp.session", "rdp", report.SeverityHigh, map[string]string{"server": "10.200.0.2:3389"}}}, report.SeverityLow},
		{"vnc-x11vnc-tigervnc.pcap", []want{{"network.vnc.session", "vnc", report.SeverityHigh, map[string]string{"rfb_server_version": "3.8", "server": "10.200.0.2:5900"}}}, report.SeverityLow},
		{"ssh-interactive.pcap", []want{{"network.ssh.session", "ssh", report.SeverityHigh, map[string]string{"server": "10.200.0.2:22"}}}, report.SeverityLow},
		{"ssh-reverse-tunnel.pcap", []want{{"network.ssh.reverse", "ssh", report.SeverityHigh, nil}}, report.SeverityLow},
		{"socat-relay.pcap", []want{
			{"network.ssh.session", "ssh", report.SeverityHigh, map[string]string{"server": "10.200.0.2:4444"}},
			// The laptop relays the controller's typing to the next hop on
			// its other network: Zhang & Paxson ON/OFF correlation.
			{"network.behavior.relay", "stepping-stone", report.SeverityHigh, map[string]string{"relay_host": "10.200.", "outbound": "10.200.1.2:22"}},
		}, report.SeverityLow},
		{"wireguard.pcap", []want{{"network.wireguard.session", "wireguard", report.SeverityMedium, nil}}, report.SeverityLow},
		{"openvpn-udp.pcap", []want{{"network.openvpn.session", "openvpn", report.SeverityMedium, nil}}, report.SeverityLow},
		{"benign-download.pcap", nil, report.SeverityLow},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			fs, _, err := AnalyzeFiles(context.Background(), Config{LocalNets: local, Host: report.Host{Name: "pcap", ID: "pcap:" + c.file}},
				[]string{filepath.Join("..", "..", "..", "testdata", "pcaps", c.file)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			used := map[int]bool{}
			for _, w := range c.want {
				found := -1
				for i, f := range fs {
					if f.Rule == w.rule && f.Tool == w.tool && f.Severity == w.sev && !used[i] {
						found = i
						break
					}
				}
				if found < 0 {
					t.Fatalf("missing %s %s %s in:\n%s", w.rule, w.tool, w.sev, list(fs))
				}
				used[found] = true
				for k, v := range w.evidence {
					if got := fmt.Sprint(fs[found].Evidence[k]); !strings.Contains(got, v) {
						t.Errorf("%s evidence %s = %q, want %q", w.rule, k, got, v)
					}
				}
				// The controller is 180 ms away: TCP handshakes say so.
				if fs[found].Evidence["proto"] == "tcp" && w.rule != "network.ssh.reverse" {
					rtt, ok := fs[found].Evidence["handshake_rtt_ms"].(float64)
					if !ok || rtt < 150 || rtt > 400 {
						t.Errorf("%s handshake_rtt_ms = %v, want ≈180", w.rule, fs[found].Evidence["handshake_rtt_ms"])
					}
				}
			}
			for i, f := range fs {
				if !used[i] && f.Severity > c.max {
					t.Errorf("unexpected %s finding %s %s: %s", f.Severity, f.Rule, f.Tool, f.Summary)
				}
			}
		})
	}
}

func list(fs []report.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s %s %s %s\n", f.Severity, f.Rule, f.Tool, f.Summary)
	}
	return b.String()
}
