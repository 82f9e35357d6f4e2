package network

import (
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/report"
)

// Bypass is a kernel path that stops a flow's packets from reaching the
// engine one by one and counts them instead (package live: an eBPF socket
// filter and a hash map). The engine decides which flows it has seen
// enough of (SeenEnough) and credits the counts back to the flow
// (flow.Table.Credit), so bytes, packets, payload sizes and duration stay
// exact.
//
// What a bypass must still let through, so every analysis keeps working:
// TCP packets with SYN, FIN or RST (the flow closes on time); in a
// counting direction (a TCP flow's bulk side, both sides of a UDP flow)
// the first payload after a pause of flow.BurstGap or more (bursts,
// OFF→ON onsets and triggered updates stay exact); on the other side of
// a TCP flow, every packet with payload (input pacing, response and
// application round trips stay exact); only the counting directions'
// back-to-back payload and the TCP other side's bare ACKs are counted in
// the kernel. For the payloads it counts, the kernel also keeps what the
// behaviour analyses read: their inter-arrival times in the engine's
// log2 buckets (input pacing and cadence: driveRoles), the largest, and
// how many had each of the direction's two most frequent sizes (the
// encapsulation shape); and, as it lets a packet through, the other
// direction's last payload time, so a burst's trigger is judged as of
// that packet however far the kernel has counted beyond it.
type Bypass interface {
	// Start begins bypassing f, bulk being the direction that streams.
	// It returns false when it could not (map full, no kernel program).
	Start(f *flow.Flow, bulk int) bool
	// Collect returns the counts of f's bypassed packets per direction
	// since Start (cumulative); ok is false when there are none to read.
	Collect(f *flow.Flow) (c [2]flow.Counts, ok bool)
	// Stop ends the bypass of f.
	Stop(f *flow.Flow)
}

// Bypass thresholds: a flow is bulk once one side sent BypassAfter
// payload packets; over TCP the other side may have sent at most
// BypassMaxOther (a request, a TLS handshake), and a bypassed TCP flow
// whose other side sends more than BypassUndo payloads (it turned
// interactive) is handed back. Over UDP every payload is a datagram of
// its own (a QUIC or tunnel download's ACKs too), so both sides are
// counted alike; the bulk side's two most frequent sizes must cover
// BypassMinSizeShare of its payloads (the sizes a tunnel's shape is read
// from), and a bypassed UDP flow whose counted payloads stop having them
// (the shape changed) is handed back so the engine learns the new ones.
// DNS ports are never bypassed: the engine reads every DNS message.
const (
	BypassAfter        = 512
	BypassMaxOther     = 16
	BypassUndo         = 64
	BypassMinSizeShare = 0.5
)

// seenEnough reports whether f may be bypassed and which side streams:
// its parsers decided (inspected), it is a bulk TCP transfer one way or a
// UDP flow of mostly one or two sizes one way, and no classifier has
// anything to say about it now. What stays undecided on such a flow is
// only what its counters decide later (ratios, durations, volumes, the
// sizes and pacing the bypass keeps counting, bursts it lets through).
func (e *Engine) seenEnough(f *flow.Flow) (int, bool) {
	if f.Bypassed || f.Closed || (f.Proto != decode.ProtoTCP && f.Proto != decode.ProtoUDP) {
		return 0, false
	}
	bulk := flow.S2C
	if f.Dir[flow.C2S].PayloadPackets > f.Dir[flow.S2C].PayloadPackets {
		bulk = flow.C2S
	}
	if f.Dir[bulk].PayloadPackets < BypassAfter {
		return 0, false
	}
	if f.Proto == decode.ProtoUDP {
		if dnsPort(f.Client.Port) || dnsPort(f.Server.Port) {
			return 0, false
		}
		if _, share := f.Dir[bulk].TopSizes(); share < BypassMinSizeShare {
			return 0, false
		}
	} else if f.Dir[1-bulk].PayloadPackets > BypassMaxOther {
		return 0, false
	}
	if !f.Inspected {
		// The other side's few payloads are all it sent (a request, a
		// handshake): parse now what both sides kept.
		if !f.Dir[bulk].Full(flow.ServerBytes) {
			return 0, false
		}
		e.inspect(f)
	}
	m, _ := f.Meta.(*Meta)
	if m == nil {
		return 0, false
	}
	if e.bypassScratch == nil {
		e.bypassScratch = make(map[string]*report.Finding)
	}
	clear(e.bypassScratch)
	e.noOwner = true
	e.classify(f, m, e.bypassScratch)
	e.noOwner = false
	return bulk, len(e.bypassScratch) == 0
}

