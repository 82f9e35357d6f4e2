package network

import (
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
// TCP packets with SYN, FIN or RST (the flow closes on time); on the
// bulk side, the first payload after a pause of flow.BurstGap or more
// (bursts, OFF→ON onsets and triggered updates stay exact); on the other
// side, every packet with payload (input pacing, response and application
// round trips stay exact); only the bulk side's back-to-back payload and
// the other side's bare ACKs are counted in the kernel.
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

// Bypass thresholds: a TCP flow is bulk once one side sent BypassAfter
// payload packets while the other sent at most BypassMaxOther (a request,
// a TLS handshake). A bypassed flow whose other side sends more than
// BypassUndo payloads (it turned interactive) is handed back.
const (
	BypassAfter    = 512
	BypassMaxOther = 16
	BypassUndo     = 64
)

// seenEnough reports whether f may be bypassed and which side streams:
// its parsers decided (inspected), it is a bulk one-way TCP transfer, and
// no classifier has anything to say about it now. What stays undecided on
// such a flow is only what its counters decide at the end (ratios,
// durations, volumes), which the bypass keeps exact.
func (e *Engine) seenEnough(f *flow.Flow) (int, bool) {
	if f.Bypassed || f.Closed || f.Proto != decode.ProtoTCP {
		return 0, false
	}
	bulk := flow.S2C
	if f.Dir[flow.C2S].PayloadPackets > f.Dir[flow.S2C].PayloadPackets {
		bulk = flow.C2S
	}
	if f.Dir[bulk].PayloadPackets < BypassAfter || f.Dir[1-bulk].PayloadPackets > BypassMaxOther {
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
			e.collect(f, 0)
			if min(f.Dir[0].PayloadPackets, f.Dir[1].PayloadPackets) > BypassUndo {
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

// collect credits f's bypassed packets (at: see flow.Table.Credit).
func (e *Engine) collect(f *flow.Flow, at int64) {
	c, ok := e.cfg.Bypass.Collect(f)
	if !ok {
		return
	}
	for d := range c {
		e.table.Credit(f, d, c[d], at)
	}
}

// unbypass collects f's last counts and ends its bypass.
func (e *Engine) unbypass(f *flow.Flow) {
	e.collect(f, 0)
	e.cfg.Bypass.Stop(f)
	f.Bypassed = false
}
