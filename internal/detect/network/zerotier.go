package network

import (
	"fmt"

	"github.com/farmwatch/farmwatch/internal/report"
)

// zerotierAnalyzer: ZeroTier's UDP 9993 peer traffic, which carries an
// 8-byte packet id, 5-byte destination and source addresses and a
// flags/cipher byte (≥ 28 bytes), both ways between the same ports.
var zerotierAnalyzer = analyzer{
	name: "zerotier",
	classify: func(c *classCtx) {
		f := c.f
		if f.Proto != 17 || (f.Server.Port != 9993 && f.Client.Port != 9993) {
			return
		}
		cd, sd := &f.Dir[0], &f.Dir[1]
		if cd.PayloadPackets == 0 || sd.PayloadPackets == 0 || cd.MaxPayload < 28 || sd.MaxPayload < 28 {
			return
		}
		c.emit(result{Rule: "network.zerotier.session", Tool: "zerotier", Category: report.CategoryVPN,
			Severity: report.SeverityMedium, Conf: 0.6, Matched: "bidirectional UDP 9993 peer traffic",
			Summary: fmt.Sprintf("ZeroTier overlay traffic between %s and %s.", f.Client, f.Server)})
	},
}
