package network

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/report"
)

// Far-away controller measure (see interactiveAnalyzer).
const (
	// farControllerExtra is how much longer than the TCP handshake RTT the
	// application round trip must be for network.behavior.far-controller.
	// Jitter, the client's own processing and the transfer time of an
	// update stay well below it (tens of ms); a controller on another
	// continent behind a local relay adds 100–300 ms.
	farControllerExtra = 150 * time.Millisecond
	// minAppSamples application round trips are needed to fire; fewer (but
	// at least minAppReport) are still reported as evidence.
	minAppSamples = 8
	minAppReport  = 4
	// maxInputToUpdate: beyond this the input→update delay is not a
	// response time (idle screens, typing without echo); not reported.
	maxInputToUpdate = 2 * time.Second
)

// interactiveAnalyzer has two behavioural parts.
//
// Interactive remote control, for tools nobody has a signature for: a long
// flow in which one side sends small, human-paced input (≥ 20 payload
// packets, ≥ 75 % of them ≤ 150 bytes, median gap ≥ 30 ms) and the other
// side answers with bulkier, bursty screen updates (≥ 3× the bytes).
//
// A far-away controller (Yung, RAID 2002: the response time of an
// interactive session against its network round trip). The agent runs on
// the laptop, the remote-control server, where "input arrives → update
// leaves" is only the server's own processing time. What reaches the
// person at the controls is the application round trip: an update leaves
// → the client's next message that it triggers arrives (a VNC viewer's
// FramebufferUpdateRequest, RDP frame acknowledgements, every protocol's
// opening request/response exchanges); see flow.Flow.AppSamples. The TCP
// handshake RTT only reaches the TCP peer: when that peer is a relay or
// stepping stone near the laptop and the controller sits far behind it,
// the application round trip exceeds the handshake RTT by the distance
// to the controller. Remote-control and interactive session findings
// carry the measured values (app_rtt_ms, handshake_rtt_ms,
// input_to_update_ms) whenever they are measurable;
// network.behavior.far-controller fires when app_rtt_ms − handshake_rtt_ms
// ≥ farControllerExtra.
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
			ex := behaviourEvidence(f)
			delayEvidence(f, ex)
			c.emit(result{Rule: "network.behavior.interactive", Tool: "unknown", Category: report.CategoryRemoteAccess,
				Severity: sev, Conf: 0.5, Extra: ex,
				Matched: "human-paced small input one way, bulk bursty updates the other",
				Summary: fmt.Sprintf("%s interactive remote-control-like session from %s to %s (no known tool signature).", upper(dir), f.Client.Addr, f.Server)})
			remote = true
		}
		if !remote {
			return
		}
		addDelayEvidence(c)
		rtt := f.HandshakeRTT()
		app, n, ok := appRTT(f)
		if rtt <= 0 || !ok || n < minAppSamples {
			return
		}
		gap := app - rtt
		if gap < farControllerExtra {
			return
		}
		ex := behaviourEvidence(f)
		delayEvidence(f, ex)
		ex["controller_extra_delay_ms"] = ms(gap)
		tool := "unknown"
		if len(c.tools) > 0 {
			tool = c.tools[0]
		}
		c.emit(result{Rule: "network.behavior.far-controller", Tool: tool, Category: report.CategoryRelay,
			Severity: report.SeverityMedium, Conf: 0.5, Extra: ex,
			Matched: fmt.Sprintf("application round trip (update → client's next message) %.0f ms vs handshake RTT %.0f ms", float64(app)/1e6, float64(rtt)/1e6),
			Summary: fmt.Sprintf("The controller of the session %s → %s appears %.0f ms further away than its network peer (a relayed operator).", f.Client.Addr, f.Server, float64(gap)/1e6)})
	},
}

// addDelayEvidence adds the measured delays to the remote-control session
// findings this flow produced (those whose evidence describes this very
// flow: the first flow of an aggregated finding).
func addDelayEvidence(c *classCtx) {
	f := c.f
	ex := map[string]any{}
	delayEvidence(f, ex)
	if len(ex) == 0 {
		return
	}
	suffix := "|" + f.Client.Addr.String() + "|" + f.Server.String()
	client, start := f.Client.String(), time.Unix(0, f.Start).UTC().Format(time.RFC3339Nano)
	for subject, fd := range c.dst {
		if fd.Category != report.CategoryRemoteAccess || !strings.HasSuffix(subject, suffix) || !c.claimed(fd.Tool) {
			continue
		}
		if fd.Evidence["client"] != client || fd.Evidence["start"] != start {
			continue
		}
		for k, v := range ex {
			fd.Evidence[k] = v
		}
	}
}

// delayEvidence records what is measurable of the flow's delays, in ms.
func delayEvidence(f *flow.Flow, ex map[string]any) {
	if rtt := f.HandshakeRTT(); rtt > 0 {
		ex["handshake_rtt_ms"] = ms(rtt)
	}
	if app, n, ok := appRTT(f); ok && n >= minAppReport {
		ex["app_rtt_ms"] = ms(app)
		ex["app_rtt_samples"] = n
	}
	if d, n := medianDelay(f); n >= minAppReport && d <= maxInputToUpdate {
		ex["input_to_update_ms"] = ms(d)
		ex["input_to_update_samples"] = n
	}
}

func ms(d time.Duration) float64 { return round3(float64(d) / 1e6) }

// appRTT estimates the application round trip from f.AppSamples.
//
// Two kinds of noise mix into the samples: a client message that the
// update did not trigger but that happened to come first (input sent
// independently: shorter than the round trip), and one that followed an
// update nothing answers (SSH keystroke echo, unsolicited updates: the next
// input comes at human pace, longer and spread out). Triggered answers
// arrive at a consistent delay: a spike in the distribution. Samples below
// ¾ of the handshake RTT are dropped first (nothing from beyond the TCP
// peer answers faster than the peer itself). A sample x is a spike centre
// when the samples within ±10 % (+5 ms) of it are at least 3 and at least
// 60 % of those within ±50 % (+20 ms); the centre with the most samples
// wins and the median of its narrow window is the estimate, provided the
// spike holds at least 40 % of all samples (the answers are the rule, not a
// coincidence of scripted or habitual pauses). ok is false otherwise: no
// stable application round trip, as in interactive SSH, whose opening
// exchanges are outnumbered by keystrokes that answer nothing.
// n is the number of samples kept.
func appRTT(f *flow.Flow) (d time.Duration, n int, ok bool) {
	floor := int64(f.HandshakeRTT()) * 3 / 4
	s := make([]int64, 0, f.NAppSamples)
	for _, v := range f.AppSamples[:f.NAppSamples] {
		if v >= floor {
			s = append(s, v)
		}
	}
	n = len(s)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	count := func(lo, hi int64) (int, int) { // samples in [lo, hi]: first index, count
		i := sort.Search(n, func(k int) bool { return s[k] >= lo })
		j := sort.Search(n, func(k int) bool { return s[k] > hi })
		return i, j - i
	}
	const ms5, ms20 = int64(5 * time.Millisecond), int64(20 * time.Millisecond)
	bestN, bestI := 0, 0
	for _, x := range s {
		i, narrow := count(x-x/10-ms5, x+x/10+ms5)
		_, wide := count(x-x/2-ms20, x+x/2+ms20)
		if narrow >= 3 && 10*narrow >= 6*wide && narrow > bestN {
			bestN, bestI = narrow, i
		}
	}
	if bestN == 0 || 10*bestN < 4*n {
		return 0, n, false
	}
	return time.Duration(s[bestI+bestN/2]), n, true
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