// Bypass hands the flows the engine has seen enough of to the configured
// Bypass, credits what it counted for the flows already bypassed, and
// takes back those that turned interactive. A live capture calls it every
// second and when BypassDue; without Config.Bypass it does nothing.
func (e *Engine) Bypass() {
	b := e.cfg.Bypass
	if b == nil {
		return
	}
	e.bypassDue = false
	e.bypassList = e.bypassList[:0]
	e.table.Each(func(f *flow.Flow) { e.bypassList = append(e.bypassList, f) })
	for _, f := range e.bypassList {
		if f.Bypassed {
			e.collect(f, 0, -1)
			if e.bypassOver(f) {
				e.unbypass(f)
			}
			continue
		}
		if bulk, ok := e.seenEnough(f); ok && b.Start(f, bulk) {
			f.Bypassed = true
			f.Kern = [2]flow.Counts{}
			e.stats.Bypassed++
		}
	}
	clear(e.bypassList)
}

// BypassDue reports whether a flow may have become bulk since the last
// Bypass (it crossed a multiple of BypassAfter payload packets): the live
// loop then calls Bypass at once instead of waiting for its next second.
func (e *Engine) BypassDue() bool { return e.bypassDue }

// bypassOver reports whether a bypassed flow must come back to the
// engine: a TCP flow whose other side turned interactive, a UDP flow
// whose bulk side's counted payloads mostly stopped having the sizes the
// bypass counts.
func (e *Engine) bypassOver(f *flow.Flow) bool {
	if f.Proto == decode.ProtoTCP {
		return min(f.Dir[0].PayloadPackets, f.Dir[1].PayloadPackets) > BypassUndo
	}
	k := &f.Kern[flow.S2C]
	if f.Kern[flow.C2S].PayloadPackets > k.PayloadPackets {
		k = &f.Kern[flow.C2S]
	}
	if k.PayloadPackets < BypassAfter {
		return false
	}
	var sized uint64
	for _, n := range k.SizeN {
		sized += n
	}
	return float64(sized) < BypassMinSizeShare*float64(k.PayloadPackets)
}

// collect credits f's bypassed packets. at is the time of a packet of f
// in direction dir being accounted now (0, -1: none): see
// flow.Table.Credit; the other direction's last payload is taken as the
// kernel saw it when it let that packet through.
func (e *Engine) collect(f *flow.Flow, at int64, dir int) {
	c, ok := e.cfg.Bypass.Collect(f)
	if !ok {
		return
	}
	var peer int64
	if at != 0 && dir >= 0 {
		if p := c[dir].PassAt; p != 0 && p-at <= int64(passSlack) && at-p <= int64(passSlack) {
			peer = c[dir].PeerAtPass
		}
	}
	for d := range c {
		pd := int64(0)
		if d != dir {
			pd = peer
		}
		e.table.Credit(f, d, c[d], at, pd)
	}
}

// passSlack: a bypass's note of when it let a packet through (kernel
// monotonic clock, converted) and the packet's capture time (real-time
// clock) differ by this much at most; further apart, the note is of
// another packet.
const passSlack = 2 * time.Millisecond

// dnsPort: DNS and mDNS, whose every message the engine reads.
func dnsPort(p uint16) bool { return p == 53 || p == 5353 }

// unbypass collects f's last counts and ends its bypass.
func (e *Engine) unbypass(f *flow.Flow) {
	e.collect(f, 0, -1)
	e.cfg.Bypass.Stop(f)
	f.Bypassed = false
}
