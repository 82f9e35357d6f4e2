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
// Who is being driven (driveRoles), for every long flow whichever side
// opened it: the side that streams bulky, bursty screen updates answering
// small human-paced input from the other side is being controlled. When
// that side is this host, the flow is network.behavior.controlled — high
// when sustained — whatever the port, the encryption or the carrier (a TLS
// or WebSocket session to an RMM server or relay, an SSH or HTTP tunnel, a
// VPN); when this host is the one sending the input it is
// network.behavior.interactive at low (this host drives someone else's
// screen). Flows that a remote-control protocol analyzer already claimed
// get the roles as evidence, and tools whose both ends dial out to a relay
// (TeamViewer, AnyDesk, …) are rated by them: high when this host streams
// the screen, low when it sends the input.
//
// A far-away controller (Yung, RAID 2002: the response time of an
// interactive session against its network round trip). The agent runs on
// the laptop, the remote-control server, where "input arrives → update
// leaves" is only the server's own processing time. What reaches the
// person at the controls is the application round trip: an update leaves
// → the other side's next message that it triggers arrives (a VNC viewer's
// FramebufferUpdateRequest, RDP frame acknowledgements, every protocol's
// opening request/response exchanges); see flow.Flow.App. The TCP
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
		remote, relayed := false, false
		for _, t := range c.tools {
			switch t {
			// SSH is a carrier: a terminal, or a forward carrying VNC/RDP
			// (ssh -R); the roles below say who is driven.
			case "rdp", "vnc", "nomachine", "radmin", "citrix", "sunshine", "xdmcp":
				remote = true
			case "ssh":
				// Into this host's SSH server: the SSH session finding
				// already says it (typed into: high). Out of it, the
				// session carries whatever was forwarded back.
				remote = remote || c.inbound()
			case "teamviewer", "anydesk", "rustdesk", "splashtop", "screenconnect", "chrome-remote-desktop", "parsec":
				remote, relayed = true, true
			}
		}
		screen := c.m.controlledSide()
		d, driven := driveRoles(f)
		if driven {
			screen = d.screen
		}
		switch {
		case driven && !remote:
			emitDriven(c, d)
			remote = true
		case driven:
			annotateDriven(c, d, relayed)
		}
		if !remote {
			return
		}
		addDelayEvidence(c, screen)
		rtt := f.HandshakeRTT()
		app, n, ok := appRTT(f, screen)
		if rtt <= 0 || !ok || n < minAppSamples {
			return
		}
		gap := app - rtt
		if gap < farControllerExtra {
			return
		}
		ex := behaviourEvidence(f)
		delayEvidence(f, screen, ex)
		ex["controller_extra_delay_ms"] = ms(gap)
		tool := "unknown"
		if len(c.tools) > 0 {
			tool = c.tools[0]
		}
		c.emit(result{Rule: "network.behavior.far-controller", Tool: tool, Category: report.CategoryRelay,
			Severity: report.SeverityMedium, Conf: 0.5, Extra: ex,
			Matched: fmt.Sprintf("application round trip (update → the other side's next message) %.0f ms vs handshake RTT %.0f ms", float64(app)/1e6, float64(rtt)/1e6),
			Summary: fmt.Sprintf("The controller of the session %s → %s appears %.0f ms further away than its network peer (a relayed operator).", f.Client.Addr, f.Server, float64(gap)/1e6)})
	},
}

