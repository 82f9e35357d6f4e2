// Package risk computes an explainable risk score for one host from its open
// findings: each finding contributes its category weight scaled by severity
// and confidence (the strongest finding of a category fully, further ones a
// little), and combinations that together describe a laptop farm — remote-
// access hardware, a remote-control session and a VPN or relay — add a bonus
// far above what each signal is worth alone. Fleet signals add to that: a
// host that shares infrastructure (a KVM, a remote peer, a network) with a
// high- or critical-risk host, and a host gone silent. The Explanation lists
// every contribution so an analyst can see why a host scores what it does.
package risk

import (
	"fmt"
	"math"
	"sort"

	"github.com/farmwatch/farmwatch/internal/report"
)

// Max is the highest score.
const Max = 100

// CategoryWeights are the points a high-severity, fully confident finding of
// each category contributes on its own.
var CategoryWeights = map[report.Category]float64{
	report.CategoryRemoteAccessHardware: 25,
	report.CategoryRemoteAccess:         20,
	report.CategoryRelay:                15,
	report.CategoryTunnel:               12,
	report.CategoryVPN:                  10,
	report.CategoryProxy:                8,
	report.CategoryLANDevice:            8,
	report.CategoryContext:              2,
	report.CategoryAgent:                0,
}

var severityFactor = map[report.Severity]float64{
	report.SeverityInfo:     0.1,
	report.SeverityLow:      0.4,
	report.SeverityMedium:   0.7,
	report.SeverityHigh:     1.0,
	report.SeverityCritical: 1.3,
}

// further is the share of its full weight a finding gets when a stronger one
// of the same category already counted.
const further = 0.2

// Combination is a set of categories whose joint presence adds Bonus points.
type Combination struct {
	Name       string
	Categories [][]report.Category // each inner slice: any one of these
	Bonus      float64
}

// Combinations, strongest first; only the strongest matching one counts.
var Combinations = []Combination{
	{
		Name: "remote-access hardware + remote-control session + VPN/relay/tunnel",
		Categories: [][]report.Category{
			{report.CategoryRemoteAccessHardware},
			{report.CategoryRemoteAccess},
			{report.CategoryVPN, report.CategoryRelay, report.CategoryTunnel, report.CategoryProxy},
		},
		Bonus: 45,
	},
	{
		Name:       "remote-access hardware + remote-control session",
		Categories: [][]report.Category{{report.CategoryRemoteAccessHardware}, {report.CategoryRemoteAccess}},
		Bonus:      20,
	},
	{
		Name: "remote-control session + VPN/relay/tunnel",
		Categories: [][]report.Category{
			{report.CategoryRemoteAccess},
			{report.CategoryVPN, report.CategoryRelay, report.CategoryTunnel, report.CategoryProxy},
		},
		Bonus: 12,
	},
	{
		Name: "remote-access hardware + VPN/relay/tunnel",
		Categories: [][]report.Category{
			{report.CategoryRemoteAccessHardware},
			{report.CategoryVPN, report.CategoryRelay, report.CategoryTunnel, report.CategoryProxy},
		},
		Bonus: 12,
	},
}

// Contribution is one line of the explanation.
type Contribution struct {
	// Kind is "fleet" or "silence" for a fleet signal, "inventory" for the
	// MDM inventory's expected region (region.go), "" for a finding
	// or a combination.
	Kind      string `json:"kind,omitempty"`
	FindingID string `json:"finding_id,omitempty"`
	// Host is the other host of a fleet signal.
	Host     string          `json:"host,omitempty"`
	Rule     string          `json:"rule,omitempty"`
	Category report.Category `json:"category,omitempty"`
	Points   float64         `json:"points"`
	Reason   string          `json:"reason"`
}

// Result is a host's score with its explanation.
type Result struct {
	Score int `json:"score"`
	// Base is the score from the host's own findings alone (what fleet
	// signals of other hosts weigh, so hosts do not inflate each other).
	Base          int            `json:"base"`
	Level         string         `json:"level"`
	Contributions []Contribution `json:"contributions"`
}

// Level names a score band: none, low, medium, high, critical.
func Level(score int) string {
	switch {
	case score >= 80:
		return "critical"
	case score >= 50:
		return "high"
	case score >= 25:
		return "medium"
	case score > 0:
		return "low"
	}
	return "none"
}

