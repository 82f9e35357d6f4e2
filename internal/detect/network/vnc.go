package network

import (
	"fmt"

	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/rfb"
	"github.com/farmwatch/farmwatch/internal/report"
)

// vncAnalyzer: RFB on any port. A session needs the client to answer the
// banner and data to flow beyond the security handshake (a framebuffer
// update, at least a few hundred bytes from the server); a banner with no
// session after it is a scan or banner grab.
var vncAnalyzer = analyzer{
	name: "vnc",
	classify: func(c *classCtx) {
		h := c.m.RFB
		if h == nil {
			return
		}
		f := c.f
		screen := c.m.controlledSide()
		s, cl := &f.Dir[screen], &f.Dir[1-screen]
		ex := map[string]any{"rfb_server_version": fmt.Sprintf("%d.%d", h.Server.Major, h.Server.Minor)}
		if h.ClientAnswered {
			ex["rfb_client_version"] = fmt.Sprintf("%d.%d", h.Client.Major, h.Client.Minor)
		}
		if h.ServerInit {
			ex["rfb_framebuffer"] = fmt.Sprintf("%dx%d", h.Width, h.Height)
			if h.Name != "" {
				ex["rfb_desktop_name"] = h.Name
			}
		}
		// A session: the server accepted the client and sent ServerInit.
		// For security types this parser cannot follow (TLS, Apple ARD),
		// the server streaming framebuffer data stands in for it.
		session := h.ServerInit || (!h.Walked && h.ClientAnswered && s.PayloadBytes > 512 && cl.PayloadPackets >= 4)
		if !session {
			c.emit(result{Rule: "network.vnc.scan", Tool: "vnc", Category: report.CategoryRemoteAccess,
				Severity: report.SeverityLow, Conf: 0.8, Extra: ex,
				Matched: "RFB banner without a following session",
				Summary: fmt.Sprintf("VNC server %s answered a banner grab or probe from %s; no session followed.", endpoint(f, screen), endpoint(f, 1-screen).Addr)})
			return
		}
		sev, dir := c.rcSeverityFor(screen)
		ex["vnc_server"] = endpoint(f, screen).String()
		summary := fmt.Sprintf("%s VNC (RFB) session from %s to %s.", upper(dir), f.Client.Addr, f.Server)
		viewer := f.Server.String()
		if r := c.m.HTTPReq; r != nil && r.Method == "CONNECT" {
			ex["carrier"] = "http-connect"
			ex["tunnel_target"] = r.Target
			viewer = fmt.Sprintf("%s through the HTTP proxy %s", r.Target, f.Server)
		}
		if screen == flow.C2S {
			ex["vnc_reverse_connection"] = true
			summary = fmt.Sprintf("%s VNC (RFB) session: the VNC server %s connected out to a listening viewer at %s and streams its screen to it.", upper(dir), f.Client.Addr, viewer)
		}
		c.emit(result{Rule: "network.vnc.session", Tool: "vnc", Category: report.CategoryRemoteAccess,
			Severity: sev, Conf: 0.95, Extra: ex,
			Matched: vncWhat(h), Summary: summary})
	},
}

func vncWhat(h *rfb.Handshake) string {
	if h.ServerInit {
		return "RFB handshake completed: security accepted and ServerInit sent"
	}
	return "RFB ProtocolVersion exchange followed by framebuffer traffic"
}