// emitDriven reports a flow driveRoles recognised that no remote-control
// protocol analyzer claimed: an unknown tool, or a known one inside a
// carrier (TLS, WebSocket, SSH, a proxy or VPN), named in evidence.
func emitDriven(c *classCtx, d drive) {
	f := c.f
	ex := behaviourEvidence(f)
	driveEvidence(f, d, ex)
	delayEvidence(f, d.screen, ex)
	if carriers := carrierTools(c); carriers != "" {
		ex["carrier"] = carriers
	}
	screen, input := endpoint(f, d.screen), endpoint(f, d.input)
	sl, il := c.e.local(screen.Addr), c.e.local(input.Addr)
	how := "it opened the connection"
	if d.screen == flow.S2C {
		how = "the other side opened the connection"
	}
	const matched = "one side streams bulky, bursty updates that follow small, human-paced input from the other"
	switch {
	case sl && !il:
		sev := report.SeverityMedium
		if d.sustained {
			sev = report.SeverityHigh
		}
		ex["host_role"] = "controlled"
		c.emit(result{Rule: "network.behavior.controlled", Tool: "unknown", Category: report.CategoryRemoteAccess,
			Severity: sev, Conf: 0.7, Extra: ex, Matched: matched,
			Summary: fmt.Sprintf("This host (%s) is being remotely controlled from %s: it streams its screen and receives human-paced input (%s; no known tool signature).", screen.Addr, input, how)})
	case il && !sl:
		ex["host_role"] = "viewer"
		c.emit(result{Rule: "network.behavior.interactive", Tool: "unknown", Category: report.CategoryRemoteAccess,
			Severity: report.SeverityLow, Conf: 0.5, Extra: ex, Matched: matched,
			Summary: fmt.Sprintf("This host (%s) drives a remote screen at %s (it sends the input; no known tool signature).", input.Addr, screen)})
	default:
		role := "transit"
		if sl {
			role = "local"
		}
		ex["host_role"] = role
		c.emit(result{Rule: "network.behavior.interactive", Tool: "unknown", Category: report.CategoryRemoteAccess,
			Severity: report.SeverityMedium, Conf: 0.5, Extra: ex, Matched: matched,
			Summary: fmt.Sprintf("Remote-control-like session seen in passing: %s streams screen-like updates answering human-paced input from %s (no known tool signature; a gateway or relay may stand in for the controlled host).", screen, input)})
	}
}

