package hostcontext

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/farmwatch/farmwatch/internal/region"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

// InputSource is a keyboard layout or an input method (IME).
type InputSource struct {
	Name string `json:"name"`
	// Lang is the ISO 639-1 language it types ("" when unknown).
	Lang string `json:"lang,omitempty"`
	// IME is true for input methods, false for plain keyboard layouts.
	IME bool `json:"ime"`
	// Where the fact came from (a file, a registry value, a user).
	Where string `json:"where,omitempty"`
}

// Session is a login or remote session.
type Session struct {
	User     string `json:"user,omitempty"`
	Line     string `json:"line,omitempty"`
	Host     string `json:"host,omitempty"`
	Protocol string `json:"protocol,omitempty"` // rdp, console, ...
	Active   bool   `json:"active"`
	ID       int    `json:"id,omitempty"`
}

// Facts are the human-factor facts of a host.
type Facts struct {
	OS string `json:"os"`
	// TimeZone is an IANA name when known; TimeZoneRaw what the OS says.
	TimeZone    string `json:"time_zone,omitempty"`
	TimeZoneRaw string `json:"time_zone_raw,omitempty"`
	// Locales are system/user locale names (en_US.UTF-8, en-US, ko-KR).
	Locales  []string      `json:"locales,omitempty"`
	Inputs   []InputSource `json:"inputs,omitempty"`
	Sessions []Session     `json:"sessions,omitempty"`
	// Idle is the least idle time of the users (live only).
	Idle *time.Duration `json:"-"`
}

// localeLang returns the ISO 639 language of a locale name ("" for C/POSIX).
func localeLang(l string) string { return region.LocaleLang(l) }

// input is everything decide needs.
type input struct {
	hostID, hostOS string
	facts          *Facts
	hist           *Histogram
	procs          []source.Process
	conns          []source.Connection
}

func langOK(langs []string, l string) bool { return region.Region{Languages: langs}.LanguageOK(l) }

// tzOK reports whether zone matches one of the patterns.
func tzOK(patterns []string, zone string) bool {
	return region.Region{TimeZones: patterns}.TimeZoneOK(zone)
}

