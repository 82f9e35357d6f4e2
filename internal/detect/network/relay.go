package network

import (
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/report"
)

// Stepping-stone detection after Zhang & Paxson ("Detecting Stepping
// Stones", USENIX Security 2000), parameters from NOTES.md: a flow is OFF
// after 0.5 s without data; OFF→ON transitions of two flows coincide when
// within 80 ms; a pair is a stepping stone when coincidences / min(idle
// periods) ≥ 0.3 with ≥ 2 consecutive coincidences (the flows share a
// host). Pairs are an inbound flow to host H and an outbound flow from H,
// overlapping in time.
const (
	ssWindow      = 80 * time.Millisecond
	ssMinRatio    = 0.3
	ssMinConsec   = 2
	ssMinOnsets   = 4
	maxRelayFlows = 4096
)

type relayRec struct {
	f      flowSummary
	onsets []int64
}

type flowSummary struct {
	client, server flow.Endpoint
	start, last    int64
	ev             map[string]any
}

type relayTracker struct{ recs []relayRec }

func newRelayTracker() *relayTracker { return &relayTracker{} }

func (r *relayTracker) add(f *flow.Flow) {
	if f.Proto != decode.ProtoTCP || len(r.recs) >= maxRelayFlows {
		return
	}
	on := mergeOnsets(f.Dir[0].Onsets, f.Dir[1].Onsets)
	if len(on) < ssMinOnsets {
		return
	}
	r.recs = append(r.recs, relayRec{
		f:      flowSummary{client: f.Client, server: f.Server, start: f.Start, last: f.Last, ev: flowEvidence(f)},
		onsets: on,
	})
}

// mergeOnsets unions two sorted onset lists, folding onsets within the
// coincidence window into one.
func mergeOnsets(a, b []int64) []int64 {
	all := make([]int64, 0, len(a)+len(b))
	all = append(all, a...)
	all = append(all, b...)
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	out := all[:0]
	for _, t := range all {
		if len(out) > 0 && t-out[len(out)-1] < int64(ssWindow) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// coincide counts onsets of a with an onset of b within the window, and
// the longest run of consecutive coinciding onsets of a.
func coincide(a, b []int64) (n, consec int) {
	j, run := 0, 0
	for _, t := range a {
		for j < len(b) && b[j] < t-int64(ssWindow) {
			j++
		}
		if j < len(b) && b[j] <= t+int64(ssWindow) {
			n++
			run++
			if run > consec {
				consec = run
			}
		} else {
			run = 0
		}
	}
	return
}

func (r *relayTracker) classify(e *Engine, dst map[string]*report.Finding) {
	// Flows are keyed by the relaying host's address. When the engine knows
	// this host's own addresses, all of them are one host: a relay may take
	// the session in on one network and out on another.
	hostKey := func(a netip.Addr) netip.Addr {
		if e.ownAddrs && e.local(a) {
			return netip.IPv4Unspecified()
		}
		return a
	}
	byServer := map[netip.Addr][]int{}
	for i, rec := range r.recs {
		k := hostKey(rec.f.server.Addr)
		byServer[k] = append(byServer[k], i)
	}
	for j, out := range r.recs {
		for _, i := range byServer[hostKey(out.f.client.Addr)] {
			in := r.recs[i]
			if i == j || in.f.client.Addr == out.f.server.Addr && in.f.client.Port == out.f.server.Port {
				continue
			}
			if in.f.last < out.f.start || out.f.last < in.f.start {
				continue
			}
			n, consec := coincide(in.onsets, out.onsets)
			minIdle := min(len(in.onsets), len(out.onsets))
			ratio := float64(n) / float64(minIdle)
			if ratio < ssMinRatio || consec < ssMinConsec {
				continue
			}
			host := out.f.client.Addr
			sev := report.SeverityMedium
			if e.local(host) {
				sev = report.SeverityHigh
			}
			ev := map[string]any{
				"relay_host":   host.String(),
				"inbound":      in.f.ev,
				"outbound":     out.f.ev,
				"coincidences": n,
				"consecutive":  consec,
				"ratio":        round3(ratio),
				"onsets_in":    len(in.onsets),
				"onsets_out":   len(out.onsets),
				"start":        time.Unix(0, max(in.f.start, out.f.start)).UTC().Format(time.RFC3339Nano),
			}
			res := result{Rule: "network.behavior.relay", Tool: "stepping-stone", Category: report.CategoryRelay,
				Severity: sev, Conf: 0.6,
				Matched: fmt.Sprintf("%d of %d OFF→ON transitions coincide within 80 ms (%d consecutive)", n, minIdle, consec),
				Summary: fmt.Sprintf("%s relays an interactive session: %s → %s is echoed by %s → %s (stepping stone).", host, in.f.client.Addr, in.f.server, out.f.client.Addr, out.f.server)}
			ev["matched"] = res.Matched
			subject := fmt.Sprintf("relay|%s|%s|%s", in.f.client.Addr, host, out.f.server)
			e.add(dst, subject, time.Unix(0, max(in.f.start, out.f.start)).UTC(), time.Unix(0, min(in.f.last, out.f.last)).UTC(), res, ev)
		}
	}
}
