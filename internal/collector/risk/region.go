package risk

import (
	"fmt"
	"math"
	"strings"

	"github.com/farmwatch/farmwatch/internal/region"
	"github.com/farmwatch/farmwatch/internal/report"
)

// Assignment is who a host is issued to and where they are expected to be,
// from the MDM inventory row the host matched.
type Assignment struct {
	Person string
	Region region.Region
	// By is how the row was matched: serial, hostname or host_id.
	By string
	// Source is the inventory format (intune, jamf, kandji).
	Source string
}

// Egress is the configured network an agent's public address fell in
// (there is no geolocation database; only networks the collector's config
// names have a country).
type Egress struct {
	Network string
	Country string
}

// RegionPoints are the points each kind of fact that disagrees with the
// inventory's expected region adds; RegionCap caps their sum and
// RegionCorroborated is added when two or more kinds disagree.
var RegionPoints = map[string]float64{
	region.KindTimeZone: 10,
	region.KindLocale:   6,
	region.KindLayout:   8,
	region.KindIME:      10,
	region.KindEgress:   12,
}

const (
	RegionCap          = 40.0
	RegionCorroborated = 10.0
)

// agentRegionRules are the context detector's own region verdicts (against
// the expected region in the agent's config); an inventory region replaces
// them.
var agentRegionRules = map[string]bool{
	report.RuleTimeZoneUnexpected: true, report.RuleLocaleUnexpected: true,
	report.RuleForeignLayout: true, report.RuleForeignIME: true,
}

// RegionFacts collects a host's time zone, locales and input sources from
// the evidence of its open context findings: the full set from
// context.region.facts (an agent without an expected region), else what the
// agent's own region verdicts name.
func RegionFacts(open []report.Finding) region.Facts {
	var f region.Facts
	seenIn := map[string]bool{}
	addIn := func(in region.Input) {
		if in.Name != "" && !seenIn[in.Name] {
			seenIn[in.Name] = true
			f.Inputs = append(f.Inputs, in)
		}
	}
	for _, x := range open {
		ev := x.Evidence
		switch x.Rule {
		case report.RuleRegionFacts:
			f.TimeZone = str(ev[report.EvTimeZone])
			f.Locales = strs(ev[report.EvLocales])
			if list, ok := ev[report.EvInputSources].([]any); ok {
				for _, e := range list {
					if m, ok := e.(map[string]any); ok {
						ime, _ := m[report.EvIME].(bool)
						addIn(region.Input{Name: str(m["name"]), Lang: str(m[report.EvLang]), IME: ime})
					}
				}
			}
		case report.RuleTimeZoneUnexpected:
			if f.TimeZone == "" {
				f.TimeZone = str(ev[report.EvTimeZone])
			}
		case report.RuleLocaleUnexpected:
			if len(f.Locales) == 0 {
				f.Locales = strs(ev[report.EvAllLocales])
			}
		case report.RuleForeignLayout, report.RuleForeignIME:
			ime, _ := ev[report.EvIME].(bool)
			addIn(region.Input{Name: str(ev[report.EvInput]), Lang: str(ev[report.EvLang]), IME: ime})
		}
	}
	return f
}

func str(v any) string { s, _ := v.(string); return s }

func strs(v any) []string {
	var out []string
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	case []string:
		out = t
	}
	return out
}

var kindWords = map[string]string{
	region.KindTimeZone: "time zone", region.KindLocale: "locale", region.KindLayout: "keyboard layout",
	region.KindIME: "input method", region.KindEgress: "egress network",
}

// WithInventory rescores res with the inventory's expected region: the
// agent's own region verdicts are replaced by the collector's check of the
// host's facts (and its egress network, when configured with a country)
// against the assignment, and the explanation names the person, the
// expected region and what disagrees.
func WithInventory(res Result, a Assignment, facts region.Facts, eg Egress) Result {
	var kept []Contribution
	total, removed := 0.0, 0.0
	for _, c := range res.Contributions {
		if agentRegionRules[c.Rule] {
			removed += c.Points
			continue
		}
		kept = append(kept, c)
		total += c.Points
	}
	who := fmt.Sprintf("inventory (%s, matched by %s): issued to %s, expected region %s", orDash(a.Source), orDash(a.By), a.Person, a.Region.String())
	var mism []region.Mismatch
	if a.Region.Set() {
		mism = a.Region.Check(facts)
		if eg.Country != "" && a.Region.Country != "" && !strings.EqualFold(eg.Country, a.Region.Country) {
			mism = append(mism, region.Mismatch{Kind: region.KindEgress, Value: fmt.Sprintf("%s (%s)", eg.Network, strings.ToUpper(eg.Country))})
		}
	}
	sum := 0.0
	kinds := map[string]bool{}
	var add []Contribution
	for _, m := range mism {
		p := RegionPoints[m.Kind]
		capped := ""
		if sum+p > RegionCap {
			p = RegionCap - sum
			capped = fmt.Sprintf(" (region points capped at %.0f)", RegionCap)
		}
		sum += p
		kinds[m.Kind] = true
		v := m.Value
		if m.Lang != "" {
			v += " [" + m.Lang + "]"
		}
		add = append(add, Contribution{Kind: "inventory", Rule: "inventory.region." + m.Kind, Category: report.CategoryContext, Points: round1(p),
			Reason: fmt.Sprintf("%s — %s %s disagrees%s", who, kindWords[m.Kind], v, capped)})
	}
	if len(kinds) >= 2 {
		add = append(add, Contribution{Kind: "inventory", Rule: "inventory.region", Category: report.CategoryContext, Points: RegionCorroborated,
			Reason: fmt.Sprintf("%s — %d kinds of facts disagree with it", who, len(kinds))})
		sum += RegionCorroborated
	}
	if len(add) == 0 {
		what := "no region facts reported yet"
		if facts.TimeZone != "" || len(facts.Locales) > 0 || len(facts.Inputs) > 0 || eg.Country != "" {
			what = "time zone, locales, input sources and egress agree"
		}
		if !a.Region.Set() {
			what = "the inventory gives no expected region for this host"
		}
		add = append(add, Contribution{Kind: "inventory", Rule: "inventory.region", Category: report.CategoryContext, Points: 0, Reason: who + " — " + what})
	}
	res.Contributions = append(kept, add...)
	res.Score = int(math.Round(math.Min(total+sum, Max)))
	// The region is the host's own signal: it counts in Base too.
	res.Base = int(math.Round(math.Max(0, math.Min(float64(res.Base)-removed+sum, Max))))
	res.Level = Level(res.Score)
	return res
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
