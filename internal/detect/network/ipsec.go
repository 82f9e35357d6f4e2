package network

import (
	"fmt"

	"github.com/farmwatch/farmwatch/internal/detect/network/proto/wire"
	"github.com/farmwatch/farmwatch/internal/report"
)

// ipsecAnalyzer: IKEv1/IKEv2 on UDP 500 and NAT-T UDP 4500 (after the
// non-ESP marker), ESP-in-UDP on 4500, and raw ESP (IP protocol 50).
// IPsec is mostly corporate remote access, so it is rated low.
var ipsecAnalyzer = analyzer{
	name: "ipsec",
	inspect: func(v *view, m *Meta) {
		f := v.f
		if f.Proto == 50 {
			m.addMark("ipsec", "ESP (IP protocol 50)")
			return
		}
		if f.Proto != 17 {
			return
		}
		p := f.Server.Port
		if f.Client.Port == 500 || f.Client.Port == 4500 {
			p = f.Client.Port
		}
		if p != 500 && p != 4500 {
			return
		}
		ver := 0
		esp := false
		anyDatagram(v, func(b []byte, n int) bool {
			if x, ok := wire.IKE(b, n, p == 4500); ok {
				ver = x
				return true
			}
			if p == 4500 && wire.ESPinUDP(b) {
				esp = true
			}
			return false
		})
		switch {
		case ver != 0:
			m.addMark("ipsec", fmt.Sprintf("IKEv%d header on UDP %d", ver, p))
		case esp:
			m.addMark("ipsec", "ESP in UDP (NAT-T) on UDP 4500")
		}
	},
	classify: func(c *classCtx) {
		if mk, ok := c.m.mark("ipsec"); ok {
			c.emit(result{Rule: "network.ipsec.session", Tool: "ipsec", Category: report.CategoryVPN,
				Severity: report.SeverityLow, Conf: 0.9, Matched: mk.What,
				Subject: c.f.Client.Addr.String() + "|" + c.f.Server.Addr.String(),
				Summary: fmt.Sprintf("IPsec VPN traffic between %s and %s.", c.f.Client.Addr, c.f.Server.Addr)})
		}
	},
}
