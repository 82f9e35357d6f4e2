package network

import (
	"fmt"

	"github.com/farmwatch/farmwatch/internal/detect/network/proto/wire"
	"github.com/farmwatch/farmwatch/internal/report"
)

// openvpnAnalyzer: the control-channel hard reset exchange (client
// HARD_RESET_CLIENT, server HARD_RESET_SERVER acknowledging the client's
// session id) over UDP, or over TCP behind the two-byte length, any port.
var openvpnAnalyzer = analyzer{
	name: "openvpn",
	inspect: func(v *view, m *Meta) {
		c, _, s, _ := firstPayloads(v)
		if v.f.Proto == 6 {
			cp, ok1 := wire.OpenVPNTCP(c)
			sp, ok2 := wire.OpenVPNTCP(s)
			if ok1 && ok2 && wire.OpenVPNReset(cp, sp) {
				m.addMark("openvpn", "OpenVPN P_CONTROL_HARD_RESET client/server exchange over TCP")
			}
			return
		}
		if v.f.Proto == 17 && wire.OpenVPNReset(c, s) {
			m.addMark("openvpn", "OpenVPN P_CONTROL_HARD_RESET client/server exchange over UDP")
		}
	},
	classify: func(c *classCtx) {
		if mk, ok := c.m.mark("openvpn"); ok {
			c.emit(result{Rule: "network.openvpn.session", Tool: "openvpn", Category: report.CategoryVPN,
				Severity: report.SeverityMedium, Conf: 0.95, Matched: mk.What,
				Summary: fmt.Sprintf("OpenVPN tunnel from %s to %s.", c.f.Client.Addr, c.f.Server)})
		}
	},
}
