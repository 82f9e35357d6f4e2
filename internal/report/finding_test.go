package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func sample(rule string, sev Severity) Finding {
	return Finding{ID: StableID("h1", rule, "vnc", "x"), Detector: "d", Rule: rule, Category: CategoryRemoteAccess,
		Tool: "vnc", Severity: sev, Confidence: 0.5, Summary: "s", Evidence: map[string]any{}}
}

func TestSeverityRoundTrip(t *testing.T) {
	for _, name := range []string{"info", "low", "medium", "high", "critical"} {
		s, err := ParseSeverity(name)
		if err != nil || s.String() != name {
			t.Fatalf("ParseSeverity(%q) = %v, %v", name, s, err)
		}
		b, _ := json.Marshal(s)
		var back Severity
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Fatalf("json round trip of %s: %v %v", name, back, err)
		}
	}
	if _, err := ParseSeverity("urgent"); err == nil {
		t.Fatal("ParseSeverity accepted an unknown name")
	}
}

func TestStableIDIgnoresNothingItShouldNot(t *testing.T) {
	a := StableID("h", "r.x", "t", "s")
	if a != StableID("h", "r.x", "t", "s") {
		t.Fatal("StableID not deterministic")
	}
	for _, other := range []string{StableID("h2", "r.x", "t", "s"), StableID("h", "r.y", "t", "s"), StableID("h", "r.x", "u", "s"), StableID("h", "r.x", "t", "s2"), StableID("hr", ".x", "t", "s")} {
		if other == a {
			t.Fatal("StableID collides for different inputs")
		}
	}
}

func TestValidate(t *testing.T) {
	ok := sample("a.b", SeverityLow)
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(*Finding){
		func(f *Finding) { f.ID = "" },
		func(f *Finding) { f.Rule = "nodots" },
		func(f *Finding) { f.Category = "malware" },
		func(f *Finding) { f.Confidence = 1.5 },
		func(f *Finding) { f.Tool = "AnyDesk" },
		func(f *Finding) { f.Summary = "" },
		func(f *Finding) { f.Severity = 9 },
	}
	for i, mut := range bad {
		f := sample("a.b", SeverityLow)
		mut(&f)
		if f.Validate() == nil {
			t.Errorf("case %d: invalid finding accepted", i)
		}
	}
}

func TestSortAndMaxSeverity(t *testing.T) {
	fs := []Finding{sample("a.low", SeverityLow), sample("a.high", SeverityHigh), sample("a.info", SeverityInfo)}
	allowed := sample("a.crit", SeverityCritical)
	allowed.Allowed = true
	fs = append(fs, allowed)
	Sort(fs)
	if fs[0].Severity != SeverityCritical || fs[len(fs)-1].Severity != SeverityInfo {
		t.Fatalf("not sorted most severe first: %v", fs)
	}
	if max, ok := MaxSeverity(fs); !ok || max != SeverityHigh {
		t.Fatalf("MaxSeverity = %v %v, want high (allowed findings ignored)", max, ok)
	}
	if _, ok := MaxSeverity(nil); ok {
		t.Fatal("MaxSeverity of nothing reported a severity")
	}
}

func TestWriteFormats(t *testing.T) {
	fs := []Finding{sample("a.low", SeverityLow), sample("a.high", SeverityHigh)}
	fs[1].Summary = "evil\x1b[2Jname\nnext"
	var js bytes.Buffer
	if err := Write(&js, FormatJSON, fs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(js.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines, got %d: %s", len(lines), js.String())
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "time", "host", "detector", "rule", "category", "tool", "severity", "confidence", "allowed", "summary", "evidence"} {
		if _, ok := first[k]; !ok {
			t.Errorf("JSON finding lacks %q", k)
		}
	}
	if first["severity"] != "high" {
		t.Errorf("first line severity %v, want high", first["severity"])
	}
	var tb bytes.Buffer
	if err := Write(&tb, FormatTable, fs); err != nil {
		t.Fatal(err)
	}
	out := tb.String()
	if !strings.HasPrefix(out, "SEVERITY") || strings.Contains(out, "\x1b") || strings.Count(out, "\n") != 3 {
		t.Fatalf("table output wrong:\n%q", out)
	}
	if strings.Index(out, "high") > strings.Index(out, "low") {
		t.Fatalf("table not most severe first:\n%s", out)
	}
}
