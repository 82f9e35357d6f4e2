package network

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/farmwatch/farmwatch/internal/detect/network/proto/l2tp"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/pptp"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/tinc"
	"github.com/farmwatch/farmwatch/internal/report"
)

// IP protocols carried as flows besides TCP, UDP and ESP.
const (
	protoIPIP  = 4
	protoIPv6  = 41
	protoGRE   = 47
	protoAH    = 51
	protoL2TP3 = 115
)

// relaySeverity raises base by one step when this host serves outsiders
// (the flow's server is local and its client is not): a VPN or proxy
// endpoint others use is worse than this host using one.
func (c *classCtx) relaySeverity(base report.Severity) report.Severity {
	if c.inbound() && !c.e.local(c.f.Client.Addr) && base < report.SeverityHigh {
		return base + 1
	}
	return base
}

// pptpAnalyzer: the PPTP control connection (TCP, magic cookie 0x1A2B3C4D,
// Start-Control-Connection and Outgoing-Call messages, any port) and its
// data, enhanced GRE version 1 carrying PPP (IP protocol 47).
var pptpAnalyzer = analyzer{
	name: "pptp",
	inspect: func(v *view, m *Meta) {
		switch v.f.Proto {
		case 6:
			cm, errC := pptp.Parse(v.c2s, 4)
			sm, errS := pptp.Parse(v.s2c, 4)
			switch {
			case errC == nil && errS == nil && cm[0].Type == pptp.StartControlRequest && sm[0].Type == pptp.StartControlReply:
				what := "PPTP Start-Control-Connection request and reply"
				if h := sm[0].Hostname; h != "" {
					what += fmt.Sprintf(" (server host %q, vendor %q)", h, sm[0].Vendor)
				}
				for _, x := range cm {
					if x.Type == pptp.OutgoingCallRequest {
						what += ", Outgoing-Call request"
					}
				}
				m.addMark("pptp", what)
			case errC == nil && cm[0].Type == pptp.StartControlRequest:
				m.addMark("pptp-half", "PPTP Start-Control-Connection request (no reply seen)")
			}
		case protoGRE:
			for d := 0; d < 2; d++ {
				dg, _ := v.dgrams(d)
				for _, b := range dg {
					g, err := pptp.ParseGRE(b)
					if err != nil {
						continue
					}
					switch {
					case g.Version == 1:
						m.addMark("pptp-gre", fmt.Sprintf("enhanced GRE (version 1) carrying PPP, call id %d", g.CallID))
					case g.Protocol == pptp.GREIPv4 || g.Protocol == pptp.GREIPv6:
						if innerIP(b[g.HeaderLen:], 0) {
							m.addMark("gre", fmt.Sprintf("GRE carrying IPv%d packets", map[uint16]int{pptp.GREIPv4: 4, pptp.GREIPv6: 6}[g.Protocol]))
						}
					case g.Protocol == pptp.GREEthernet:
						m.addMark("gre", "GRE carrying Ethernet frames (gretap)")
					}
				}
			}
		}
	},
	classify: func(c *classCtx) {
		f := c.f
		if mk, ok := c.m.mark("pptp"); ok {
			c.emit(result{Rule: "network.pptp.session", Tool: "pptp", Category: report.CategoryVPN,
				Severity: c.relaySeverity(report.SeverityMedium), Conf: 0.95, Matched: mk.What,
				Summary: fmt.Sprintf("PPTP VPN control connection from %s to %s.", f.Client.Addr, f.Server)})
		} else if mk, ok := c.m.mark("pptp-half"); ok {
			c.emit(result{Rule: "network.pptp.session", Tool: "pptp", Category: report.CategoryVPN,
				Severity: report.SeverityLow, Conf: 0.8, Matched: mk.What,
				Summary: fmt.Sprintf("PPTP VPN connection attempt from %s to %s.", f.Client.Addr, f.Server)})
		}
		if mk, ok := c.m.mark("pptp-gre"); ok {
			c.emit(result{Rule: "network.pptp.gre", Tool: "pptp", Category: report.CategoryVPN,
				Severity: report.SeverityMedium, Conf: 0.9, Matched: mk.What,
				Summary: fmt.Sprintf("PPTP tunnel data (GRE) between %s and %s.", f.Client.Addr, f.Server.Addr)})
		}
		if mk, ok := c.m.mark("gre"); ok {
			c.emit(result{Rule: "network.gre.tunnel", Tool: "gre", Category: report.CategoryTunnel,
				Severity: report.SeverityMedium, Conf: 0.8, Matched: mk.What,
				Summary: fmt.Sprintf("GRE tunnel between %s and %s.", f.Client.Addr, f.Server.Addr)})
		}
	},
}

