package hostcontext

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"time"
)

// FileActivity is the activity histogram's state file (in the state dir,
// and copied into snapshots).
const FileActivity = "context-activity.json"

// Histogram counts active samples per UTC hour of day. At most one sample
// is counted per clock hour.
type Histogram struct {
	Hours    [24]int `json:"hours_utc"`
	LastSlot int64   `json:"last_slot"` // Unix hour of the last counted sample
	Samples  int     `json:"samples"`   // hours sampled, active or not
}

// Add records a sample at t; it reports whether the histogram changed.
func (h *Histogram) Add(t time.Time, active bool) bool {
	slot := t.Unix() / 3600
	if slot == h.LastSlot {
		return false
	}
	h.LastSlot = slot
	h.Samples++
	if active {
		h.Hours[t.UTC().Hour()]++
	}
	return true
}

// Total is the number of active samples.
func (h *Histogram) Total() int {
	n := 0
	for _, c := range h.Hours {
		n += c
	}
	return n
}

func loadHistogram(p string) (*Histogram, error) {
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseHistogram(b)
}

// maxHourCount caps a bucket (a century of daily samples) so sums cannot
// overflow.
const maxHourCount = 40000

// parseHistogram decodes a state file.
func parseHistogram(b []byte) (*Histogram, error) {
	var h Histogram
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("%s: %w", FileActivity, err)
	}
	for i, c := range h.Hours {
		if c < 0 {
			h.Hours[i] = 0
		} else if c > maxHourCount {
			h.Hours[i] = maxHourCount
		}
	}
	return &h, nil
}

func saveHistogram(p string, h *Histogram) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	b, _ := json.Marshal(h)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// ZoneScore is how well activity fits business hours at a UTC offset.
type ZoneScore struct {
	Offset  float64 `json:"offset"` // hours east of UTC
	Score   float64 `json:"score"`  // share of active samples in 09-18 local
	Example string  `json:"example"`
}

// HoursMatch is the outcome of matching activity against zones.
type HoursMatch struct {
	Best     ZoneScore
	Expected ZoneScore // best of the expected offsets
}

// businessScore is the share of active samples falling in 09:00-18:00 at
// the given whole-hour offset.
func businessScore(h *Histogram, offset int) float64 {
	total := h.Total()
	if total == 0 {
		return 0
	}
	in := 0
	for utc, c := range h.Hours {
		local := ((utc+offset)%24 + 24) % 24
		if local >= 9 && local < 18 {
			in += c
		}
	}
	return float64(in) / float64(total)
}

// ForeignHours matches activity against business hours in every offset
// from UTC-12 to UTC+14. It reports a match when there are enough samples,
// the best offset holds at least 70% of the activity, is at least 4 hours
// from every expected offset, and beats the expected offsets by 25 points.
// It is pure.
func ForeignHours(h *Histogram, expected []float64, minSamples int) (HoursMatch, bool) {
	var m HoursMatch
	if h == nil || len(expected) == 0 || h.Total() < minSamples || h.Total() == 0 {
		return m, false
	}
	m.Best.Score = -1
	for off := -12; off <= 14; off++ {
		sc := businessScore(h, off)
		// Prefer the offset closest to the middle of a tie: the first found
		// wins; ties are common, so prefer the one nearest expected +12h
		// only by scan order (deterministic).
		if sc > m.Best.Score+1e-9 {
			m.Best = ZoneScore{Offset: float64(off), Score: sc, Example: offsetExample(float64(off))}
		}
	}
	m.Expected.Score = -1
	for _, e := range expected {
		sc := businessScore(h, int(math.Round(e)))
		if sc > m.Expected.Score {
			m.Expected = ZoneScore{Offset: e, Score: sc, Example: offsetExample(e)}
		}
	}
	// Center the best window: among offsets with the best score, take the
	// middle one, so a tight 9-18 pattern names its true zone.
	var ties []int
	for off := -12; off <= 14; off++ {
		if math.Abs(businessScore(h, off)-m.Best.Score) < 1e-9 {
			ties = append(ties, off)
		}
	}
	if len(ties) > 0 {
		mid := float64(ties[len(ties)/2])
		m.Best = ZoneScore{Offset: mid, Score: m.Best.Score, Example: offsetExample(mid)}
	}
	if m.Best.Score < 0.7 || m.Best.Score-m.Expected.Score < 0.25 {
		return m, false
	}
	for _, e := range expected {
		if offsetDistance(e, m.Best.Offset) < 4 {
			return m, false
		}
	}
	return m, true
}

