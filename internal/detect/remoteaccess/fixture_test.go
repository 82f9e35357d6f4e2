package remoteaccess_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/farmwatch/farmwatch/internal/config"
	"github.com/farmwatch/farmwatch/internal/detect"
	_ "github.com/farmwatch/farmwatch/internal/detect/remoteaccess"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

const fixtures = "../../../testdata/remoteaccess"

// want is one finding a fixture must produce.
type want struct {
	rule     string
	tool     string
	severity report.Severity
	allowed  bool
	// evidence keys that must be present, and substrings their values must hold
	evidence map[string]string
}

func scanFixture(t testing.TB, dir string) []report.Finding {
	t.Helper()
	cfg := config.Default()
	if p := filepath.Join(dir, "farmwatch.yaml"); fileExists(p) {
		var err error
		if cfg, err = config.Load(p); err != nil {
			t.Fatal(err)
		}
	}
	src, err := source.OpenSnapshot(dir)
	if err != nil {
		t.Fatal(err)
	}
	ins, err := cfg.Instances()
	if err != nil {
		t.Fatal(err)
	}
	r := &detect.Runner{Instances: ins, Allowlist: cfg.Allowlist, Now: func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) }}
	fs, errs := r.Run(context.Background(), src)
	if len(errs) > 0 {
		t.Fatalf("scan %s: %v", dir, errs)
	}
	return fs
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func TestFixtureSnapshots(t *testing.T) {
	cases := []struct {
		dir  string
		want []want
	}{
		{"windows-anydesk", []want{
			{rule: "remoteaccess.process.running", tool: "anydesk", severity: report.SeverityMedium, evidence: map[string]string{"signer": "philandro", "listening": "7070"}},
			{rule: "remoteaccess.session.setup", tool: "anydesk", severity: report.SeverityHigh, evidence: map[string]string{"setup": ""}},
		}},
		{"windows-teamviewer-incoming", []want{
			{rule: "remoteaccess.session.inbound", tool: "teamviewer", severity: report.SeverityHigh, evidence: map[string]string{"session": "command line", "cmdline": "--Module"}},
			{rule: "remoteaccess.process.running", tool: "teamviewer", severity: report.SeverityMedium},
		}},
		{"windows-rustdesk-renamed", []want{
			{rule: "remoteaccess.process.renamed", tool: "rustdesk", severity: report.SeverityHigh, evidence: map[string]string{"renamed": "true", "matched": "original filename rustdesk.exe", "path": "svc-helper.exe"}},
		}},
		{"windows-screenconnect-relay", []want{
			{rule: "remoteaccess.session.inbound", tool: "screenconnect", severity: report.SeverityHigh, evidence: map[string]string{"relay": "relay.helpdesk-portal.example"}},
			{rule: "remoteaccess.process.running", tool: "screenconnect", severity: report.SeverityMedium, evidence: map[string]string{"signer": "ConnectWise"}},
		}},
		{"windows-splashtop", []want{
			{rule: "remoteaccess.process.running", tool: "splashtop", severity: report.SeverityMedium, evidence: map[string]string{"signer": "Splashtop"}},
		}},
		{"windows-teamviewer-expired", []want{
			{rule: "remoteaccess.process.running", tool: "teamviewer", severity: report.SeverityMedium, evidence: map[string]string{"allowlist_expired": "2026-01-31", "signature": "unverified"}},
			{rule: "agent.allowlist.expired", tool: "teamviewer", severity: report.SeverityLow, evidence: map[string]string{"owner": "it-helpdesk"}},
		}},
		{"macos-chrome-remote-desktop", []want{
			{rule: "remoteaccess.process.running", tool: "chrome-remote-desktop", severity: report.SeverityMedium, evidence: map[string]string{"team_id": "EQHXZ8M8AV"}},
		}},
		{"macos-anydesk", []want{
			{rule: "remoteaccess.process.running", tool: "anydesk", severity: report.SeverityMedium, evidence: map[string]string{"bundle_id": "com.philandro.anydesk"}},
		}},
		{"macos-teamviewer-allowlisted", []want{
			{rule: "remoteaccess.process.running", tool: "teamviewer", severity: report.SeverityInfo, allowed: true, evidence: map[string]string{"allowlist": "CHG-0107"}},
		}},
		{"windows-clean", nil},
		{"macos-clean", nil},
	}
	schema := compileSchema(t)
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			fs := scanFixture(t, filepath.Join(fixtures, c.dir))
			for _, f := range fs {
				validateSchema(t, schema, f)
			}
			matched := map[int]bool{}
			for _, w := range c.want {
				i := find(fs, w)
				if i < 0 {
					t.Errorf("missing %s %s %s allowed=%v; got:\n%s", w.rule, w.tool, w.severity, w.allowed, dump(fs))
					continue
				}
				matched[i] = true
				for k, sub := range w.evidence {
					v, ok := fs[i].Evidence[k]
					if !ok {
						t.Errorf("%s: evidence lacks %q: %v", w.rule, k, fs[i].Evidence)
						continue
					}
					if s := fmt.Sprint(v); !strings.Contains(s, sub) {
						t.Errorf("%s: evidence %s = %q lacks %q", w.rule, k, s, sub)
					}
				}
			}
			// Nothing else at medium or above: no false alarms on the
			// ordinary software around the tool.
			for i, f := range fs {
				if !matched[i] && f.Severity >= report.SeverityMedium {
					t.Errorf("unexpected %s finding: %s %s %q", f.Severity, f.Rule, f.Tool, f.Summary)
				}
			}
		})
	}
}

