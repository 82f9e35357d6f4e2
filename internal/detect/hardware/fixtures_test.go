package hardware

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

func scanFixture(t testing.TB, rel string) []report.Finding {
	t.Helper()
	src, err := source.OpenSnapshot(filepath.Join(fixtureRoot, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Settings{ReportVM: true})
	if err != nil {
		t.Fatal(err)
	}
	hi := src.Host()
	fs, err := d.Detect(context.Background(), detect.Env{Source: src, Host: report.Host{Name: hi.Hostname, ID: hi.HostID}, Now: time.Now()})
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	for i := range fs {
		f := &fs[i]
		f.Detector = Name
		if err := f.Validate(); err != nil {
			t.Errorf("%s: %v", rel, err)
		}
	}
	return fs
}

func describeFindings(fs []report.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s %s %s traits=%v | %s\n", f.Severity, f.Rule, f.Tool, f.Evidence["traits"], f.Summary)
	}
	return b.String()
}

func TestDumpFixtures(t *testing.T) {
	if os.Getenv("FARMWATCH_DUMP") == "" {
		t.Skip("FARMWATCH_DUMP=1 prints every fixture's findings")
	}
	for _, osName := range []string{"linux", "darwin", "windows"} {
		ents, _ := os.ReadDir(filepath.Join(fixtureRoot, osName))
		for _, e := range ents {
			fs := scanFixture(t, osName+"/"+e.Name())
			t.Logf("%s/%s:\n%s", osName, e.Name(), describeFindings(fs))
		}
	}
}

// want is one expected finding: rule, tool, severity and traits it must name.
type want struct {
	rule   string
	tool   string
	sev    report.Severity
	traits []string
}

func has(fs []report.Finding, w want) bool {
	for _, f := range fs {
		if f.Rule != w.rule || f.Tool != w.tool || f.Severity != w.sev || f.Category != report.CategoryRemoteAccessHardware {
			continue
		}
		traits, _ := f.Evidence["traits"].([]string)
		ok := true
		for _, tr := range w.traits {
			found := false
			for _, x := range traits {
				if x == tr {
					found = true
				}
			}
			ok = ok && found
		}
		if ok {
			return true
		}
	}
	return false
}

func checkFixtures(t *testing.T, cases map[string][]want, maxSev map[string]report.Severity) {
	t.Helper()
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		fs := scanFixture(t, name)
		for _, w := range cases[name] {
			if !has(fs, w) {
				t.Errorf("%s: missing %s %s %s %v; got:\n%s", name, w.sev, w.rule, w.tool, w.traits, describeFindings(fs))
			}
		}
		if ms, ok := maxSev[name]; ok {
			for _, f := range fs {
				if f.Severity > ms {
					t.Errorf("%s: finding above %s: %s", name, ms, describeFindings([]report.Finding{f}))
				}
			}
		}
	}
}
