// Package region is what "where the laptop's user is expected to be" means
// to farmwatch: an ISO country, IANA time-zone patterns and ISO 639-1
// languages, and the one implementation of the checks that compare a host's
// time zone, locales and keyboard layouts/input methods with it. The agent's
// context detector (expected region from its config) and the collector
// (expected region from the imported MDM inventory) both decide with it.
package region

import (
	"path"
	"sort"
	"strings"
)

// Region is where a laptop's user is expected to be.
type Region struct {
	// Country is an ISO 3166-1 alpha-2 code ("US").
	Country string `yaml:"country" json:"country,omitempty"`
	// TimeZones are IANA zone patterns ("America/*").
	TimeZones []string `yaml:"time_zones" json:"time_zones,omitempty"`
	// Languages are ISO 639-1 codes ("en").
	Languages []string `yaml:"languages" json:"languages,omitempty"`
}

// Set reports whether anything is expected.
func (r Region) Set() bool { return len(r.TimeZones) > 0 || len(r.Languages) > 0 || r.Country != "" }

// String is a short human form: "US (America/*; en, es)".
func (r Region) String() string {
	var parts []string
	if zs := r.TimeZones; len(zs) > 3 {
		parts = append(parts, strings.Join(zs[:2], ", ")+", …")
	} else if len(zs) > 0 {
		parts = append(parts, strings.Join(zs, ", "))
	}
	if len(r.Languages) > 0 {
		parts = append(parts, strings.Join(r.Languages, ", "))
	}
	s := r.Country
	if len(parts) > 0 {
		if s != "" {
			s += " "
		}
		s += "(" + strings.Join(parts, "; ") + ")"
	}
	if s == "" {
		return "(none)"
	}
	return s
}

// LocaleLang returns the ISO 639 language of a locale name ("en_US.UTF-8",
// "ko-KR"), "" for C/POSIX or what is not a language code.
func LocaleLang(l string) string {
	l = strings.TrimSpace(l)
	if i := strings.IndexAny(l, "_-.@"); i >= 0 {
		l = l[:i]
	}
	l = strings.ToLower(l)
	if l == "c" || l == "posix" || l == "" {
		return ""
	}
	if len(l) == 2 || len(l) == 3 {
		return l
	}
	return ""
}

// LanguageOK reports whether language l is expected (an unknown language
// or no expectation is OK).
func (r Region) LanguageOK(l string) bool {
	if l == "" || len(r.Languages) == 0 {
		return true
	}
	for _, x := range r.Languages {
		if strings.EqualFold(x, l) {
			return true
		}
	}
	return false
}

// TimeZoneOK reports whether zone matches one of the patterns (an unknown
// zone or no expectation is OK).
func (r Region) TimeZoneOK(zone string) bool {
	if zone == "" || len(r.TimeZones) == 0 {
		return true
	}
	for _, p := range r.TimeZones {
		if ok, _ := path.Match(p, zone); ok || strings.EqualFold(p, zone) {
			return true
		}
	}
	return false
}

// Input is a keyboard layout or input method of a host.
type Input struct {
	Name string `json:"name"`
	Lang string `json:"lang,omitempty"`
	IME  bool   `json:"ime"`
}

// Facts are what a host says about where its user is.
type Facts struct {
	TimeZone string   `json:"time_zone,omitempty"`
	Locales  []string `json:"locales,omitempty"`
	Inputs   []Input  `json:"inputs,omitempty"`
}

// Mismatch kinds.
const (
	KindTimeZone = "time_zone"
	KindLocale   = "locale"
	KindLayout   = "keyboard_layout"
	KindIME      = "input_method"
	KindEgress   = "egress"
)

// Mismatch is one fact that disagrees with the expected region.
type Mismatch struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
	Lang  string `json:"lang,omitempty"`
}

