package network

import (
	"fmt"

	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/report"
)

// remoteTool builds an analyzer for a remote-control tool recognised by a
// byte signature: match inspects the flow's first bytes and says what
// matched. The session is rated by direction (inbound high, outbound
// medium); relayed tools (both ends dial out) are raised to high when the
// local side is the one streaming the screen.
func remoteTool(tool, display string, relayed bool, match func(v *view) (string, bool)) analyzer {
	key := "rc:" + tool
	return analyzer{
		name: tool,
		inspect: func(v *view, m *Meta) {
			if what, ok := match(v); ok {
				m.addMark(key, what)
			}
		},
		classify: func(c *classCtx) {
			mk, ok := c.m.mark(key)
			if !ok || c.claimed(tool) {
				return
			}
			emitRemoteTool(c, tool, display, relayed, mk.What, 0.9)
		},
	}
}

func emitRemoteTool(c *classCtx, tool, display string, relayed bool, what string, conf float64) {
	sev, dir := c.rcSeverity()
	f := c.f
	summary := fmt.Sprintf("%s %s session from %s to %s.", upper(dir), display, f.Client.Addr, f.Server)
	if relayed && !c.inbound() {
		// Both ends dial out to a relay: the direction of control shows in
		// who sends the screen.
		up, down := f.Dir[flow.C2S].PayloadBytes, f.Dir[flow.S2C].PayloadBytes
		if c.e.local(f.Client.Addr) && up > 4*down && up > 64<<10 {
			sev = report.SeverityHigh
			summary = fmt.Sprintf("%s session via %s in which this host (%s) streams its screen: it is being controlled remotely.", display, f.Server, f.Client.Addr)
		} else {
			summary = fmt.Sprintf("%s connection from %s to %s (relay or peer); this host runs %s.", display, f.Client.Addr, f.Server, display)
		}
	}
	c.emit(result{Rule: "network." + tool + ".session", Tool: tool, Category: report.CategoryRemoteAccess,
		Severity: sev, Conf: conf, Matched: what, Summary: summary})
}

// firstPayloads returns each direction's first payload (TCP prefix or
// first datagram) with its original length.
func firstPayloads(v *view) (c []byte, cn int, s []byte, sn int) {
	c, cn = v.first(flow.C2S)
	s, sn = v.first(flow.S2C)
	return
}

// anyDatagram reports whether fn matches any kept datagram either way.
func anyDatagram(v *view, fn func(b []byte, n int) bool) bool {
	for d := 0; d < 2; d++ {
		dg, lens := v.dgrams(d)
		for i, b := range dg {
			if fn(b, lens[i]) {
				return true
			}
		}
	}
	return false
}