func find(fs []report.Finding, w want) int {
	for i, f := range fs {
		if f.Rule == w.rule && f.Tool == w.tool && f.Severity == w.severity && f.Allowed == w.allowed {
			return i
		}
	}
	return -1
}

func dump(fs []report.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s %s %s allowed=%v %q\n", f.Rule, f.Tool, f.Severity, f.Allowed, f.Summary)
	}
	return b.String()
}

func compileSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	data, err := os.ReadFile("../../../docs/finding.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("finding.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("finding.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validateSchema(t testing.TB, s *jsonschema.Schema, f report.Finding) {
	t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("finding %s violates docs/finding.schema.json: %v\n%s", f.Rule, err, b)
	}
}

// BenchmarkScan500 scans a 500-process snapshot (ordinary processes mixed
// with remote-access tools, sockets and services) with the full catalog.
func BenchmarkScan500(b *testing.B) {
	dir := b.TempDir()
	var base []source.Process
	if err := source.DecodeJSONFile(filepath.Join(fixtures, "windows-clean", "processes.json"), &base); err != nil {
		b.Fatal(err)
	}
	var tools []source.Process
	for _, d := range []string{"windows-anydesk", "windows-teamviewer-incoming", "windows-rustdesk-renamed", "windows-screenconnect-relay", "windows-splashtop"} {
		var ps []source.Process
		if err := source.DecodeJSONFile(filepath.Join(fixtures, d, "processes.json"), &ps); err != nil {
			b.Fatal(err)
		}
		tools = append(tools, ps[len(base):]...)
	}
	var procs []source.Process
	var conns []source.Connection
	for i := 0; len(procs) < 500; i++ {
		var p source.Process
		if i%10 == 9 {
			p = tools[i%len(tools)]
		} else {
			p = base[i%len(base)]
			p.Exe = strings.Replace(p.Exe, ".exe", fmt.Sprintf("%d.exe", i), 1)
		}
		p.PID = int32(10000 + i)
		procs = append(procs, p)
		conns = append(conns, source.Connection{PID: p.PID, Proto: "tcp", LAddr: "10.0.0.2", LPort: uint32(40000 + i), RAddr: "203.0.113.9", RPort: 443, State: "ESTABLISHED"})
	}
	var svcs []source.Service
	if err := source.DecodeJSONFile(filepath.Join(fixtures, "windows-screenconnect-relay", "services.json"), &svcs); err != nil {
		b.Fatal(err)
	}
	for _, f := range []struct {
		name string
		v    any
	}{{"processes.json", procs}, {"connections.json", conns}, {"services.json", svcs}, {"host.json", source.HostInfo{Hostname: "bench", HostID: "bench", OS: "windows"}}} {
		if err := source.WriteJSONFile(filepath.Join(dir, f.name), f.v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	var n int
	for i := 0; i < b.N; i++ {
		n = len(scanFixture(b, dir))
	}
	if n == 0 {
		b.Fatal("benchmark snapshot produced no findings")
	}
	b.ReportMetric(float64(n), "findings")
}
