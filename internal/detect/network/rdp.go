package network

import (
	"fmt"

	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/rdp"
	"github.com/farmwatch/farmwatch/internal/report"
)

// rdpAnalyzer: TPKT/X.224 connection request + confirm over TCP on any
// port, and MS-RDPEUDP SYN datagrams over UDP.
var rdpAnalyzer = analyzer{
	name: "rdp",
	inspect: func(v *view, m *Meta) {
		if v.f.Proto != 17 {
			return
		}
		for d := 0; d < 2; d++ {
			dg, _ := v.dgrams(d)
			for _, b := range dg {
				if rdp.IsUDPSyn(b) {
					m.addMark("rdp-udp", fmt.Sprintf("MS-RDPEUDP SYN datagram (%s)", dirName(d)))
					return
				}
			}
		}
	},
	classify: func(c *classCtx) {
		sev, dir := c.rcSeverity()
		if r := c.m.RDPRequest; r != nil {
			screen := c.m.controlledSide()
			sev, dir = c.rcSeverityFor(screen)
			ex := map[string]any{}
			what := "TPKT/X.224 Connection Request"
			conf := 0.8
			if r.Cookie != "" {
				ex["rdp_cookie"] = r.Cookie
				what += " with mstshash cookie"
			}
			if r.HasNeg {
				ex["rdp_requested_protocols"] = protoNames(r.Requested)
			}
			if cc := c.m.RDPConfirm; cc != nil {
				what += " + Connection Confirm"
				conf = 0.95
				if !cc.Failure {
					ex["rdp_selected_protocol"] = protoNames(cc.Selected)
				}
			}
			if screen == flow.C2S {
				ex["rdp_reverse_connection"] = true
			}
			if c.f.Dir[screen].PayloadBytes < 1024 && c.m.RDPConfirm == nil {
				sev = minSev(sev, report.SeverityMedium)
			}
			c.emit(result{Rule: "network.rdp.session", Tool: "rdp", Category: report.CategoryRemoteAccess,
				Severity: sev, Conf: conf, Matched: what, Extra: ex,
				Summary: fmt.Sprintf("%s RDP session from %s to %s.", upper(dir), c.f.Client.Addr, c.f.Server)})
			return
		}
		if mk, ok := c.m.mark("rdp-udp"); ok {
			c.emit(result{Rule: "network.rdp.udp", Tool: "rdp", Category: report.CategoryRemoteAccess,
				Severity: sev, Conf: 0.9, Matched: mk.What,
				Summary: fmt.Sprintf("%s RDP UDP transport (MS-RDPEUDP) from %s to %s.", upper(dir), c.f.Client.Addr, c.f.Server)})
		}
	},
}

func protoNames(p uint32) string {
	if p == 0 {
		return "rdp"
	}
	s := ""
	for _, x := range []struct {
		bit  uint32
		name string
	}{{1, "tls"}, {2, "credssp"}, {4, "rdstls"}, {8, "credssp-early-auth"}, {16, "aad"}} {
		if p&x.bit != 0 {
			if s != "" {
				s += ","
			}
			s += x.name
		}
	}
	if s == "" {
		s = fmt.Sprintf("0x%x", p)
	}
	return s
}

func dirName(d int) string {
	if d == flow.C2S {
		return "client to server"
	}
	return "server to client"
}

func upper(s string) string {
	if s == "" {
		return s
	}
	b := []byte(s)
	if b[0] >= 'a' && b[0] <= 'z' {
		b[0] -= 32
	}
	return string(b)
}

func minSev(a, b report.Severity) report.Severity {
	if a < b {
		return a
	}
	return b
}
