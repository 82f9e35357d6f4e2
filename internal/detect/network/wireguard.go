package network

import (
	"fmt"

	"github.com/farmwatch/farmwatch/internal/detect/network/proto/wire"
	"github.com/farmwatch/farmwatch/internal/report"
)

// wireguardAnalyzer: WireGuard handshake initiation (type 1, 148 bytes)
// and response (type 2, 92 bytes) or transport data (type 4) both ways;
// Tailscale when it runs on UDP 41641 or a disco message ("TS💬") is seen;
// Cloudflare WARP when the reserved bytes are set on UDP 2408.
var wireguardAnalyzer = analyzer{
	name: "wireguard",
	inspect: func(v *view, m *Meta) {
		if v.f.Proto != 17 {
			return
		}
		var types [2][5]int
		disco := false
		for d := 0; d < 2; d++ {
			dg, lens := v.dgrams(d)
			for i, b := range dg {
				if wire.TailscaleDisco(b) {
					disco = true
				}
				std := wire.WireGuardType(b, lens[i], true)
				if std == 0 && (v.f.Server.Port == 2408 || v.f.Client.Port == 2408) {
					if t := wire.WireGuardType(b, lens[i], false); t != 0 {
						m.addMark("warp", "WireGuard with client-id in reserved bytes on UDP 2408")
						std = t
					}
				}
				types[d][std]++
			}
		}
		if disco {
			m.addMark("tailscale", "Tailscale disco message (magic TS\U0001F4AC)")
		}
		hs := types[0][1] > 0 && types[1][2] > 0 || types[1][1] > 0 && types[0][2] > 0
		data := types[0][4] > 0 && types[1][4] > 0
		switch {
		case hs:
			m.addMark("wireguard", "WireGuard handshake initiation (148 B) and response (92 B)")
		case data:
			m.addMark("wireguard", "WireGuard transport data messages both ways")
		}
	},
	classify: func(c *classCtx) {
		wg, isWG := c.m.mark("wireguard")
		ts, isTS := c.m.mark("tailscale")
		f := c.f
		if isTS || (isWG && (f.Server.Port == 41641 || f.Client.Port == 41641)) {
			what := ts.What
			if !isTS {
				what = wg.What + " on UDP 41641"
			}
			c.emit(result{Rule: "network.tailscale.session", Tool: "tailscale", Category: report.CategoryVPN,
				Severity: report.SeverityMedium, Conf: 0.9, Matched: what,
				Summary: fmt.Sprintf("Tailscale overlay traffic between %s and %s.", f.Client, f.Server)})
			return
		}
		if w, ok := c.m.mark("warp"); ok {
			c.emit(result{Rule: "network.cloudflare-warp.session", Tool: "cloudflare-warp", Category: report.CategoryVPN,
				Severity: report.SeverityMedium, Conf: 0.8, Matched: w.What,
				Summary: fmt.Sprintf("Cloudflare WARP VPN from %s to %s.", f.Client.Addr, f.Server)})
			return
		}
		if isWG {
			c.emit(result{Rule: "network.wireguard.session", Tool: "wireguard", Category: report.CategoryVPN,
				Severity: report.SeverityMedium, Conf: 0.9, Matched: wg.What,
				Summary: fmt.Sprintf("WireGuard VPN tunnel between %s and %s.", f.Client, f.Server)})
		}
	},
}