// Score rates the given open findings. Allowlisted findings contribute
// nothing. The result is deterministic for the same set of findings.
func Score(open []report.Finding) Result {
	fs := make([]report.Finding, 0, len(open))
	for _, f := range open {
		if !f.Allowed {
			fs = append(fs, f)
		}
	}
	sort.SliceStable(fs, func(i, j int) bool {
		pi, pj := base(fs[i]), base(fs[j])
		if pi != pj {
			return pi > pj
		}
		return fs[i].ID < fs[j].ID
	})
	var res Result
	present := map[report.Category]bool{}
	total := 0.0
	for _, f := range fs {
		p := base(f)
		if p <= 0 {
			continue
		}
		reason := fmt.Sprintf("%s finding (%s, confidence %.2f)", f.Category, f.Severity, f.Confidence)
		if present[f.Category] {
			p *= further
			reason += fmt.Sprintf(", further %s finding at %.0f%%", f.Category, further*100)
		}
		present[f.Category] = true
		p = round1(p)
		total += p
		res.Contributions = append(res.Contributions, Contribution{FindingID: f.ID, Rule: f.Rule, Category: f.Category, Points: p, Reason: reason})
	}
	for _, c := range Combinations {
		if c.matches(present) {
			total += c.Bonus
			res.Contributions = append(res.Contributions, Contribution{Points: c.Bonus, Reason: "combination: " + c.Name})
			break
		}
	}
	res.Score = int(math.Round(math.Min(total, Max)))
	res.Base = res.Score
	res.Level = Level(res.Score)
	if res.Contributions == nil {
		res.Contributions = []Contribution{}
	}
	return res
}

func (c Combination) matches(present map[report.Category]bool) bool {
	for _, any := range c.Categories {
		ok := false
		for _, cat := range any {
			ok = ok || present[cat]
		}
		if !ok {
			return false
		}
	}
	return true
}

func base(f report.Finding) float64 {
	conf := f.Confidence
	if conf <= 0 {
		conf = 0
	}
	return CategoryWeights[f.Category] * severityFactor[f.Severity] * conf
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// Fleet signal weights.
const (
	// SharedWithCritical and SharedWithHigh are added when the host shares
	// infrastructure with a host whose own findings score critical or high
	// (the strongest such link counts).
	SharedWithCritical = 30
	SharedWithHigh     = 15
	// Silent is added while the host's heartbeat is overdue (a laptop
	// switched off or its agent blocked is what a farm does before a check).
	Silent = 15
)

// Link is infrastructure the host shares with another host, from an open
// fleet alert.
type Link struct {
	// What the alert says is shared ("shared KVM USB serial …", "network").
	What string
	// Host is the other host, Base its score from its own findings.
	Host string
	Base int
}

// Fleet is what the rest of the fleet says about a host.
type Fleet struct {
	Links []Link
	// Silent is set while a host_silent alert is open, with SilentSince
	// its last heartbeat ("" unknown).
	Silent      bool
	SilentSince string
}

// ScoreFleet is Score plus the fleet signals.
func ScoreFleet(open []report.Finding, fl Fleet) Result {
	res := Score(open)
	total := float64(res.Score)
	var best *Link
	for i := range fl.Links {
		l := &fl.Links[i]
		if l.Base >= 50 && (best == nil || l.Base > best.Base || l.Base == best.Base && l.Host < best.Host) {
			best = l
		}
	}
	if best != nil {
		pts, lvl := float64(SharedWithHigh), Level(best.Base)
		if best.Base >= 80 {
			pts = SharedWithCritical
		}
		res.Contributions = append(res.Contributions, Contribution{Kind: "fleet", Host: best.Host, Points: pts,
			Reason: fmt.Sprintf("fleet: shares %s with %s-risk host %s (score %d)", best.What, lvl, best.Host, best.Base)})
		total += pts
	}
	if fl.Silent {
		reason := "fleet: host silent (heartbeat overdue)"
		if fl.SilentSince != "" {
			reason = fmt.Sprintf("fleet: host silent since %s (heartbeat overdue)", fl.SilentSince)
		}
		res.Contributions = append(res.Contributions, Contribution{Kind: "silence", Points: Silent, Reason: reason})
		total += Silent
	}
	res.Score = int(math.Round(math.Min(total, Max)))
	res.Level = Level(res.Score)
	return res
}
