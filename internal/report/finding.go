// Package report defines the Finding, the one schema every farmwatch producer
// (scan, pcap analysis, the running agent) emits, and renders findings as JSON
// Lines or as an aligned table for people.
package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Severity orders how urgently a finding needs a person.
type Severity int

// Severities, least to most severe.
const (
	SeverityInfo Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

// String returns the lowercase name used in JSON and config.
func (s Severity) String() string {
	if s < SeverityInfo || s > SeverityCritical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity parses "info", "low", "medium", "high" or "critical".
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want one of %s)", s, strings.Join(severityNames[:], ", "))
}

// MarshalJSON writes the severity as its name.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a severity name.
func (s *Severity) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return fmt.Errorf("severity must be a string: %w", err)
	}
	v, err := ParseSeverity(name)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Category is the kind of thing a finding is about.
type Category string

// Categories of findings.
const (
	CategoryRemoteAccess         Category = "remote-access"
	CategoryRemoteAccessHardware Category = "remote-access-hardware"
	CategoryVPN                  Category = "vpn"
	CategoryTunnel               Category = "tunnel"
	CategoryProxy                Category = "proxy"
	CategoryRelay                Category = "relay"
	CategoryLANDevice            Category = "lan-device"
	CategoryContext              Category = "context"
	CategoryAgent                Category = "agent"
)

// Categories lists every valid category.
var Categories = []Category{
	CategoryRemoteAccess, CategoryRemoteAccessHardware, CategoryVPN, CategoryTunnel,
	CategoryProxy, CategoryRelay, CategoryLANDevice, CategoryContext, CategoryAgent,
}

// Valid reports whether c is one of Categories.
func (c Category) Valid() bool {
	for _, k := range Categories {
		if c == k {
			return true
		}
	}
	return false
}

// Host names the machine a finding is about.
type Host struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// Finding is one detection result. See docs/findings.md.
type Finding struct {
	ID         string         `json:"id"`
	Time       time.Time      `json:"time"`
	Host       Host           `json:"host"`
	Detector   string         `json:"detector"`
	Rule       string         `json:"rule"`
	Category   Category       `json:"category"`
	Tool       string         `json:"tool"`
	Severity   Severity       `json:"severity"`
	Confidence float64        `json:"confidence"`
	Allowed    bool           `json:"allowed"`
	Summary    string         `json:"summary"`
	Evidence   map[string]any `json:"evidence"`
	// Count and LastSeen are maintained by de-duplication in the report
	// pipeline; a fresh finding has Count 1.
	Count    int        `json:"count,omitempty"`
	LastSeen *time.Time `json:"last_seen,omitempty"`
	// Update marks a re-report of a finding already sent (same id) that is
	// still present: Count is the sightings since the previous report.
	// Ended (with Update) says it is no longer seen; LastSeen is when it
	// was last observed.
	Update bool `json:"update,omitempty"`
	Ended  bool `json:"ended,omitempty"`
	// Source is where the finding came from when it was not observed live
	// on the host (an offline capture analysis attached to the host).
	Source *FindingSource `json:"source,omitempty"`
}

// FindingSource names an offline input a finding was derived from.
type FindingSource struct {
	// Kind is "pcap" for a capture file analysed with `farmwatch-agent pcap`.
	Kind string `json:"kind"`
	// File is the capture's base name, SHA256 the hex digest of its bytes.
	File   string `json:"file,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// StableID derives a finding id from the parts that identify the same
// condition across scans: host id, rule, tool and a detector-chosen subject
// (an executable path, a service name, a flow key). Time is never part of it.
func StableID(hostID, rule, tool, subject string) string {
	h := sha256.New()
	for _, p := range []string{hostID, rule, tool, subject} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Validate checks that a finding satisfies the schema's invariants.
func (f *Finding) Validate() error {
	switch {
	case f.ID == "":
		return fmt.Errorf("finding %q: empty id", f.Rule)
	case f.Rule == "" || strings.ContainsAny(f.Rule, " \t") || !strings.Contains(f.Rule, "."):
		return fmt.Errorf("finding %s: rule %q is not a dotted id", f.ID, f.Rule)
	case !f.Category.Valid():
		return fmt.Errorf("finding %s: invalid category %q", f.ID, f.Category)
	case f.Severity < SeverityInfo || f.Severity > SeverityCritical:
		return fmt.Errorf("finding %s: invalid severity %d", f.ID, f.Severity)
	case f.Confidence < 0 || f.Confidence > 1:
		return fmt.Errorf("finding %s: confidence %v outside 0..1", f.ID, f.Confidence)
	case f.Tool != strings.ToLower(f.Tool):
		return fmt.Errorf("finding %s: tool %q is not lowercase", f.ID, f.Tool)
	case f.Summary == "":
		return fmt.Errorf("finding %s: empty summary", f.ID)
	case f.Detector == "":
		return fmt.Errorf("finding %s: empty detector", f.ID)
	}
	return nil
}

// Sort orders findings most severe first, then by rule, tool and id, so
// output is deterministic.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		if a.Tool != b.Tool {
			return a.Tool < b.Tool
		}
		return a.ID < b.ID
	})
}

// MaxSeverity returns the highest severity among findings that are not
// allowlisted, and false when there is none.
func MaxSeverity(fs []Finding) (Severity, bool) {
	max, any := SeverityInfo, false
	for _, f := range fs {
		if f.Allowed {
			continue
		}
		if !any || f.Severity > max {
			max, any = f.Severity, true
		}
	}
	return max, any
}