// innerIP reports whether b starts with an IP header of version want (0:
// either) whose length is plausible for the bytes that carried it.
func innerIP(b []byte, want int) bool {
	if len(b) < 20 {
		return false
	}
	v := int(b[0] >> 4)
	if want != 0 && v != want {
		return false
	}
	switch v {
	case 4:
		ihl := int(b[0]&0xf) * 4
		tl := int(binary.BigEndian.Uint16(b[2:]))
		return ihl >= 20 && tl >= ihl && b[8] > 0 // TTL non-zero
	case 6:
		return len(b) >= 40 && b[7] > 0 // hop limit non-zero
	}
	return false
}

// ipTunnelAnalyzer: IP protocols that carry other packets: IP-in-IP (4),
// IPv6-in-IPv4 (41, 6in4/6to4 tunnel brokers), L2TPv3 over IP (115) and
// IPsec AH (51).
var ipTunnelAnalyzer = analyzer{
	name: "ip-tunnel",
	inspect: func(v *view, m *Meta) {
		p := v.f.Proto
		if p != protoIPIP && p != protoIPv6 && p != protoL2TP3 && p != protoAH {
			return
		}
		for d := 0; d < 2; d++ {
			dg, _ := v.dgrams(d)
			for _, b := range dg {
				switch p {
				case protoIPIP:
					if innerIP(b, 4) {
						m.addMark("ipip", "IPv4 packets inside IPv4 (IP protocol 4)")
					}
				case protoIPv6:
					if innerIP(b, 6) {
						m.addMark("6in4", "IPv6 packets inside IPv4 (IP protocol 41)")
					}
				case protoL2TP3:
					if x, err := l2tp.ParseIP(b); err == nil {
						m.addMark("l2tp", fmt.Sprintf("L2TPv3 control message type %d over IP protocol 115", x.Type))
					}
				case protoAH:
					if len(b) >= 12 && b[2] == 0 && b[3] == 0 {
						m.addMark("ipsec", "AH (IP protocol 51)")
					}
				}
			}
		}
	},
	classify: func(c *classCtx) {
		f := c.f
		if mk, ok := c.m.mark("ipip"); ok {
			c.emit(result{Rule: "network.ip-in-ip.tunnel", Tool: "ipip", Category: report.CategoryTunnel,
				Severity: report.SeverityMedium, Conf: 0.85, Matched: mk.What,
				Summary: fmt.Sprintf("IP-in-IP tunnel between %s and %s.", f.Client.Addr, f.Server.Addr)})
		}
		if mk, ok := c.m.mark("6in4"); ok {
			c.emit(result{Rule: "network.ip-in-ip.tunnel", Tool: "6in4", Category: report.CategoryTunnel,
				Severity: report.SeverityLow, Conf: 0.85, Matched: mk.What,
				Summary: fmt.Sprintf("IPv6-in-IPv4 tunnel between %s and %s.", f.Client.Addr, f.Server.Addr)})
		}
		if f.Proto == protoL2TP3 {
			if mk, ok := c.m.mark("l2tp"); ok {
				c.emit(result{Rule: "network.l2tp.session", Tool: "l2tp", Category: report.CategoryVPN,
					Severity: report.SeverityMedium, Conf: 0.9, Matched: mk.What,
					Summary: fmt.Sprintf("L2TPv3 tunnel between %s and %s.", f.Client.Addr, f.Server.Addr)})
			}
		}
		if f.Proto == protoAH {
			if mk, ok := c.m.mark("ipsec"); ok {
				c.emit(result{Rule: "network.ipsec.session", Tool: "ipsec", Category: report.CategoryVPN,
					Severity: report.SeverityLow, Conf: 0.85, Matched: mk.What,
					Subject: f.Client.Addr.String() + "|" + f.Server.Addr.String(),
					Summary: fmt.Sprintf("IPsec (AH) traffic between %s and %s.", f.Client.Addr, f.Server.Addr)})
			}
		}
	},
}

