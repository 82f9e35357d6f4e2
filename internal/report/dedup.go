package report

import (
	"sync"
	"time"
)

// Deduper suppresses repeats of the same finding id inside a window: the
// first sighting is emitted, later ones inside the window are counted, and
// the next sighting after the window is emitted again with Count = the
// sightings since the previous emission (so a receiver that adds counts, as
// the collector does, gets the true total) and LastSeen.
type Deduper struct {
	Window time.Duration
	Now    func() time.Time

	mu   sync.Mutex
	seen map[string]*dedupEntry
}

type dedupEntry struct {
	emitted time.Time
	count   int
	last    time.Time
}

// NewDeduper returns a deduper with the given window (default 1 h).
func NewDeduper(window time.Duration) *Deduper {
	if window <= 0 {
		window = time.Hour
	}
	return &Deduper{Window: window, Now: time.Now, seen: map[string]*dedupEntry{}}
}

// Filter returns the findings to emit now, with Count and LastSeen set.
func (d *Deduper) Filter(fs []Finding) []Finding {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.Now()
	var out []Finding
	for _, f := range fs {
		e, ok := d.seen[f.ID]
		if !ok {
			d.seen[f.ID] = &dedupEntry{emitted: now, count: 0, last: now}
			f.Count = 1
			out = append(out, f)
			continue
		}
		e.count++
		e.last = now
		if now.Sub(e.emitted) >= d.Window {
			e.emitted = now
			f.Count = e.count
			e.count = 0
			last := now
			f.LastSeen = &last
			out = append(out, f)
		}
	}
	// Forget ids not seen for two windows so memory stays bounded.
	if len(d.seen) > 4096 {
		for id, e := range d.seen {
			if now.Sub(e.last) > 2*d.Window {
				delete(d.seen, id)
			}
		}
	}
	return out
}
