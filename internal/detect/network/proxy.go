package network

import (
	"fmt"
	"strings"

	"github.com/farmwatch/farmwatch/internal/detect/network/proto/http"

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
		f := c.f
		if c.m.SOCKSReverse {
			// The laptop (or whoever opened the connection) is the proxy:
			// the far end sends SOCKS requests into it and reaches the
			// network from here.
			ex["socks_reverse"] = true
			sev := report.SeverityMedium
			if c.e.local(f.Client.Addr) && !c.e.local(f.Server.Addr) {
				sev = report.SeverityHigh
			}
			c.emit(result{Rule: "network.socks.reverse", Tool: "socks", Category: report.CategoryProxy,
				Severity: sev, Conf: 0.85, Matched: what + " sent by the accepting side", Extra: ex,
				Summary: fmt.Sprintf("Reverse SOCKS%d: %s dialled out to %s and proxies the requests %s sends back.", s.Version, f.Client.Addr, f.Server, f.Server.Addr)})
			return
		}
		sev := report.SeverityMedium
		if c.inbound() && !c.e.local(f.Client.Addr) {
			sev = report.SeverityHigh // this host relays for outsiders
		}
		c.emit(result{Rule: "network.socks.proxy", Tool: "socks", Category: report.CategoryProxy,
			Severity: sev, Conf: 0.9, Matched: what, Extra: ex,
			Summary: fmt.Sprintf("SOCKS%d proxy use from %s through %s.", s.Version, f.Client.Addr, f.Server)})
	},
}

// httpConnectAnalyzer: an HTTP CONNECT request (leniently parsed: a
// lowercase method, no HTTP version, extra spaces or a target without
// port are accepted and reported) and the proxy's answer.
var httpConnectAnalyzer = analyzer{
	name: "http-connect",
	classify: func(c *classCtx) {
		r := c.m.HTTPReq
		if r == nil || r.Method != "CONNECT" || strings.HasPrefix(r.Target, "/") {
			return
		}
		ex := map[string]any{"connect_target": r.Target}
		if r.UserAgent != "" {
			ex["http_user_agent"] = r.UserAgent
		}
		conf := 0.95
		if len(r.Anomalies) > 0 {
			ex["request_anomalies"] = strings.Join(r.Anomalies, "; ")
			conf = 0.85
		}
		if r.Proto != "" && r.Proto != "HTTP/1.1" {
			ex["http_version"] = r.Proto
		}
		proxyResponseEvidence(c.m.HTTPResp, ex)
		if c.m.TLSClient != nil && c.m.TLSClient.SNI != "" {
			ex[report.EvTLSSNI] = c.m.TLSClient.SNI
		}
		c.emit(result{Rule: "network.http-connect.proxy", Tool: "http-connect", Category: report.CategoryProxy,
			Severity: c.relaySeverity(report.SeverityLow), Conf: conf, Matched: "HTTP CONNECT " + r.Target, Extra: ex,
			Summary: fmt.Sprintf("HTTP CONNECT tunnel to %s through proxy %s.", r.Target, c.f.Server)})
	},
}

// httpProxyAnalyzer: forward HTTP proxying without CONNECT (a request in
// absolute form, GET http://host/…), and proxy answers to requests in
// origin form (407 with Proxy-Authenticate, Proxy-Agent).
var httpProxyAnalyzer = analyzer{
	name: "http-proxy",
	classify: func(c *classCtx) {
		r, resp := c.m.HTTPReq, c.m.HTTPResp
		if r == nil || r.Method == "CONNECT" || r.Method == "SSTP_DUPLEX_POST" {
			return
		}
		f := c.f
		ex := map[string]any{"http_method": r.Method}
		proxyResponseEvidence(resp, ex)
		if r.AbsoluteForm() {
			ex["proxy_target"] = r.Target
			conf := 0.85
			if r.ProxyHeaders || (resp != nil && (resp.Via != "" || resp.ProxyAgent != "" || resp.Status == 407)) {
				conf = 0.95
			}
			c.emit(result{Rule: "network.http-proxy.forward", Tool: "http-proxy", Category: report.CategoryProxy,
				Severity: c.relaySeverity(report.SeverityLow), Conf: conf, Matched: r.Method + " " + r.Target + " (absolute-form request)", Extra: ex,
				Summary: fmt.Sprintf("Forward HTTP proxying from %s through %s.", f.Client.Addr, f.Server)})
			return
		}
		if resp != nil && ((resp.Status == 407 && resp.ProxyAuthenticate != "") || resp.ProxyAgent != "") {
			c.emit(result{Rule: "network.http-proxy.response", Tool: "http-proxy", Category: report.CategoryProxy,
				Severity: report.SeverityLow, Conf: 0.8, Matched: fmt.Sprintf("HTTP %d from a proxy", resp.Status), Extra: ex,
				Summary: fmt.Sprintf("%s answers as an HTTP proxy to %s.", f.Server, f.Client.Addr)})
		}
	},
}

// proxyResponseEvidence adds what a proxy's answer says about the proxy.
func proxyResponseEvidence(resp *http.Response, ex map[string]any) {
	if resp == nil {
		return
	}
	ex["proxy_status"] = resp.Status
	if resp.Via != "" {
		ex["http_via"] = resp.Via
	}
	if resp.ProxyAgent != "" {
		ex["proxy_agent"] = resp.ProxyAgent
	}
	if resp.ProxyAuthenticate != "" {
		ex["proxy_authenticate"] = resp.ProxyAuthenticate
	}
}