// l2tpAnalyzer: L2TPv2 over UDP (any port; 1701 by default): a control
// message whose first AVP is the message type, or data messages both ways
// on port 1701.
var l2tpAnalyzer = analyzer{
	name: "l2tp",
	inspect: func(v *view, m *Meta) {
		if v.f.Proto != 17 {
			return
		}
		on1701 := v.f.Server.Port == 1701 || v.f.Client.Port == 1701
		var ctl, data [2]int
		what := ""
		for d := 0; d < 2; d++ {
			dg, _ := v.dgrams(d)
			for _, b := range dg {
				x, err := l2tp.Parse(b)
				if err != nil {
					continue
				}
				if !x.Control {
					data[d]++
					continue
				}
				if x.Type != 0 {
					ctl[d]++
					if what == "" || x.Type == l2tp.SCCRQ {
						what = fmt.Sprintf("L2TPv2 control message type %d", x.Type)
						if x.HostName != "" {
							what += fmt.Sprintf(" (host name %q)", x.HostName)
						}
					}
				}
			}
		}
		switch {
		case ctl[0] > 0 && ctl[1] > 0:
			m.addMark("l2tp", what+", answered")
		case ctl[0]+ctl[1] > 0 && on1701:
			m.addMark("l2tp", what)
		case on1701 && data[0] > 0 && data[1] > 0:
			m.addMark("l2tp-data", "L2TPv2 data messages both ways on UDP 1701")
		}
	},
	classify: func(c *classCtx) {
		f := c.f
		if f.Proto != 17 {
			return
		}
		if mk, ok := c.m.mark("l2tp"); ok {
			c.emit(result{Rule: "network.l2tp.session", Tool: "l2tp", Category: report.CategoryVPN,
				Severity: c.relaySeverity(report.SeverityMedium), Conf: 0.95, Matched: mk.What,
				Summary: fmt.Sprintf("L2TP VPN tunnel from %s to %s.", f.Client.Addr, f.Server)})
		} else if mk, ok := c.m.mark("l2tp-data"); ok {
			c.emit(result{Rule: "network.l2tp.session", Tool: "l2tp", Category: report.CategoryVPN,
				Severity: report.SeverityMedium, Conf: 0.75, Matched: mk.What,
				Summary: fmt.Sprintf("L2TP VPN tunnel from %s to %s.", f.Client.Addr, f.Server)})
		}
	},
}

// tincAnalyzer: tinc's meta connection opening, the plaintext ID line
// "0 <node> 17[.minor]" from either side (both sides for full confidence).
var tincAnalyzer = analyzer{
	name: "tinc",
	inspect: func(v *view, m *Meta) {
		if v.f.Proto != 6 {
			return
		}
		ci, errC := tinc.Parse(v.c2s)
		si, errS := tinc.Parse(v.s2c)
		switch {
		case errC == nil && errS == nil:
			m.addMark("tinc", fmt.Sprintf("tinc ID exchange: nodes %q and %q, protocol %d.%d", ci.Name, si.Name, ci.Major, ci.Minor))
		case errC == nil:
			m.addMark("tinc-half", fmt.Sprintf("tinc ID line from node %q, protocol %d.%d", ci.Name, ci.Major, ci.Minor))
		}
	},
	classify: func(c *classCtx) {
		f := c.f
		if mk, ok := c.m.mark("tinc"); ok {
			c.emit(result{Rule: "network.tinc.session", Tool: "tinc", Category: report.CategoryVPN,
				Severity: c.relaySeverity(report.SeverityMedium), Conf: 0.95, Matched: mk.What,
				Summary: fmt.Sprintf("tinc VPN meta connection from %s to %s.", f.Client.Addr, f.Server)})
		} else if mk, ok := c.m.mark("tinc-half"); ok {
			c.emit(result{Rule: "network.tinc.session", Tool: "tinc", Category: report.CategoryVPN,
				Severity: report.SeverityMedium, Conf: 0.8, Matched: mk.What,
				Summary: fmt.Sprintf("tinc VPN meta connection from %s to %s.", f.Client.Addr, f.Server)})
		}
	},
}

// sslVPNAnalyzer: SSL VPNs where their HTTP opening is visible (not
// wrapped in TLS, or inside a CONNECT tunnel): Microsoft SSTP's
// SSTP_DUPLEX_POST to /sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/, and the
// Cisco AnyConnect protocol (OpenConnect, ocserv): CONNECT /CSCOSSLC/tunnel
// with X-CSTP-* headers.
var sslVPNAnalyzer = analyzer{
	name: "ssl-vpn",
	classify: func(c *classCtx) {
		r := c.m.HTTPReq
		if r == nil {
			return
		}
		f := c.f
		switch {
		case r.Method == "SSTP_DUPLEX_POST" || strings.HasPrefix(strings.ToLower(r.Target), "/sra_{ba195980-cd49-458b-9e23-c84ee0adcd75}"):
			c.emit(result{Rule: "network.sstp.session", Tool: "sstp", Category: report.CategoryVPN,
				Severity: c.relaySeverity(report.SeverityMedium), Conf: 0.95, Matched: r.Method + " " + r.Target,
				Summary: fmt.Sprintf("SSTP VPN from %s to %s.", f.Client.Addr, f.Server)})
		case strings.EqualFold(r.Target, "/CSCOSSLC/tunnel") || r.CSTP || (c.m.HTTPResp != nil && c.m.HTTPResp.CSTP):
			c.emit(result{Rule: "network.anyconnect.session", Tool: "anyconnect", Category: report.CategoryVPN,
				Severity: c.relaySeverity(report.SeverityMedium), Conf: 0.95, Matched: r.Method + " " + r.Target + " with X-CSTP headers",
				Summary: fmt.Sprintf("AnyConnect-protocol SSL VPN (OpenConnect/ocserv/Cisco) from %s to %s.", f.Client.Addr, f.Server)})
		}
	},
}
