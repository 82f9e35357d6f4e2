package network

import (
	"fmt"

	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/ssh"
	"github.com/farmwatch/farmwatch/internal/report"
)

// sshAnalyzer: SSH on any port by its banner. Roles come from the key
// exchange: the side that sends KEX_ECDH_INIT (30) is the SSH client, so a
// TCP responder sending it means reversed roles. In a normal-role session,
// a remote end typing into a session this host opened shows as small,
// human-paced payloads from the server and most bare ACKs coming from the
// server side (the client's output being acknowledged).
var sshAnalyzer = analyzer{
	name: "ssh",
	classify: func(c *classCtx) {
		m, f := c.m, c.f
		if m.SSHClient == nil && m.SSHServer == nil {
			return
		}
		ex := map[string]any{}
		if m.SSHClient != nil {
			ex["ssh_client_banner"] = m.SSHClient.Banner
		}
		if m.SSHServer != nil {
			ex["ssh_server_banner"] = m.SSHServer.Banner
		}
		cd, sd := &f.Dir[flow.C2S], &f.Dir[flow.S2C]
		ex["bare_acks_c2s"], ex["bare_acks_s2c"] = cd.BareACKs, sd.BareACKs
		reversed := (m.SSHServer != nil && m.SSHServer.Has(ssh.MsgKexInit30)) ||
			(m.SSHClient != nil && m.SSHClient.Has(ssh.MsgKexReply))
		if reversed {
			c.emit(result{Rule: "network.ssh.reverse", Tool: "ssh", Category: report.CategoryTunnel,
				Severity: report.SeverityHigh, Conf: 0.9, Extra: ex,
				Matched: "TCP responder sent the SSH client's key-exchange init (message 30): roles reversed",
				Summary: fmt.Sprintf("Reverse SSH: %s opened TCP to %s but acts as the SSH server, so the far end logs into this host through a connection it made.", f.Client.Addr, f.Server)})
			return
		}
		// Typed into: the far end's small records at human pace, most
		// bare ACKs from its side, and this side answering with small
		// echoes and output — not a bulk transfer (a git push or scp
		// upload also gets small window adjustments and ACKs back).
		typed := humanPaced(sd) && sd.BareACKs > 2*cd.BareACKs+4 && cd.SmallFrac() >= 0.5
		if typed && c.e.local(f.Client.Addr) {
			c.emit(result{Rule: "network.ssh.reverse", Tool: "ssh", Category: report.CategoryTunnel,
				Severity: report.SeverityHigh, Conf: 0.7, Extra: ex,
				Matched: "server side sends human-paced small records and most bare ACKs (typing at the remote end)",
				Summary: fmt.Sprintf("Reverse SSH session: someone at %s types into a session this host (%s) opened.", f.Server, f.Client.Addr)})
			return
		}
		interactive := humanPaced(cd)
		if interactive {
			ex["interactive"] = true
		}
		sev, dir := report.SeverityLow, "outbound"
		if c.inbound() {
			dir = "inbound"
			sev = report.SeverityMedium
			if interactive {
				sev = report.SeverityHigh
			}
		}
		port := ""
		if f.Server.Port != 22 {
			port = fmt.Sprintf(" on non-standard port %d", f.Server.Port)
		}
		c.emit(result{Rule: "network.ssh.session", Tool: "ssh", Category: report.CategoryRemoteAccess,
			Severity: sev, Conf: 0.95, Extra: ex, Matched: "SSH identification banner" + port,
			Summary: fmt.Sprintf("%s SSH session from %s to %s%s.", upper(dir), f.Client.Addr, f.Server, port)})
	},
}

// humanPaced: enough payload packets, mostly small, at typing pace.
func humanPaced(d *flow.Dir) bool {
	return d.PayloadPackets >= 20 && d.SmallFrac() >= 0.75 && d.MedianIATms() >= 30
}
