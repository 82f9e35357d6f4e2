package network

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/farmwatch/farmwatch/internal/report"
)

// TestZooCaptures analyses the sessions scripts/zoo.sh recorded from real
// software in network namespaces (testdata/pcaps/zoo-*.pcap): the laptop is
// 10.210.0.2, the controller 10.210.0.1, 180 ms away; on the side link the
// laptop is 10.210.1.1 and its neighbour 10.210.1.2. Each capture was
// taken on the laptop. Positives must be found with the laptop as the
// controlled side; negatives (the laptop drives someone else, a video call,
// an upload, streaming, a git push, a terminal with echo) stay at or below
// low.
func TestZooCaptures(t *testing.T) {
	laptop := []netip.Prefix{netip.MustParsePrefix("10.210.0.2/32"), netip.MustParsePrefix("10.210.1.1/32")}
	type want struct {
		rule, tool string // rules separated by "|" are alternatives
		sev        report.Severity
		evidence   map[string]string
		num        map[string][2]float64
	}
	cases := []struct {
		file string
		want []want
		max  report.Severity // every other finding at most this
	}{
		// x11vnc -connect: the VNC server opened the connection to a
		// listening viewer; RFB parsed by role, roles confirmed by
		// behaviour; the controller's round trip is the handshake's.
		{"zoo-vnc-reverse.pcap", []want{{"network.vnc.session", "vnc", report.SeverityHigh,
			map[string]string{"vnc_reverse_connection": "true", "controlled": "10.210.0.2:", "host_role": "controlled"},
			map[string][2]float64{"app_rtt_ms": {150, 260}, "handshake_rtt_ms": {150, 260}}}}, report.SeverityLow},
		// The same through an HTTP proxy (x11vnc -proxy, tinyproxy): RFB
		// parsed inside the CONNECT tunnel, by role; the behaviour agrees.
		// The proxy's Nagle doubles some answers: the controller is still
		// at the proxy's distance.
		{"zoo-vnc-http-connect.pcap", []want{
			{"network.vnc.session", "vnc", report.SeverityHigh,
				map[string]string{"controlled": "10.210.0.2:", "carrier": "http-connect", "vnc_reverse_connection": "true", "host_role": "controlled"},
				map[string][2]float64{"app_rtt_ms": {150, 260}, "handshake_rtt_ms": {150, 260}}},
			{"network.http-connect.proxy", "http-connect", report.SeverityLow, nil, nil}}, report.SeverityLow},
		// x11vnc on the laptop's loopback, exposed by autossh -R over an
		// SSH connection the laptop opened: the SSH flow carries the
		// screen out and the input in.
		{"zoo-vnc-autossh-r.pcap", []want{
			{"network.behavior.controlled", "unknown", report.SeverityHigh,
				map[string]string{"controlled": "10.210.0.2:", "carrier": "ssh", "controlled_opened_connection": "true"}, nil},
			{"network.ssh.session", "ssh", report.SeverityLow, nil, nil}}, report.SeverityLow},
		// The same with xrdp showing the laptop's screen.
		{"zoo-rdp-autossh-r.pcap", []want{
			{"network.behavior.controlled", "unknown", report.SeverityHigh,
				map[string]string{"controlled": "10.210.0.2:", "carrier": "ssh"}, nil},
			{"network.ssh.session", "ssh", report.SeverityLow, nil, nil}}, report.SeverityLow},
		// xray-core's reverse proxy: the laptop's bridge dials out over
		// VLESS in WebSocket in TLS to port 443; nothing names the tool.
		{"zoo-vnc-xray-reverse.pcap", []want{
			{"network.behavior.controlled", "unknown", report.SeverityHigh,
				map[string]string{"controlled": "10.210.0.2:", "controlled_opened_connection": "true"}, nil}}, report.SeverityLow},
		// noVNC + websockify on a host next to the laptop; the browser
		// 180 ms away. The laptop's VNC server sees a nearby peer (the
		// gateway opened the connection); the application round trip
		// still reaches the person: far controller. The laptop forwards
		// the browser's TLS to the gateway (seen in passing, medium) and
		// the stepping stone shows.
		{"zoo-vnc-websockify.pcap", []want{
			{"network.vnc.session", "vnc", report.SeverityHigh,
				map[string]string{"server": "10.210.0.2:5900", "client": "10.210.1.2:", "host_role": "controlled"},
				map[string][2]float64{"handshake_rtt_ms": {0, 20}, "app_rtt_ms": {150, 300}}},
			{"network.behavior.far-controller", "vnc", report.SeverityMedium, map[string]string{"server": "10.210.0.2:5900"},
				map[string][2]float64{"controller_extra_delay_ms": {120, 300}}},
			{"network.behavior.interactive", "unknown", report.SeverityMedium, map[string]string{"host_role": "transit"}, nil},
			{"network.behavior.relay", "stepping-stone", report.SeverityMedium, nil, nil}}, report.SeverityLow},
		// shadowsocks: ss-tunnel on the controller forwards the viewer
		// through ss-server on the laptop (AEAD stream, no plaintext).
		{"zoo-vnc-shadowsocks.pcap", []want{
			{"network.behavior.controlled", "unknown", report.SeverityHigh,
				map[string]string{"controlled": "10.210.0.2:8388"}, nil},
			{"network.behavior.fully-encrypted", "unknown", report.SeverityMedium, map[string]string{"generic": "true"}, nil}}, report.SeverityLow},
		// RDP inside an IKEv2/ESP-in-UDP tunnel the laptop initiated: the
		// inner TCP's ACKs ride as payload; pauses still show the person.
		{"zoo-rdp-strongswan.pcap", []want{
			{"network.behavior.controlled", "unknown", report.SeverityHigh,
				map[string]string{"controlled": "10.210.0.2:4500", "proto": "udp"}, nil},
			{"network.ipsec.session", "ipsec", report.SeverityLow, nil, nil}}, report.SeverityLow},
		// xpra (not VNC or RDP) serving a terminal to a client 180 ms away.
		{"zoo-xpra.pcap", []want{
			{"network.behavior.controlled", "unknown", report.SeverityHigh,
				map[string]string{"controlled": "10.210.0.2:", "host_role": "controlled"}, nil}}, report.SeverityLow},
		// Reverse VNC through the laptop's own shadowsocks client (ss-local
		// SOCKS5) to a server abroad.
		{"zoo-vnc-shadowsocks-out.pcap", []want{
			{"network.behavior.controlled", "unknown", report.SeverityHigh,
				map[string]string{"controlled": "10.210.0.2:", "controlled_opened_connection": "true"}, nil},
			{"network.behavior.fully-encrypted", "unknown", report.SeverityMedium, map[string]string{"generic": "true"}, nil}}, report.SeverityLow},
		// noVNC/websockify on the laptop itself: the far browser's TLS
		// WebSocket carries RFB in.
		{"zoo-vnc-websockify-laptop.pcap", []want{
			{"network.behavior.controlled", "unknown", report.SeverityHigh,
				map[string]string{"controlled": "10.210.0.2:6080"}, nil}}, report.SeverityLow},
		// MeshCentral: the real MeshAgent dialled out to its server on
		// 443 (TLS + WebSocket); the web UI's desktop and terminal.
		{"zoo-meshcentral.pcap", []want{
			{"network.behavior.controlled", "unknown", report.SeverityHigh,
				map[string]string{"controlled": "10.210.0.2:", "controlled_opened_connection": "true", "host_role": "controlled"}, nil}}, report.SeverityLow},
		// Roles swapped: the laptop's person drives a far VNC server.
		{"zoo-vnc-viewer-out.pcap", nil, report.SeverityLow},
		// Benign look-alikes, recorded from the real things: nothing above
		// low. A throttled HTTPS upload (30 s, and 10 minutes at 20 KB/s); the laptop's person typing in a
		// far shell (this host is the input side: low at most); a video
		// call sharing the laptop's screen (WebRTC between two Chromiums,
		// media both ways over UDP); HLS streaming to a player on the
		// laptop; a large git push over SSH.
		{"zoo-upload.pcap", nil, report.SeverityLow},
		{"zoo-upload-10min.pcap", nil, report.SeverityLow},
		{"zoo-ssh-terminal-echo.pcap", nil, report.SeverityLow},
		{"zoo-video-call-screenshare.pcap", nil, report.SeverityLow},
		// The same call relayed over TURN/TCP (coturn): media on one TCP
		// flow the laptop opened, screen out and camera in.
		{"zoo-video-call-screenshare-tcp.pcap", nil, report.SeverityLow},
		{"zoo-streaming.pcap", nil, report.SeverityLow},
		{"zoo-git-push.pcap", nil, report.SeverityLow},
		// FreeRDP's shadow server sharing the live desktop.
		{"zoo-rdp-shadow.pcap", []want{
			{"network.rdp.session", "rdp", report.SeverityHigh,
				map[string]string{"server": "10.210.0.2:3389"}, map[string][2]float64{"handshake_rtt_ms": {150, 260}}}}, report.SeverityLow},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			fs := analyzeRecording(t, c.file, laptop)
			used := map[int]bool{}
			for _, w := range c.want {
				f := claimFinding(t, fs, used, w.rule+" "+w.tool+" ≥ "+w.sev.String(), func(f report.Finding) bool {
					alt := false
					for _, r := range strings.Split(w.rule, "|") {
						alt = alt || f.Rule == r
					}
					return alt && (w.tool == "" || f.Tool == w.tool) && f.Severity >= w.sev
				})
				checkEvidence(t, w.rule, f, w.evidence, w.num)
			}
			checkUnclaimed(t, fs, used, c.max)
		})
	}
}
