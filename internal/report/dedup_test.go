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
