package network

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/farmwatch/farmwatch/internal/detect/network/proto/tls"
	"github.com/farmwatch/farmwatch/internal/report"
)

// websocketTunnelAnalyzer: an HTTP Upgrade to WebSocket whose first frames
// carry another protocol's opening — an SSH banner or a TLS handshake —
// which is how wstunnel, chisel and similar tools hide a tunnel in web
// traffic.
var websocketTunnelAnalyzer = analyzer{
	name: "websocket-tunnel",
	classify: func(c *classCtx) {
		m := c.m
		if m.WSClient == nil && m.WSServer == nil {
			return
		}
		inner := ""
		switch {
		case bytes.HasPrefix(m.WSClient, []byte("SSH-")) || bytes.HasPrefix(m.WSServer, []byte("SSH-")):
			inner = "ssh"
		case tls.IsHandshake(m.WSClient):
			inner = "tls"
		}
		tool, sig := "websocket-tunnel", ""
		ex := map[string]any{}
		if r := m.HTTPReq; r != nil {
			ex["http_target"] = r.Target
			if r.WebSocketProtocol != "" {
				ex["websocket_protocol"] = redactBearer(r.WebSocketProtocol)
			}
			low := strings.ToLower(r.UserAgent + " " + r.Target)
			for _, t := range []string{"wstunnel", "chisel", "websocat", "gost"} {
				if strings.Contains(low, t) {
					tool, sig = t, "name in User-Agent or path"
				}
			}
			// wstunnel ≥ 9 upgrades /v1/events (the path prefix is
			// configurable) and carries its tunnel spec as a JWT in
			// Sec-WebSocket-Protocol "v1, authorization.bearer.<jwt>".
			if strings.Contains(r.WebSocketProtocol, "authorization.bearer.") {
				tool, sig = "wstunnel", "Sec-WebSocket-Protocol v1, authorization.bearer.<JWT>"
			}
		}
		if inner == "" && sig == "" {
			return // an ordinary WebSocket application
		}
		what := "WebSocket upgrade"
		if sig != "" {
			what += " with wstunnel signature (" + sig + ")"
		}
		summary := fmt.Sprintf("%s tunnel inside a WebSocket from %s to %s.", tool, c.f.Client.Addr, c.f.Server)
		if inner != "" {
			ex["inner_protocol"] = inner
			what += " whose first frame carries " + strings.ToUpper(inner)
			summary = fmt.Sprintf("%s tunnelled inside a WebSocket (%s) from %s to %s.", strings.ToUpper(inner), tool, c.f.Client.Addr, c.f.Server)
		}
		c.emit(result{Rule: "network.websocket.tunnel", Tool: tool, Category: report.CategoryTunnel,
			Severity: report.SeverityMedium, Conf: 0.9, Extra: ex, Matched: what, Summary: summary})
	},
}

// redactBearer keeps the shape of a bearer token but not the token: it may
// carry the tunnel's credentials.
func redactBearer(s string) string {
	if i := strings.Index(s, "authorization.bearer."); i >= 0 {
		return s[:i] + "authorization.bearer.<redacted>"
	}
	return s
}
