package report

import (
	"testing"
	"time"
)

func TestDeduperWindow(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	d := NewDeduper(time.Hour)
	d.Now = func() time.Time { return now }
	f := sample("a.b", SeverityHigh)
	if got := d.Filter([]Finding{f}); len(got) != 1 || got[0].Count != 1 {
		t.Fatalf("first sighting: %+v", got)
	}
	for i := 0; i < 5; i++ {
		now = now.Add(10 * time.Minute)
		if got := d.Filter([]Finding{f}); len(got) != 0 {
			t.Fatalf("repeat inside window emitted: %+v", got)
		}
	}
	now = now.Add(15 * time.Minute)
	got := d.Filter([]Finding{f})
	// 5 suppressed sightings plus this one since the first emission.
	if len(got) != 1 || got[0].Count != 6 || got[0].LastSeen == nil || !got[0].LastSeen.Equal(now) {
		t.Fatalf("after window: %+v", got)
	}
	other := sample("a.c", SeverityLow)
	if got := d.Filter([]Finding{other}); len(got) != 1 {
		t.Fatal("a different id was suppressed")
	}
}

// A still-present finding is re-sent as an update each window; one missing
// from EndAfterMissed complete runs of its detector is sent once as ended and
// stays ended until it is observed again.
func TestDeduperUpdatesAndEnds(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	d := NewDeduper(time.Minute)
	d.Now = func() time.Time { return now }
	f := sample("a.b", SeverityHigh)
	f.Detector = "hardware"
	other := sample("a.c", SeverityLow)
	other.Detector = "hardware"
	run := func(complete bool, fs ...Finding) []Finding {
		out := d.Filter(fs)
		var ids []string
		for _, f := range fs {
			ids = append(ids, f.ID)
		}
		return append(out, d.Sweep("hardware", ids, complete)...)
	}
	if got := run(true, f, other); len(got) != 2 || got[0].Update || got[1].Update {
		t.Fatalf("first run: %+v", got)
	}
	now = now.Add(30 * time.Second)
	if got := run(true, f, other); len(got) != 0 {
		t.Fatalf("inside the window: %+v", got)
	}
	now = now.Add(40 * time.Second)
	got := run(true, f) // other missing once
	if len(got) != 1 || !got[0].Update || got[0].Ended || got[0].Count != 2 || !got[0].LastSeen.Equal(now) {
		t.Fatalf("update after the window: %+v", got)
	}
	// A failed (incomplete) run does not count as missing.
	now = now.Add(time.Second)
	if got := run(false, f); len(got) != 0 {
		t.Fatalf("incomplete run: %+v", got)
	}
	now = now.Add(time.Second)
	run(true, f)
	seenAt := now
	now = now.Add(time.Second)
	got = run(true, f)
	if len(got) != 1 || got[0].ID != other.ID || !got[0].Ended || !got[0].Update || !got[0].LastSeen.Before(seenAt) {
		t.Fatalf("ended after %d missed runs: %+v", EndAfterMissed, got)
	}
	now = now.Add(time.Second)
	if got := run(true, f); len(got) != 0 {
		t.Fatalf("ended twice: %+v", got)
	}
	// Seen again: a new report, not an update.
	now = now.Add(time.Second)
	if got := run(true, f, other); len(got) != 1 || got[0].ID != other.ID || got[0].Update || got[0].Count != 1 {
		t.Fatalf("seen again: %+v", got)
	}
}

// A streaming detector's finding whose detector-supplied LastSeen stops
// advancing ends after EndAfterMissed windows, and the same stale finding
// repeated in later snapshots is not re-sent.
func TestDeduperStaleStreamEnds(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	d := NewDeduper(time.Minute)
	d.Now = func() time.Time { return now }
	f := sample("net.vnc", SeverityHigh)
	f.Detector = "traffic"
	obs := now
	f.LastSeen = &obs
	snap := func() []Finding {
		out := d.Filter([]Finding{f})
		return append(out, d.Sweep("traffic", []string{f.ID}, false)...)
	}
	if got := snap(); len(got) != 1 {
		t.Fatalf("first: %+v", got)
	}
	now = now.Add(time.Minute)
	if got := snap(); len(got) != 1 || !got[0].Update || got[0].Ended || !got[0].LastSeen.Equal(obs) {
		t.Fatalf("update keeps the observed time: %+v", got)
	}
	now = now.Add(2 * time.Minute)
	if got := snap(); len(got) != 2 || !got[1].Ended {
		t.Fatalf("stale for %d windows: %+v", EndAfterMissed, got)
	}
	now = now.Add(time.Minute)
	if got := snap(); len(got) != 0 {
		t.Fatalf("stale finding re-sent: %+v", got)
	}
}