// decide turns facts into findings. It is pure.
func decide(in input, s *Settings) []report.Finding {
	f := in.facts
	if f == nil {
		f = &Facts{}
	}
	reg := s.ExpectedRegion
	var out []report.Finding
	add := func(rule, tool, subject string, cat report.Category, sev report.Severity, conf float64, summary string, ev map[string]any) {
		out = append(out, report.Finding{
			ID: report.StableID(in.hostID, rule, tool, subject), Rule: rule, Category: cat, Tool: tool,
			Severity: sev, Confidence: conf, Summary: summary, Evidence: ev,
		})
	}
	if !reg.Set() {
		var inputs []string
		sources := []map[string]any{}
		for _, x := range f.Inputs {
			inputs = append(inputs, x.Name)
			sources = append(sources, map[string]any{"name": x.Name, report.EvLang: x.Lang, report.EvIME: x.IME})
		}
		if f.TimeZone != "" || f.TimeZoneRaw != "" || len(f.Locales) > 0 || len(inputs) > 0 {
			add(report.RuleRegionFacts, "", "facts", report.CategoryContext, report.SeverityInfo, 1,
				fmt.Sprintf("Time zone %s, locales %s, input sources %s (no expected region configured)",
					orNone(firstNonEmpty(f.TimeZone, f.TimeZoneRaw)), orNone(strings.Join(f.Locales, ", ")), orNone(strings.Join(inputs, ", "))),
				map[string]any{report.EvTimeZone: f.TimeZone, "time_zone_raw": f.TimeZoneRaw, report.EvLocales: f.Locales, "inputs": inputs, report.EvInputSources: sources})
		}
	} else {
		if !tzOK(reg.TimeZones, f.TimeZone) {
			add(report.RuleTimeZoneUnexpected, "", f.TimeZone, report.CategoryContext, report.SeverityLow, 0.7,
				fmt.Sprintf("System time zone %s is outside the expected region (%s)", f.TimeZone, strings.Join(reg.TimeZones, ", ")),
				map[string]any{report.EvTimeZone: f.TimeZone, "time_zone_raw": f.TimeZoneRaw, "expected": reg.TimeZones})
		}
		var foreign []string
		for _, l := range f.Locales {
			if !langOK(reg.Languages, localeLang(l)) {
				foreign = append(foreign, l)
			}
		}
		if len(foreign) > 0 {
			add(report.RuleLocaleUnexpected, "", strings.Join(foreign, ","), report.CategoryContext, report.SeverityLow, 0.6,
				fmt.Sprintf("Locale/language settings %s are outside the expected languages (%s)", strings.Join(foreign, ", "), strings.Join(reg.Languages, ", ")),
				map[string]any{report.EvLocales: foreign, report.EvAllLocales: f.Locales, "expected": reg.Languages})
		}
		seen := map[string]bool{}
		for _, x := range f.Inputs {
			if langOK(reg.Languages, x.Lang) {
				continue
			}
			rule, kind := report.RuleForeignLayout, "keyboard layout"
			if x.IME {
				rule, kind = report.RuleForeignIME, "input method"
			}
			key := rule + "|" + x.Name
			if seen[key] {
				continue
			}
			seen[key] = true
			add(rule, "", x.Name, report.CategoryContext, report.SeverityLow, 0.7,
				fmt.Sprintf("A %s %s (%s) is installed/enabled, outside the expected languages (%s)", langName(x.Lang), kind, x.Name, strings.Join(reg.Languages, ", ")),
				map[string]any{report.EvInput: x.Name, report.EvLang: x.Lang, report.EvIME: x.IME, "where": x.Where, "expected": reg.Languages})
		}
		if in.hist != nil && len(reg.TimeZones) > 0 {
			if m, ok := ForeignHours(in.hist, expectedOffsets(reg), s.MinActiveSamples); ok {
				add("context.activity.foreign_hours", "", fmt.Sprintf("%+g", m.Best.Offset), report.CategoryContext, report.SeverityLow, 0.6,
					fmt.Sprintf("Active hours match business hours (09-18) of UTC%s (%s, %.0f%% of active samples) rather than the expected region (%.0f%%)",
						fmtOffset(m.Best.Offset), m.Best.Example, m.Best.Score*100, m.Expected.Score*100),
					map[string]any{"histogram_utc": in.hist.Hours, "active_samples": in.hist.Total(), "best_offset": m.Best.Offset,
						"best_zone": m.Best.Example, "best_score": m.Best.Score, "expected_offset": m.Expected.Offset, "expected_score": m.Expected.Score})
			}
		}
	}
	out = append(out, sessionFindings(in)...)
	report.Sort(out)
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

var langNames = map[string]string{
	"ko": "Korean", "zh": "Chinese", "ja": "Japanese", "ru": "Russian", "uk": "Ukrainian", "vi": "Vietnamese",
	"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
	"th": "Thai", "ar": "Arabic", "fa": "Persian", "hi": "Hindi", "pl": "Polish", "nl": "Dutch", "tr": "Turkish",
}

func langName(l string) string {
	if n, ok := langNames[l]; ok {
		return n
	}
	if l == "" {
		return "unknown-language"
	}
	return l
}

// remoteSessionProcs are server processes of remote-desktop sessions and
// the ports they serve on.
var remoteSessionProcs = map[string]struct {
	tool  string
	ports []uint32
}{
	"screensharingd": {"screen-sharing", []uint32{5900}},
	"ardagent":       {"apple-remote-desktop", []uint32{3283, 5900}},
	"xvnc":           {"vnc", nil},
	"xtigervnc":      {"vnc", nil},
	"x11vnc":         {"vnc", nil},
	"vncserver":      {"vnc", nil},
	"xrdp":           {"xrdp", []uint32{3389}},
	"xrdp-sesman":    {"xrdp", nil},
}

// sessionFindings reports active remote sessions.
func sessionFindings(in input) []report.Finding {
	var out []report.Finding
	byPID := map[int32][]source.Connection{}
	for _, c := range in.conns {
		byPID[c.PID] = append(byPID[c.PID], c)
	}
	for _, p := range in.procs {
		base := strings.ToLower(p.Name)
		if base == "" {
			base = strings.ToLower(path.Base(strings.ReplaceAll(p.Exe, `\`, "/")))
		}
		rs, ok := remoteSessionProcs[base]
		if !ok {
			continue
		}
		listen := map[uint32]bool{}
		for _, port := range rs.ports {
			listen[port] = true
		}
		for _, c := range byPID[p.PID] {
			if c.Listening() {
				listen[c.LPort] = true
			}
		}
		var peers []string
		for _, c := range byPID[p.PID] {
			if c.Established() && listen[c.LPort] && !loopback(c.RAddr) {
				peers = append(peers, fmt.Sprintf("%s:%d", c.RAddr, c.RPort))
			}
		}
		if len(peers) == 0 {
			continue
		}
		sort.Strings(peers)
		rule := "context.session.remote_active"
		out = append(out, report.Finding{
			ID: report.StableID(in.hostID, rule, rs.tool, fmt.Sprintf("%s|%d", base, p.PID)), Rule: rule,
			Category: report.CategoryRemoteAccess, Tool: rs.tool, Severity: report.SeverityMedium, Confidence: 0.8,
			Summary:  fmt.Sprintf("Active remote session: %s (pid %d) has a connection from %s", p.Name, p.PID, strings.Join(peers, ", ")),
			Evidence: map[string]any{"process": p.Name, "pid": p.PID, "path": p.Exe, "user": p.Username, "peers": peers},
		})
	}
	if in.facts != nil {
		for _, s := range in.facts.Sessions {
			switch {
			case s.Protocol == "rdp" && s.Active:
				rule := "context.session.remote_active"
				out = append(out, report.Finding{
					ID: report.StableID(in.hostID, rule, "rdp", fmt.Sprintf("%d|%s", s.ID, s.User)), Rule: rule,
					Category: report.CategoryRemoteAccess, Tool: "rdp", Severity: report.SeverityMedium, Confidence: 0.9,
					Summary:  fmt.Sprintf("Active RDP session %d (%s) for %s from %s", s.ID, s.Line, orNone(s.User), orNone(s.Host)),
					Evidence: map[string]any{"session_id": s.ID, "station": s.Line, "user": s.User, "client": s.Host},
				})
			case s.Protocol == "" && s.Host != "" && s.Active && !localDisplay(s.Host):
				rule := "context.session.remote_login"
				out = append(out, report.Finding{
					ID: report.StableID(in.hostID, rule, "login", s.User+"|"+s.Line+"|"+s.Host), Rule: rule,
					Category: report.CategoryContext, Tool: "login", Severity: report.SeverityLow, Confidence: 0.5,
					Summary:  fmt.Sprintf("User %s is logged in on %s from %s", orNone(s.User), s.Line, s.Host),
					Evidence: map[string]any{"user": s.User, "line": s.Line, "host": s.Host},
				})
			}
		}
	}
	return out
}

func loopback(a string) bool {
	return a == "127.0.0.1" || a == "::1" || strings.HasPrefix(a, "127.") || a == "localhost"
}

// localDisplay: utmp hosts like ":0" or ":1.0" are local X displays.
func localDisplay(h string) bool {
	return strings.HasPrefix(h, ":") || h == "localhost" || loopback(h)
}