// Check returns the facts that disagree with r, in a stable order: time
// zone, locales, then input sources (each name once).
func (r Region) Check(f Facts) []Mismatch {
	var out []Mismatch
	if !r.TimeZoneOK(f.TimeZone) {
		out = append(out, Mismatch{Kind: KindTimeZone, Value: f.TimeZone})
	}
	for _, l := range f.Locales {
		if lang := LocaleLang(l); !r.LanguageOK(lang) {
			out = append(out, Mismatch{Kind: KindLocale, Value: l, Lang: lang})
		}
	}
	seen := map[string]bool{}
	for _, in := range f.Inputs {
		if r.LanguageOK(in.Lang) {
			continue
		}
		k := KindLayout
		if in.IME {
			k = KindIME
		}
		if seen[k+"|"+in.Name] {
			continue
		}
		seen[k+"|"+in.Name] = true
		out = append(out, Mismatch{Kind: k, Value: in.Name, Lang: in.Lang})
	}
	return out
}

// countries are the default expectations per country: the IANA zones in use
// there (as patterns) and the languages commonly configured. An
// organisation's own table (collector config) overrides and extends it.
var countries = map[string]Region{
	"US": {TimeZones: []string{"America/*", "US/*", "Pacific/Honolulu", "EST5EDT", "CST6CDT", "MST7MDT", "PST8PDT"}, Languages: []string{"en", "es"}},
	"CA": {TimeZones: []string{"America/*", "Canada/*"}, Languages: []string{"en", "fr"}},
	"MX": {TimeZones: []string{"America/*", "Mexico/*"}, Languages: []string{"es", "en"}},
	"BR": {TimeZones: []string{"America/*", "Brazil/*"}, Languages: []string{"pt", "en"}},
	"GB": {TimeZones: []string{"Europe/London", "GB"}, Languages: []string{"en"}},
	"IE": {TimeZones: []string{"Europe/Dublin"}, Languages: []string{"en", "ga"}},
	"DE": {TimeZones: []string{"Europe/Berlin", "Europe/Busingen"}, Languages: []string{"de", "en"}},
	"FR": {TimeZones: []string{"Europe/Paris"}, Languages: []string{"fr", "en"}},
	"NL": {TimeZones: []string{"Europe/Amsterdam"}, Languages: []string{"nl", "en"}},
	"ES": {TimeZones: []string{"Europe/Madrid", "Atlantic/Canary", "Africa/Ceuta"}, Languages: []string{"es", "ca", "en"}},
	"IT": {TimeZones: []string{"Europe/Rome"}, Languages: []string{"it", "en"}},
	"PL": {TimeZones: []string{"Europe/Warsaw"}, Languages: []string{"pl", "en"}},
	"UA": {TimeZones: []string{"Europe/Kyiv", "Europe/Kiev"}, Languages: []string{"uk", "ru", "en"}},
	"IN": {TimeZones: []string{"Asia/Kolkata", "Asia/Calcutta"}, Languages: []string{"en", "hi"}},
	"JP": {TimeZones: []string{"Asia/Tokyo", "Japan"}, Languages: []string{"ja", "en"}},
	"KR": {TimeZones: []string{"Asia/Seoul", "ROK"}, Languages: []string{"ko", "en"}},
	"KP": {TimeZones: []string{"Asia/Pyongyang"}, Languages: []string{"ko"}},
	"CN": {TimeZones: []string{"Asia/Shanghai", "Asia/Urumqi", "PRC"}, Languages: []string{"zh"}},
	"AU": {TimeZones: []string{"Australia/*"}, Languages: []string{"en"}},
	"SG": {TimeZones: []string{"Asia/Singapore", "Singapore"}, Languages: []string{"en", "zh", "ms", "ta"}},
}

// ForCountry returns the default expectation for an ISO 3166-1 alpha-2
// country code (case-insensitive), with Country set.
func ForCountry(code string) (Region, bool) {
	c := strings.ToUpper(strings.TrimSpace(code))
	r, ok := countries[c]
	if !ok {
		return Region{}, false
	}
	r.Country = c
	r.TimeZones = append([]string(nil), r.TimeZones...)
	r.Languages = append([]string(nil), r.Languages...)
	return r, true
}

// Countries lists the codes ForCountry knows, sorted.
func Countries() []string {
	out := make([]string, 0, len(countries))
	for c := range countries {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}
