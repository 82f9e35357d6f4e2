package risk

import (
	"strings"
	"testing"

	"github.com/farmwatch/farmwatch/internal/report"
)

func f(id string, cat report.Category, sev report.Severity, conf float64) report.Finding {
	return report.Finding{ID: id, Rule: "r." + id, Category: cat, Severity: sev, Confidence: conf}
}

func TestCombinationWeighsFarMoreThanParts(t *testing.T) {
	hw := f("hw", report.CategoryRemoteAccessHardware, report.SeverityHigh, 1)
	ra := f("ra", report.CategoryRemoteAccess, report.SeverityHigh, 1)
	vpn := f("vpn", report.CategoryVPN, report.SeverityHigh, 1)
	a, b, c := Score([]report.Finding{hw}), Score([]report.Finding{ra}), Score([]report.Finding{vpn})
	all := Score([]report.Finding{hw, ra, vpn})
	if all.Score < 2*(a.Score+b.Score+c.Score)-20 || all.Score <= a.Score+b.Score+c.Score+30 {
		t.Fatalf("combination %d vs parts %d+%d+%d", all.Score, a.Score, b.Score, c.Score)
	}
	if all.Level != "critical" || a.Level == "high" || a.Level == "critical" {
		t.Fatalf("levels: all %s, hw alone %s", all.Level, a.Level)
	}
	var bonus bool
	for _, c := range all.Contributions {
		if strings.HasPrefix(c.Reason, "combination: remote-access hardware + remote-control session + VPN") && c.Points == 45 {
			bonus = true
		}
	}
	if !bonus || len(all.Contributions) != 4 {
		t.Fatalf("explanation = %+v", all.Contributions)
	}
}

func TestScoreDetails(t *testing.T) {
	if r := Score(nil); r.Score != 0 || r.Level != "none" || r.Contributions == nil {
		t.Fatalf("empty = %+v", r)
	}
	a := f("a", report.CategoryRemoteAccess, report.SeverityHigh, 1)
	allowed := a
	allowed.ID, allowed.Allowed = "b", true
	if r := Score([]report.Finding{allowed}); r.Score != 0 {
		t.Fatalf("allowlisted finding scored %d", r.Score)
	}
	// A second finding of the same category adds only a little.
	a2 := f("c", report.CategoryRemoteAccess, report.SeverityHigh, 1)
	one, two := Score([]report.Finding{a}), Score([]report.Finding{a, a2})
	if one.Score != 20 || two.Score != 24 || !strings.Contains(two.Contributions[1].Reason, "further") {
		t.Fatalf("one %d two %d: %+v", one.Score, two.Score, two.Contributions)
	}
	// Severity and confidence scale a finding.
	low := Score([]report.Finding{f("d", report.CategoryRemoteAccess, report.SeverityLow, 0.5)})
	if low.Score != 4 {
		t.Fatalf("low/0.5 = %d, want 4", low.Score)
	}
	// Capped at Max.
	var many []report.Finding
	for _, c := range report.Categories {
		many = append(many, f(string(c), c, report.SeverityCritical, 1))
	}
	if r := Score(many); r.Score != Max {
		t.Fatalf("cap = %d", r.Score)
	}
}

// Sharing infrastructure with a critical host and going silent raise a
// host's score, each with its reason; a link to a low-risk host does not;
// Base stays the own-findings score.
func TestFleetSignals(t *testing.T) {
	hw := f("hw", report.CategoryRemoteAccessHardware, report.SeverityHigh, 0.9)
	own := Score([]report.Finding{hw})
	low := ScoreFleet([]report.Finding{hw}, Fleet{Links: []Link{{What: "KVM USB serial X", Host: "b", Base: 20}}})
	if low.Score != own.Score || len(low.Contributions) != len(own.Contributions) {
		t.Fatalf("link to a low-risk host changed the score: %+v", low)
	}
	crit := ScoreFleet([]report.Finding{hw}, Fleet{Links: []Link{{What: "KVM USB serial X", Host: "b", Base: 60}, {What: "KVM USB serial X", Host: "c", Base: 95}}})
	last := crit.Contributions[len(crit.Contributions)-1]
	if crit.Score != own.Score+SharedWithCritical || crit.Base != own.Score || last.Kind != "fleet" || last.Host != "c" ||
		!strings.Contains(last.Reason, "critical-risk host c (score 95)") || !strings.Contains(last.Reason, "KVM USB serial X") {
		t.Fatalf("shared with a critical host: %+v", crit)
	}
	silent := ScoreFleet(nil, Fleet{Silent: true, SilentSince: "2026-12-06T20:00:00Z"})
	if silent.Score != Silent || silent.Base != 0 || silent.Contributions[0].Kind != "silence" || !strings.Contains(silent.Contributions[0].Reason, "silent since 2026-12-06T20:00:00Z") {
		t.Fatalf("silent host: %+v", silent)
	}
}
