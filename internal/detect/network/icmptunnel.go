package network

import (
	"bytes"
	"fmt"

	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/icmp"
	"github.com/farmwatch/farmwatch/internal/report"
)

// icmpTunnelAnalyzer: ICMP echo carrying something other than what ping
// sends. ptunnel(-ng) is named by its magic; anything else is judged on
// the shape of the kept echo payloads (the first four each way): payloads
// that are not ping patterns, replies that do not echo their request, and
// lengths that vary.
var icmpTunnelAnalyzer = analyzer{
	name: "icmp-tunnel",
	inspect: func(v *view, m *Meta) {
		if v.f.Proto != 1 && v.f.Proto != 58 {
			return
		}
		v6 := v.f.Proto == 58
		var echoes, odd, differ, magic, highEnt int
		var magicVal uint32
		lens := map[int]bool{}
		reqs := map[[2]uint16][]byte{}
		var replies []icmp.Echo
		for d := 0; d < 2; d++ {
			dg, ln := v.dgrams(d)
			for i, b := range dg {
				e, err := icmp.ParseEcho(b, v6)
				if err != nil {
					continue
				}
				echoes++
				lens[ln[i]] = true
				if mv := icmp.Ptunnel(e.Payload); mv != 0 {
					magic++
					magicVal = mv
				}
				if !icmp.PingLike(e.Payload) {
					odd++
					if len(e.Payload) >= 32 && icmp.Entropy(e.Payload) >= 4.5 {
						highEnt++
					}
				}
				if e.Reply {
					replies = append(replies, e)
				} else {
					reqs[[2]uint16{e.ID, e.Seq}] = e.Payload
				}
			}
		}
		for _, r := range replies {
			if q, ok := reqs[[2]uint16{r.ID, r.Seq}]; ok && !bytes.Equal(q, r.Payload) {
				differ++
			}
		}
		if magic > 0 {
			m.addMark("ptunnel", fmt.Sprintf("ptunnel magic 0x%08X in %d of %d echo payloads", magicVal, magic, echoes))
			return
		}
		// Many ping programs are fine; a tunnel shows at least three
		// non-ping payloads, and replies that differ from their
		// requests or lengths that vary.
		if odd >= 3 && (differ > 0 || len(lens) >= 3 || len(replies) == 0) {
			m.addMark("icmp-tunnel", fmt.Sprintf("%d of %d echo payloads are not ping patterns (%d high-entropy), %d replies differ from their request, %d distinct lengths", odd, echoes, highEnt, differ, len(lens)))
			if differ > 0 {
				m.addMark("icmp-tunnel-differ", "")
			}
			if highEnt >= 2 {
				m.addMark("icmp-tunnel-entropy", "")
			}
		}
	},
	classify: func(c *classCtx) {
		f := c.f
		if f.Proto != 1 && f.Proto != 58 {
			return
		}
		d := &f.Dir[flow.C2S]
		s := &f.Dir[flow.S2C]
		ex := map[string]any{"icmp_payload_bytes": d.PayloadBytes + s.PayloadBytes, "icmp_max_payload": max(d.MaxPayload, s.MaxPayload)}
		// The flow's client is the side that sent the first echo request
		// (the tunnel's client); the server answers (the tunnel's exit).
		if mk, ok := c.m.mark("ptunnel"); ok {
			c.emit(result{Rule: "network.icmp.tunnel", Tool: "ptunnel", Category: report.CategoryTunnel,
				Severity: c.relaySeverity(report.SeverityMedium), Conf: 0.95, Matched: mk.What, Extra: ex,
				Summary: fmt.Sprintf("ICMP tunnel (ptunnel) from %s to %s.", f.Client.Addr, f.Server.Addr)})
			return
		}
		if mk, ok := c.m.mark("icmp-tunnel"); ok {
			conf := 0.6
			if _, ok := c.m.mark("icmp-tunnel-differ"); ok {
				conf += 0.1
			}
			if _, ok := c.m.mark("icmp-tunnel-entropy"); ok {
				conf += 0.1
			}
			c.emit(result{Rule: "network.icmp.tunnel", Tool: "icmp-tunnel", Category: report.CategoryTunnel,
				Severity: c.relaySeverity(report.SeverityMedium), Conf: conf, Matched: mk.What, Extra: ex,
				Summary: fmt.Sprintf("ICMP echo between %s and %s carries data that is not ping's.", f.Client.Addr, f.Server.Addr)})
		}
	},
}
