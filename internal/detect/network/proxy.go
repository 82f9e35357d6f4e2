package network

import (
	"fmt"

	"github.com/farmwatch/farmwatch/internal/report"
)

// socksAnalyzer: a SOCKS 4/4a/5 opening (greeting, method choice, request
// and the proxy's reply), any port.
var socksAnalyzer = analyzer{
	name: "socks",
	classify: func(c *classCtx) {
		s := c.m.SOCKS
		if s == nil {
			return
		}
		ex := map[string]any{"socks_version": s.Version}
		what := fmt.Sprintf("SOCKS%d greeting and reply", s.Version)
		if s.Target != "" {
			ex["socks_target"] = s.Target
			ex["socks_granted"] = s.Granted
			what = fmt.Sprintf("SOCKS%d request for %s", s.Version, s.Target)
		}
		sev := report.SeverityMedium
		if c.inbound() && !c.e.local(c.f.Client.Addr) {
			sev = report.SeverityHigh // this host relays for outsiders
		}
		c.emit(result{Rule: "network.socks.proxy", Tool: "socks", Category: report.CategoryProxy,
			Severity: sev, Conf: 0.9, Matched: what, Extra: ex,
			Summary: fmt.Sprintf("SOCKS%d proxy use from %s through %s.", s.Version, c.f.Client.Addr, c.f.Server)})
	},
}

// httpConnectAnalyzer: an HTTP CONNECT request the proxy answered.
var httpConnectAnalyzer = analyzer{
	name: "http-connect",
	classify: func(c *classCtx) {
		r := c.m.HTTPReq
		if r == nil || r.Method != "CONNECT" {
			return
		}
		ex := map[string]any{"connect_target": r.Target}
		if r.UserAgent != "" {
			ex["http_user_agent"] = r.UserAgent
		}
		if c.m.HTTPResp != nil {
			ex["proxy_status"] = c.m.HTTPResp.Status
		}
		if c.m.TLSClient != nil && c.m.TLSClient.SNI != "" {
			ex["tls_sni"] = c.m.TLSClient.SNI
		}
		c.emit(result{Rule: "network.http-connect.proxy", Tool: "http-connect", Category: report.CategoryProxy,
			Severity: report.SeverityLow, Conf: 0.95, Matched: "HTTP CONNECT " + r.Target, Extra: ex,
			Summary: fmt.Sprintf("HTTP CONNECT tunnel to %s through proxy %s.", r.Target, c.f.Server)})
	},
}
