package network

import (
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/report"
)

// Who is being driven, from the packets alone (see driveRoles).
const (
	// minDriveDuration: shorter flows are not sessions anybody drove.
	minDriveDuration = 20 * time.Second
	// minInputPackets: payload packets the input side needs.
	minInputPackets = 20
	// minInputSmallFrac: the share of those that are small (≤ flow.SmallPayload).
	minInputSmallFrac = 0.7
	// minInputIATms: median gap between input messages (human pace, not a
	// bulk transfer's back-to-back segments) — or, where a VPN or tunnel
	// carries the inner TCP's ACKs as payload (ACK-clocked, a few ms
	// apart), at least minInputBursts pauses of flow.BurstGap: people
	// stop, an ACK clock of a steady transfer does not.
	minInputIATms  = 20
	minInputBursts = 20
	// maxInputModalFrac: the largest share of input gaps in one log2
	// bucket. A machine's cadence (audio frames every 20 ms, keepalives
	// every N s, polls) piles into one bucket; a person's keys, pointer
	// moves and pauses spill into others (a steady typist still puts up to
	// 96 % of gaps between 128 and 255 ms: recorded ssh -R sessions).
	maxInputModalFrac = 0.985
	// Screen side: at least minScreenBytes of payload, minScreenRatio
	// times the input side's, with MTU-scale segments (≥ minScreenMax). A
	// terminal in a VNC session sends little more than its input (text
	// updates are small): the ratio is low on purpose and the causality
	// below decides.
	minScreenBytes = 2 << 10
	minScreenRatio = 1.5
	minScreenMax   = 500
	// minScreenBursts screen bursts (flow.BurstGap) are needed, of which at
	// least minTriggeredFrac followed input sent during the gap (flow.Dir.
	// Triggered): updates that answer input. Sustained control needs
	// minSustained such answered bursts.
	minScreenBursts  = 5
	minTriggeredFrac = 0.5
	minSustained     = 20
)

// drive is the outcome of driveRoles for one flow.
type drive struct {
	screen, input int // flow directions (flow.C2S/S2C) of each side
	sustained     bool
}

// driveRoles works out, for a long flow whichever side opened it, which
// side streams bulky, bursty, screen-like data and which side sends small
// input at human pace, with the screen's bursts following that input: the
// side streaming its screen is being driven from the other. It needs:
//   - input side: ≥ minInputPackets payload packets, ≥ minInputSmallFrac of
//     them small, median gap ≥ minInputIATms (or ≥ minInputBursts pauses,
//     for tunnels carrying inner ACKs), no single cadence
//     (≤ maxInputModalFrac of gaps in one log2 bucket);
//   - screen side: ≥ minScreenBytes and ≥ minScreenRatio× the input's
//     bytes, segments up to ≥ minScreenMax bytes, ≥ minScreenBursts bursts
//     of which ≥ minTriggeredFrac were triggered by input — and no smaller a
//     share than of the input side's bursts that followed the screen's
//     (the side that answers is the screen; in a request/response
//     exchange both answer).
//
// Benign look-alikes fail on purpose: an upload or git push streams
// without bursts (its peer's window updates are not human-paced and
// trigger nothing); a video call's inbound media is bulky and at a fixed
// cadence; streaming and downloads put this host on the requesting
// (input) side; a terminal with echo puts the typist on the input side.
func driveRoles(f *flow.Flow) (drive, bool) {
	if f.Duration() < minDriveDuration {
		return drive{}, false
	}
	best, found := drive{}, false
	var bestBytes uint64
	for s := 0; s < 2; s++ {
		i := 1 - s
		sd, id := &f.Dir[s], &f.Dir[i]
		if !humanInput(id) || !screenLike(sd, id) {
			continue
		}
		if sd.Bursts < minScreenBursts || triggeredFrac(sd) < minTriggeredFrac || triggeredFrac(sd) < triggeredFrac(id) {
			continue
		}
		if !found || sd.PayloadBytes > bestBytes {
			best, found, bestBytes = drive{screen: s, input: i, sustained: sd.Triggered >= minSustained}, true, sd.PayloadBytes
		}
	}
	return best, found
}

// triggeredFrac is the share of d's bursts that followed the other side's
// payload (flow.Dir.Triggered).
func triggeredFrac(d *flow.Dir) float64 {
	if d.Bursts == 0 {
		return 0
	}
	return float64(d.Triggered) / float64(d.Bursts)
}

// humanInput: many small messages at human pace, at no fixed cadence.
func humanInput(d *flow.Dir) bool {
	return d.PayloadPackets >= minInputPackets && d.SmallFrac() >= minInputSmallFrac &&
		(d.MedianIATms() >= minInputIATms || d.Bursts >= minInputBursts) && modalIATFrac(d) <= maxInputModalFrac
}

// screenLike: the bulk of the bytes, in segments of real size.
func screenLike(s, in *flow.Dir) bool {
	return s.PayloadBytes >= minScreenBytes && float64(s.PayloadBytes) >= minScreenRatio*float64(in.PayloadBytes) &&
		s.MaxPayload >= minScreenMax
}

// modalIATFrac is the largest share of payload gaps in one log2 bucket.
func modalIATFrac(d *flow.Dir) float64 {
	if d.IATCount == 0 {
		return 1
	}
	var top uint32
	for _, c := range d.IATHist {
		top = max(top, c)
	}
	return float64(top) / float64(d.IATCount)
}

// driveEvidence describes the two sides of a driven flow.
func driveEvidence(f *flow.Flow, d drive, ex map[string]any) {
	sd, id := &f.Dir[d.screen], &f.Dir[d.input]
	ex[report.EvControlled] = endpoint(f, d.screen).String()
	ex[report.EvControllerSide] = endpoint(f, d.input).String()
	ex["screen_payload_bytes"] = sd.PayloadBytes
	ex["input_payload_bytes"] = id.PayloadBytes
	ex["input_payload_packets"] = id.PayloadPackets
	ex["input_small_frac"] = round3(id.SmallFrac())
	ex["input_median_iat_ms"] = round3(id.MedianIATms())
	ex["screen_bursts"] = sd.Bursts
	ex["screen_bursts_after_input"] = sd.Triggered
	if d.screen == flow.C2S {
		ex["controlled_opened_connection"] = true
	}
}

// endpoint returns the flow's endpoint on side dir (the sender of dir).
func endpoint(f *flow.Flow, dir int) flow.Endpoint {
	if dir == flow.C2S {
		return f.Client
	}
	return f.Server
}
