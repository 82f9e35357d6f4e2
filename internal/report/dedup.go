package report

import (
	"slices"
	"sync"
	"time"
)

// EndAfterMissed is how many complete runs of its detector in a row a
// finding may be missing from (or, for a streaming detector, how many
// report intervals it may go unobserved) before it is reported as ended.
const EndAfterMissed = 3

// Deduper turns the findings each detector run produces into what is worth
// sending: the first sighting of a finding id is emitted; while it is still
// present, repeats inside Window are only counted and the next sighting after
// Window is emitted again as an update (Update set, same id, Count = the
// sightings since the previous emission, so a receiver that adds counts, as
// the collector does, gets the true total, and LastSeen). A finding that stops
// being seen is emitted once more with Ended set (see Sweep).
type Deduper struct {
	// Window is the re-report interval of a still-present finding
	// (report.report_every).
	Window time.Duration
	Now    func() time.Time

	mu   sync.Mutex
	seen map[string]*dedupEntry
}

type dedupEntry struct {
	emitted  time.Time // last emission
	count    int       // sightings since the last emission
	last     time.Time // last sighting (agent clock)
	observed time.Time // last time the condition was observed (the detector's LastSeen, else the sighting)
	missed   int       // complete runs of its detector without it
	ended    bool      // reported as ended; kept so the same stale finding is not re-sent
	f        Finding   // the latest sighting, the body of the ended report
}

// NewDeduper returns a deduper with the given re-report interval (default 1 h).
func NewDeduper(window time.Duration) *Deduper {
	if window <= 0 {
		window = time.Hour
	}
	return &Deduper{Window: window, Now: time.Now, seen: map[string]*dedupEntry{}}
}

// Filter returns the findings to emit now, with Count, LastSeen and Update set.
func (d *Deduper) Filter(fs []Finding) []Finding {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.Now()
	var out []Finding
	for _, f := range fs {
		observed := now
		if f.LastSeen != nil && !f.LastSeen.IsZero() && f.LastSeen.Before(now) {
			observed = *f.LastSeen
		}
		e, ok := d.seen[f.ID]
		if ok && e.ended {
			if !observed.After(e.observed) {
				e.last = now // the same stale condition: stays ended
				continue
			}
			ok = false // seen again after it ended: a new report
		}
		if !ok {
			d.seen[f.ID] = &dedupEntry{emitted: now, last: now, observed: observed, f: f}
			f.Count, f.Update, f.Ended = 1, false, false
			out = append(out, f)
			continue
		}
		e.count++
		e.last, e.missed, e.f = now, 0, f
		if observed.After(e.observed) {
			e.observed = observed
		}
		if now.Sub(e.emitted) >= d.Window {
			e.emitted = now
			f.Count, f.Update, f.Ended = e.count, true, false
			e.count = 0
			last := e.observed
			f.LastSeen = &last
			out = append(out, f)
		}
	}
	// Forget ids not seen for two windows so memory stays bounded.
	if len(d.seen) > 4096 {
		for id, e := range d.seen {
			if now.Sub(e.last) > 2*d.Window && (e.ended || now.Sub(e.last) > 24*time.Hour) {
				delete(d.seen, id)
			}
		}
	}
	return out
}

// Sweep returns the ended reports of detector's findings after one of its
// runs whose findings were present (their ids). complete says the run
// covered everything the detector looks at (a scheduled run without errors):
// then a finding missing from it EndAfterMissed times in a row has ended. For
// every run (a streaming detector's reports included), a finding whose
// condition was last observed EndAfterMissed × Window ago has ended too.
// Call it after Filter with the same run's findings.
func (d *Deduper) Sweep(detector string, present []string, complete bool) []Finding {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.Now()
	var out []Finding
	for _, e := range d.seen {
		if e.ended || e.f.Detector != detector {
			continue
		}
		in := slices.Contains(present, e.f.ID)
		if complete && !in {
			e.missed++
		}
		stale := now.Sub(e.observed) >= EndAfterMissed*d.Window
		if e.missed < EndAfterMissed && !stale {
			continue
		}
		e.ended = true
		f := e.f
		f.Count, f.Update, f.Ended = e.count, true, true
		last := e.observed
		f.LastSeen = &last
		e.count = 0
		out = append(out, f)
	}
	Sort(out)
	return out
}
