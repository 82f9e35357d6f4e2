package ocsf_test

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/collector/alert"
	"github.com/farmwatch/farmwatch/internal/collector/config"
	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/report/ocsf"
	"github.com/farmwatch/farmwatch/internal/testenv"
)

const repoRoot = "../../.."

// loadDetectionFinding loads ../shared/data/ocsf (FARMWATCH_SHARED) and
// resolves class 2004.
func loadDetectionFinding(t *testing.T) (*schema, *class) {
	t.Helper()
	sh := os.Getenv("FARMWATCH_SHARED")
	if sh == "" {
		testenv.Missing(t, "FARMWATCH_SHARED is not set: the OCSF schema source files live in ../shared/data/ocsf (the Makefile sets it)")
	}
	s, err := loadSchema(filepath.Join(sh, "data", "ocsf"))
	if err != nil {
		t.Fatalf("load OCSF schema: %v", err)
	}
	c, err := s.class("findings/detection_finding")
	if err != nil {
		t.Fatalf("resolve detection_finding: %v", err)
	}
	if c.uid != ocsf.ClassUID || c.categoryUID != ocsf.CategoryUID {
		t.Fatalf("schema says class %d category %d, encoder uses %d/%d", c.uid, c.categoryUID, ocsf.ClassUID, ocsf.CategoryUID)
	}
	return s, c
}

func decode(t *testing.T, e ocsf.Event) map[string]any {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestValidatorRejects proves the validator can fail: each mutation of a
// valid event must be reported.
func TestValidatorRejects(t *testing.T) {
	s, c := loadDetectionFinding(t)
	f := sampleFinding("remoteaccess.process.running", report.CategoryRemoteAccess)
	good := decode(t, ocsf.Encode(ocsf.FromFinding(f), "test"))
	if errs := s.validateEvent(c, good); len(errs) > 0 {
		t.Fatalf("valid event rejected:\n%s", strings.Join(errs, "\n"))
	}
	cases := map[string]func(m map[string]any){
		"finding_info.uid: required": func(m map[string]any) { delete(m["finding_info"].(map[string]any), "uid") },
		"metadata: required":         func(m map[string]any) { delete(m, "metadata") },
		"type_uid":                   func(m map[string]any) { m["type_uid"] = 200402.0 },
		"class_uid":                  func(m map[string]any) { m["class_uid"] = 2001.0 },
		"severity_id: enum":          func(m map[string]any) { m["severity_id"] = 7.0 },
		"severity: caption":          func(m map[string]any) { m["severity"] = "Critical" },
		"unknown attribute":          func(m map[string]any) { m["farmwatch_rule"] = "x" },
		"time: integer":              func(m map[string]any) { m["time"] = "2026-01-01" },
		"device.type_id: required":   func(m map[string]any) { delete(m["device"].(map[string]any), "type_id") },
		"device.hostname: string":    func(m map[string]any) { m["device"].(map[string]any)["hostname"] = 5.0 },
		"nested unknown":             func(m map[string]any) { m["finding_info"].(map[string]any)["rule"] = "x" },
		"profile not declared":       func(m map[string]any) { m["time_dt"] = "2026-01-01T00:00:00Z" },
		"evidences constraint":       func(m map[string]any) { m["evidences"] = []any{map[string]any{"name": "x"}} },
		"ip pattern": func(m map[string]any) {
			m["evidences"].([]any)[0].(map[string]any)["src_endpoint"] = map[string]any{"ip": "not-an-ip"}
		},
		"port range": func(m map[string]any) {
			m["evidences"].([]any)[0].(map[string]any)["src_endpoint"] = map[string]any{"ip": "10.0.0.1", "port": 70000.0}
		},
		"types: array": func(m map[string]any) { m["finding_info"].(map[string]any)["types"] = "vpn" },
		"analytic.type_id enum": func(m map[string]any) {
			m["finding_info"].(map[string]any)["analytic"].(map[string]any)["type_id"] = 42.0
		},
		"confidence_score: integer":    func(m map[string]any) { m["confidence_score"] = 0.5 },
		"process.file.name: required":  func(m map[string]any) { delete(procFile(m), "name") },
		"hashes algorithm_id enum":     func(m map[string]any) { procFile(m)["hashes"].([]any)[0].(map[string]any)["algorithm_id"] = 1234.0 },
		"observable type_id: required": func(m map[string]any) { delete(m["observables"].([]any)[0].(map[string]any), "type_id") },
	}
	for name, mutate := range cases {
		m := decode(t, ocsf.Encode(ocsf.FromFinding(f), "test"))
		mutate(m)
		if errs := s.validateEvent(c, m); len(errs) == 0 {
			t.Errorf("%s: mutated event accepted", name)
		}
	}
}

func procFile(m map[string]any) map[string]any {
	return m["evidences"].([]any)[0].(map[string]any)["process"].(map[string]any)["file"].(map[string]any)
}

// sampleFinding carries every evidence key of the vocabulary that the
// encoder maps, with the types a detector writes in-process.
func sampleFinding(rule string, cat report.Category) report.Finding {
	now := time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)
	last := now.Add(time.Hour)
	return report.Finding{
		ID: report.StableID("host-1", rule, "tool", "subject"), Time: now, Host: report.Host{Name: "laptop-1", ID: "host-1"},
		Detector: strings.Split(rule, ".")[0], Rule: rule, Category: cat, Tool: "anydesk", Severity: report.SeverityHigh,
		Confidence: 0.9, Summary: "AnyDesk is running", Count: 3, LastSeen: &last,
		Evidence: map[string]any{
			report.EvPID: 4242, report.EvProcess: "AnyDesk.exe", report.EvExe: `C:\Program Files\AnyDesk\AnyDesk.exe`,
			report.EvExeSHA256: strings.Repeat("ab", 32), report.EvCmdline: "AnyDesk.exe --service",
			report.EvClient: "192.0.2.10:51000", report.EvServer: "[2001:db8::1]:443", report.EvRemoteID: "123456789",
			report.EvSerial: "CAFEBABE", report.EvInboundConnections: []string{"tcp/7070 from 203.0.113.5:51000"},
		},
	}
}