func offsetDistance(a, b float64) float64 {
	d := math.Abs(a - b)
	if d > 12 {
		d = 24 - d
	}
	return d
}

func fmtOffset(o float64) string {
	if o == math.Trunc(o) {
		return fmt.Sprintf("%+d", int(o))
	}
	return fmt.Sprintf("%+g", o)
}

// knownZones are IANA zones with their standard UTC offsets, used to turn
// expected time-zone patterns into offsets and to name offsets.
var knownZones = []struct {
	name   string
	offset float64
	dst    bool
}{
	{"Pacific/Honolulu", -10, false}, {"America/Anchorage", -9, true}, {"America/Los_Angeles", -8, true},
	{"America/Vancouver", -8, true}, {"America/Denver", -7, true}, {"America/Phoenix", -7, false},
	{"America/Chicago", -6, true}, {"America/Mexico_City", -6, false}, {"America/New_York", -5, true},
	{"America/Toronto", -5, true}, {"America/Bogota", -5, false}, {"America/Halifax", -4, true},
	{"America/Sao_Paulo", -3, false}, {"America/Argentina/Buenos_Aires", -3, false},
	{"Atlantic/Azores", -1, true}, {"Etc/UTC", 0, false}, {"UTC", 0, false}, {"Europe/London", 0, true}, {"Europe/Dublin", 0, true},
	{"Europe/Lisbon", 0, true}, {"Europe/Berlin", 1, true}, {"Europe/Paris", 1, true}, {"Europe/Madrid", 1, true},
	{"Europe/Rome", 1, true}, {"Europe/Amsterdam", 1, true}, {"Europe/Warsaw", 1, true}, {"Europe/Kyiv", 2, true},
	{"Europe/Kiev", 2, true}, {"Europe/Helsinki", 2, true}, {"Africa/Cairo", 2, false}, {"Europe/Moscow", 3, false},
	{"Europe/Istanbul", 3, false}, {"Asia/Dubai", 4, false}, {"Asia/Tehran", 3.5, false}, {"Asia/Karachi", 5, false},
	{"Asia/Kolkata", 5.5, false}, {"Asia/Dhaka", 6, false}, {"Asia/Bangkok", 7, false}, {"Asia/Ho_Chi_Minh", 7, false},
	{"Asia/Jakarta", 7, false}, {"Asia/Shanghai", 8, false}, {"Asia/Hong_Kong", 8, false}, {"Asia/Taipei", 8, false},
	{"Asia/Singapore", 8, false}, {"Asia/Manila", 8, false}, {"Asia/Seoul", 9, false}, {"Asia/Pyongyang", 9, false},
	{"Asia/Tokyo", 9, false}, {"Asia/Vladivostok", 10, false}, {"Australia/Sydney", 10, true}, {"Pacific/Auckland", 12, true},
}

// offsetExample names zones at an offset.
func offsetExample(o float64) string {
	var names []string
	for _, z := range knownZones {
		if z.offset == o && len(names) < 3 && z.name != "UTC" {
			names = append(names, z.name)
		}
	}
	if len(names) == 0 {
		return "UTC" + fmtOffset(o)
	}
	s := names[0]
	for _, n := range names[1:] {
		s += ", " + n
	}
	return s
}

// expectedOffsets turns the expected region's time-zone patterns into UTC
// offsets (standard and, where observed, daylight time).
func expectedOffsets(r Region) []float64 {
	seen := map[float64]bool{}
	var out []float64
	addOff := func(o float64) {
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	for _, p := range r.TimeZones {
		for _, z := range knownZones {
			if ok, _ := path.Match(p, z.name); ok {
				addOff(z.offset)
				if z.dst {
					addOff(z.offset + 1)
				}
			}
		}
	}
	return out
}