// carrierTools names what the flow's analyzers recognised (a TLS name, an
// SSH or HTTP tunnel, a VPN), if anything.
func carrierTools(c *classCtx) string {
	seen := map[string]bool{}
	var out []string
	for _, t := range c.tools {
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return strings.Join(out, ",")
}

// annotateDriven adds the roles to the remote-control findings this flow
// produced and, for tools whose both ends dial out to a relay, rates them
// by who streams the screen: high when this host does (sustained), low
// when this host sends the input.
func annotateDriven(c *classCtx, d drive, relayed bool) {
	f := c.f
	screen, input := endpoint(f, d.screen), endpoint(f, d.input)
	sl, il := c.e.local(screen.Addr), c.e.local(input.Addr)
	eachOwnFinding(c, func(fd *report.Finding) {
		driveEvidence(f, d, fd.Evidence)
		switch {
		case sl && !il:
			fd.Evidence[report.EvHostRole] = report.HostRoleControlled
		case il && !sl:
			fd.Evidence[report.EvHostRole] = report.HostRoleViewer
		}
		if !relayed {
			return
		}
		switch {
		case sl && !il && d.sustained && fd.Severity < report.SeverityHigh:
			fd.Severity = report.SeverityHigh
			fd.Summary = fmt.Sprintf("%s session via %s in which this host (%s) streams its screen and receives human-paced input: it is being controlled remotely.", fd.Tool, f.Server, screen.Addr)
		case il && !sl && fd.Severity > report.SeverityLow:
			fd.Severity = report.SeverityLow
			fd.Summary = fmt.Sprintf("%s session via %s in which this host (%s) sends the input: it controls another machine.", fd.Tool, f.Server, input.Addr)
		}
	})
}

// eachOwnFinding calls fn for the remote-control session findings this
// flow produced (those whose evidence describes this very flow: the first
// flow of an aggregated finding).
func eachOwnFinding(c *classCtx, fn func(*report.Finding)) {
	f := c.f
	suffix := "|" + f.Client.Addr.String() + "|" + f.Server.String()
	client, start := f.Client.String(), time.Unix(0, f.Start).UTC().Format(time.RFC3339Nano)
	for subject, fd := range c.dst {
		if fd.Category != report.CategoryRemoteAccess || !strings.HasSuffix(subject, suffix) || !c.claimed(fd.Tool) {
			continue
		}
		if fd.Evidence["client"] != client || fd.Evidence["start"] != start {
			continue
		}
		fn(fd)
	}
}

// addDelayEvidence adds the measured delays, with screen the side that
// streams updates, to the remote-control session findings of this flow.
func addDelayEvidence(c *classCtx, screen int) {
	ex := map[string]any{}
	delayEvidence(c.f, screen, ex)
	if len(ex) == 0 {
		return
	}
	eachOwnFinding(c, func(fd *report.Finding) {
		for k, v := range ex {
			fd.Evidence[k] = v
		}
	})
}

// delayEvidence records what is measurable of the flow's delays, in ms,
// with screen the side that streams updates.
func delayEvidence(f *flow.Flow, screen int, ex map[string]any) {
	if rtt := f.HandshakeRTT(); rtt > 0 {
		ex["handshake_rtt_ms"] = ms(rtt)
	}
	if app, n, ok := appRTT(f, screen); ok && n >= minAppReport {
		ex["app_rtt_ms"] = ms(app)
		ex["app_rtt_samples"] = n
	}
	if d, n := medianDelay(f, 1-screen); n >= minAppReport && d <= maxInputToUpdate {
		ex["input_to_update_ms"] = ms(d)
		ex["input_to_update_samples"] = n
	}
}

func ms(d time.Duration) float64 { return round3(float64(d) / 1e6) }

// appRTT estimates the application round trip from f.App[screen], the
// samples of updates sent by side screen.
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
// wins — or a spike at half its delay holding ≥ 25 % of all samples (a
// relay's Nagle and delayed ACKs add a second spike at twice the round
// trip, never a shorter one) — and the median of its narrow window is the
// estimate, provided the spike and its doubled echo hold at least 40 % of
// all samples (the answers are the rule, not a coincidence of
// scripted or habitual pauses). ok is false otherwise: no
// stable application round trip, as in interactive SSH, whose opening
// exchanges are outnumbered by keystrokes that answer nothing.
// n is the number of samples kept.
func appRTT(f *flow.Flow, screen int) (d time.Duration, n int, ok bool) {
	floor := int64(f.HandshakeRTT()) * 3 / 4
	s := make([]int64, 0, f.App[screen].N)
	for _, v := range f.App[screen].All() {
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
	// The spike with the most samples wins, unless a spike at half its
	// delay holds ≥ 25 % of the samples: relays with Nagle's algorithm and
	// delayed ACKs make some answers wait one more round trip (a second
	// spike at twice the delay), never fewer.
	type spike struct {
		i, n int
		x    int64
	}
	var spikes []spike
	best := -1
	for _, x := range s {
		i, narrow := count(x-x/10-ms5, x+x/10+ms5)
		_, wide := count(x-x/2-ms20, x+x/2+ms20)
		if narrow < 3 || 10*narrow < 6*wide {
			continue
		}
		spikes = append(spikes, spike{i, narrow, s[i+narrow/2]})
		if best < 0 || narrow > spikes[best].n {
			best = len(spikes) - 1
		}
	}
	if best < 0 {
		return 0, n, false
	}
	for k, sp := range spikes {
		half := spikes[best].x / 2
		if 4*sp.n >= n && sp.x >= half-half*15/100 && sp.x <= half+half*15/100 {
			best = k
			break
		}
	}
	bestN, bestI := spikes[best].n, spikes[best].i
	// The answers are the rule, not a coincidence of scripted or habitual
	// pauses: the spike with its doubled echo holds ≥ 40 % of the samples.
	x2 := 2 * s[bestI+bestN/2]
	_, doubled := count(x2-x2/10-ms5, x2+x2/10+ms5)
	if 10*(bestN+doubled) < 4*n {
		return 0, n, false
	}
	return time.Duration(s[bestI+bestN/2]), n, true
}

// medianDelay is the median response to input sent by side input.
func medianDelay(f *flow.Flow, input int) (time.Duration, int) {
	s := f.Resp[input].All()
	n := len(s)
	if n == 0 {
		return 0, 0
	}
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