var (
	buildOnce sync.Once
	agentBin  string
	buildErr  error
	buildOut  []byte
)

// agent builds the real farmwatch-agent once per test binary.
func agent(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("FARMWATCH_AGENT_BIN"); b != "" {
		return b
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "farmwatch-ocsf-")
		if err != nil {
			buildErr = err
			return
		}
		agentBin = filepath.Join(dir, "farmwatch-agent")
		if runtime.GOOS == "windows" {
			agentBin += ".exe"
		}
		buildOut, buildErr = exec.Command("go", "build", "-o", agentBin, "github.com/farmwatch/farmwatch/cmd/agent").CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("build farmwatch-agent: %v\n%s", buildErr, buildOut)
	}
	return agentBin
}

// run executes the agent; exit status 3 (--fail-on) is not used here, so
// any error is a failure. It returns the JSON lines of stdout.
func run(t *testing.T, bin string, args ...string) []map[string]any {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, stderr.String())
	}
	var out []map[string]any
	dec := json.NewDecoder(&stdout)
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("%s: decode output: %v", strings.Join(args, " "), err)
		}
		out = append(out, m)
	}
	return out
}

// realInputs lists the repo's fixture snapshots and recorded captures.
func realInputs(t *testing.T) (snapshots, pcaps []string) {
	t.Helper()
	err := filepath.Walk(filepath.Join(repoRoot, "testdata"), func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !info.IsDir() && info.Name() == "host.json" {
			snapshots = append(snapshots, filepath.Dir(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pcaps, _ = filepath.Glob(filepath.Join(repoRoot, "testdata", "pcaps", "*.pcap*"))
	if len(snapshots) < 10 || len(pcaps) < 10 {
		t.Fatalf("found %d snapshots and %d captures under testdata; expected the repo's fixtures", len(snapshots), len(pcaps))
	}
	return snapshots, pcaps
}

// TestRealAgentOutputValidates runs the real agent binary on every fixture
// snapshot (`scan --snapshot --format ocsf`) and every recorded capture
// (`pcap --format ocsf`) and validates every event against the schema. The
// rules seen are then checked against every rule id in the code and docs.
func TestRealAgentOutputValidates(t *testing.T) {
	s, c := loadDetectionFinding(t)
	bin := agent(t)
	snapshots, pcaps := realInputs(t)
	seen := map[string]int{}
	check := func(name string, args []string) {
		oc := run(t, bin, append([]string{args[0], "--format", "ocsf"}, args[1:]...)...)
		uids := map[string]bool{}
		for _, e := range oc {
			for _, msg := range s.validateEvent(c, e) {
				t.Errorf("%s: %s", name, msg)
			}
			fi, _ := e["finding_info"].(map[string]any)
			an, _ := fi["analytic"].(map[string]any)
			uid, _ := fi["uid"].(string)
			rule, _ := an["uid"].(string)
			if rule == "" || uid == "" || uids[uid] {
				t.Errorf("%s: event without a rule or with a repeated finding uid: %v", name, fi)
				continue
			}
			uids[uid] = true
			seen[rule]++
		}
	}
	for _, d := range snapshots {
		rel, _ := filepath.Rel(repoRoot, d)
		check(rel, []string{"scan", "--snapshot", d})
	}
	for _, p := range pcaps {
		check(filepath.Base(p), []string{"pcap", p})
	}
	if len(seen) < 10 {
		t.Fatalf("only %d rules in the real output: %v", len(seen), seen)
	}

	// Every rule the code or docs name: validated above from real output,
	// or (no fixture triggers it) encoded from a finding with that rule and
	// the full evidence vocabulary and validated here.
	all := ruleIDs(t)
	var unseen []string
	for r := range all {
		if seen[r] > 0 {
			continue
		}
		unseen = append(unseen, r)
		f := sampleFinding(r, categoryOf(r))
		for _, msg := range s.validateEvent(c, decode(t, ocsf.Encode(ocsf.FromFinding(f), "test"))) {
			t.Errorf("rule %s (no fixture): %s", r, msg)
		}
	}
	for r := range seen {
		if !all[r] {
			t.Errorf("rule %s is emitted but is neither a literal in internal/detect nor in the docs", r)
		}
	}
	sort.Strings(unseen)
	t.Logf("%d rules validated from real agent output (%d snapshots, %d captures), %d more from their rule id only: %s",
		len(seen), len(snapshots), len(pcaps), len(unseen), strings.Join(unseen, " "))
}

var ruleLit = regexp.MustCompile("[\"`]((?:remoteaccess|hardware|tunnel|network|lan|context|agent)\\.[a-z0-9_-]+\\.[a-z0-9_-]+)[\"`]")

// ruleIDs collects every rule id the detectors' source (string literals in
// non-test files of internal/detect) and the docs (docs/*.md, README.md)
// name; there is no registry of rule ids.
func ruleIDs(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	var files []string
	filepath.Walk(filepath.Join(repoRoot, "internal", "detect"), func(p string, info os.FileInfo, err error) error { //nolint:errcheck
		if err == nil && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			files = append(files, p)
		}
		return nil
	})
	docs, _ := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	files = append(append(files, docs...), filepath.Join(repoRoot, "README.md"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ruleLit.FindAllSubmatch(b, -1) {
			out[string(m[1])] = true
		}
	}
	if len(out) < 30 {
		t.Fatalf("found only %d rule ids in the code and docs", len(out))
	}
	return out
}

func categoryOf(rule string) report.Category {
	switch strings.Split(rule, ".")[0] {
	case "remoteaccess":
		return report.CategoryRemoteAccess
	case "hardware":
		return report.CategoryRemoteAccessHardware
	case "tunnel", "network":
		return report.CategoryTunnel
	case "lan":
		return report.CategoryLANDevice
	case "agent":
		return report.CategoryAgent
	}
	return report.CategoryContext
}

// FuzzEncode feeds hostile evidence values (endpoints, pids, paths) to the
// encoder: it must never panic and its output must stay valid JSON.
func FuzzEncode(f *testing.F) {
	f.Add("192.0.2.1:443", "[2001:db8::1]:22", "C:\\x\\a.exe", 42.0)
	f.Add("not an ip", ":99999", "", -1.5)
	f.Add("", "10.0.0.1", "/", 1e300)
	f.Fuzz(func(t *testing.T, client, server, exe string, pid float64) {
		if math.IsNaN(pid) || math.IsInf(pid, 0) {
			t.Skip("JSON has no NaN/Inf; evidence never holds them")
		}
		fd := sampleFinding("network.ssh.session", report.CategoryTunnel)
		fd.Evidence = map[string]any{report.EvClient: client, report.EvServer: server, report.EvExe: exe, report.EvPID: pid, report.EvPIDs: []any{pid}}
		b, err := json.Marshal(ocsf.Encode(ocsf.FromFinding(fd), "fuzz"))
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if !json.Valid(b) {
			t.Fatal("invalid JSON")
		}
	})
}

// TestCollectorAlertsValidate validates the collector's OCSF rendering of
// an alert of every kind config.AlertKinds names, each status, with no,
// one and several hosts.
func TestCollectorAlertsValidate(t *testing.T) {
	s, c := loadDetectionFinding(t)
	now := time.Date(2026, 12, 6, 19, 0, 0, 0, time.UTC)
	for _, kind := range config.AlertKinds {
		for _, status := range []string{store.StatusOpen, store.StatusAcked, store.StatusClosed} {
			for _, hosts := range [][]string{nil, {"h1"}, {"h1", "h2", "h3"}} {
				a := store.Alert{ID: "a-" + kind, Kind: kind, Severity: report.SeverityCritical, Category: "remote-access-hardware", Tool: "pikvm",
					Title: kind + " alert", Detail: "detail", Hosts: hosts, Status: status, CreatedAt: now, UpdatedAt: now.Add(time.Minute)}
				for _, msg := range s.validateEvent(c, decode(t, alert.OCSF(a, "test"))) {
					t.Errorf("%s/%s/%d hosts: %s", kind, status, len(hosts), msg)
				}
			}
		}
	}
}
