package risk

import (
	"strings"
	"testing"

	"github.com/farmwatch/farmwatch/internal/region"
	"github.com/farmwatch/farmwatch/internal/report"
)

func TestWithInventory(t *testing.T) {
	us, _ := region.ForCountry("US")
	facts := []report.Finding{{ID: "a", Rule: report.RuleRegionFacts, Category: report.CategoryContext, Severity: report.SeverityInfo, Confidence: 1,
		Evidence: map[string]any{report.EvTimeZone: "Asia/Pyongyang", report.EvLocales: []any{"en_US.UTF-8"},
			report.EvInputSources: []any{map[string]any{"name": "hangul", report.EvLang: "ko", report.EvIME: true}}}}}
	base := Score(facts)
	a := Assignment{Person: "Ada <ada@example.com>", Region: us, By: "serial", Source: "intune"}
	got := WithInventory(base, a, RegionFacts(facts), Egress{})
	// time zone 10 + IME 10 + corroborated 10
	if got.Score != base.Score+30 {
		t.Fatalf("score %d (base %d), want +30: %+v", got.Score, base.Score, got.Contributions)
	}
	var all string
	for _, c := range got.Contributions {
		all += c.Reason + "\n"
	}
	for _, want := range []string{"Ada <ada@example.com>", "expected region US", "time zone Asia/Pyongyang disagrees", "input method hangul [ko] disagrees"} {
		if !strings.Contains(all, want) {
			t.Fatalf("explanation lacks %q:\n%s", want, all)
		}
	}
	// The agent's own verdicts (its config's region) are replaced.
	agent := append(facts, report.Finding{ID: "b", Rule: report.RuleTimeZoneUnexpected, Category: report.CategoryContext, Severity: report.SeverityLow, Confidence: 0.7,
		Evidence: map[string]any{report.EvTimeZone: "Asia/Pyongyang"}})
	got2 := WithInventory(Score(agent), a, RegionFacts(agent), Egress{})
	if got2.Score != got.Score {
		t.Fatalf("with the agent's verdict %d, without %d", got2.Score, got.Score)
	}
	// A matching region adds nothing; egress from a network in the user's
	// country agrees, from another country disagrees.
	kr, _ := region.ForCountry("KR")
	f := region.Facts{TimeZone: "Asia/Seoul", Inputs: []region.Input{{Name: "hangul", Lang: "ko", IME: true}}}
	if r := WithInventory(base, Assignment{Person: "Minji", Region: kr}, f, Egress{Network: "Seoul", Country: "KR"}); r.Score != base.Score {
		t.Fatalf("matching region scored %d, base %d", r.Score, base.Score)
	}
	if r := WithInventory(base, Assignment{Person: "Minji", Region: kr}, f, Egress{Network: "NYC", Country: "US"}); r.Score != base.Score+12 {
		t.Fatalf("foreign egress scored %d, base %d", r.Score, base.Score)
	}
}
