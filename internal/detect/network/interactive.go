package network

import (
	"fmt"
	"sort"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/report"
)

// interactiveAnalyzer has two behavioural parts.
//
// Interactive remote control, for tools nobody has a signature for: a long
// flow in which one side sends small, human-paced input (≥ 20 payload
// packets, ≥ 75 % of them ≤ 150 bytes, median gap ≥ 30 ms) and the other
// side answers with bulkier, bursty screen updates (≥ 3× the bytes).
//
// A far-away controller (Yung, RAID 2002): in a remote-control or
// interactive session, the delay from input arriving to the next update
// leaving is compared with the flow's handshake RTT; when the controller
// sits much further away than the network peer (through a relay), the
// response delay exceeds the RTT by ≥ 150 ms.
var interactiveAnalyzer = analyzer{
	name: "interactive",
	classify: func(c *classCtx) {
		f := c.f
		in, out := &f.Dir[flow.C2S], &f.Dir[flow.S2C]
		remote := false
		for _, t := range c.tools {
			switch t {
			case "rdp", "vnc", "teamviewer", "anydesk", "rustdesk", "nomachine", "radmin", "citrix", "splashtop", "screenconnect", "sunshine", "ssh", "chrome-remote-desktop", "parsec":
				remote = true
			}
		}
		interactive := f.Duration() >= 20*time.Second && humanPaced(in) &&
			out.PayloadPackets >= 20 && out.PayloadBytes >= 3*in.PayloadBytes
		if interactive && !c.identified {
			sev := report.SeverityLow
			dir := "outbound"
			if c.inbound() {
				sev, dir = report.SeverityMedium, "inbound"
			}
			c.emit(result{Rule: "network.behavior.interactive", Tool: "unknown", Category: report.CategoryRemoteAccess,
				Severity: sev, Conf: 0.5, Extra: behaviourEvidence(f),
				Matched: "human-paced small input one way, bulk bursty updates the other",
				Summary: fmt.Sprintf("%s interactive remote-control-like session from %s to %s (no known tool signature).", upper(dir), f.Client.Addr, f.Server)})
			remote = true
		}
		if !remote || !humanPaced(in) {
			return
		}
		rtt := f.HandshakeRTT()
		delay, n := medianDelay(f)
		if rtt <= 0 || n < 8 {
			return
		}
		gap := delay - rtt
		if gap < 150*time.Millisecond || delay > 2*time.Second {
			return
		}
		ex := behaviourEvidence(f)
		ex["input_to_update_ms"] = round3(float64(delay) / 1e6)
		ex["handshake_rtt_ms"] = round3(float64(rtt) / 1e6)
		ex["controller_extra_delay_ms"] = round3(float64(gap) / 1e6)
		ex["delay_samples"] = n
		tool := "unknown"
		if len(c.tools) > 0 {
			tool = c.tools[0]
		}
		c.emit(result{Rule: "network.behavior.far-controller", Tool: tool, Category: report.CategoryRelay,
			Severity: report.SeverityMedium, Conf: 0.5, Extra: ex,
			Matched: fmt.Sprintf("input→update delay %.0f ms vs handshake RTT %.0f ms", float64(delay)/1e6, float64(rtt)/1e6),
			Summary: fmt.Sprintf("The controller of the session %s → %s appears %.0f ms further away than its network peer (a relayed operator).", f.Client.Addr, f.Server, float64(gap)/1e6)})
	},
}

func medianDelay(f *flow.Flow) (time.Duration, int) {
	n := f.NSamples
	if n == 0 {
		return 0, 0
	}
	s := make([]int64, n)
	copy(s, f.Samples[:n])
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return time.Duration(s[n/2]), n
}

func behaviourEvidence(f *flow.Flow) map[string]any {
	in, out := &f.Dir[flow.C2S], &f.Dir[flow.S2C]
	return map[string]any{
		"c2s_small_frac":      round3(in.SmallFrac()),
		"c2s_median_iat_ms":   round3(in.MedianIATms()),
		"c2s_payload_packets": in.PayloadPackets,
		"s2c_payload_packets": out.PayloadPackets,
		"c2s_payload_bytes":   in.PayloadBytes,
		"s2c_payload_bytes":   out.PayloadBytes,
	}
}
