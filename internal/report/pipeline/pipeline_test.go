package pipeline

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/report/deliver"
)

func TestSubmitFansOutAndSpoolsBeforeReturning(t *testing.T) {
	dir := t.TempDir()
	var stdout bytes.Buffer
	cfg := Config{Stdout: true, File: filepath.Join(dir, "out", "findings.jsonl"), SpoolDir: filepath.Join(dir, "spool"),
		Syslog: &deliver.SyslogConfig{Address: "127.0.0.1:9"}, Collector: &deliver.CollectorConfig{URL: "https://127.0.0.1:1", EnrollSecret: "x"}}
	p, err := New(cfg, report.Host{Name: "h", ID: "h"}, "test", &stdout, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	f := report.Finding{ID: "abc", Time: time.Now(), Rule: "a.b", Category: report.CategoryRemoteAccess, Severity: report.SeverityHigh, Summary: "s", Detector: "d"}
	for i := 0; i < 3; i++ {
		if err := p.Submit([]report.Finding{f}); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(stdout.String(), "\n"); n != 1 {
		t.Fatalf("stdout has %d lines, want 1 (repeats de-duplicated)", n)
	}
	b, _ := os.ReadFile(cfg.File)
	var got report.Finding
	if err := json.Unmarshal(bytes.TrimSpace(b), &got); err != nil || got.ID != "abc" || got.Count != 1 {
		t.Fatalf("file output: %s %v", b, err)
	}
	if err := p.Heartbeat(report.Heartbeat{Time: time.Now(), Event: report.EventStop}); err != nil {
		t.Fatal(err)
	}
	// Both network outputs hold the finding and the heartbeat on disk.
	if st := p.SpoolStats(); st.Pending != 4 {
		t.Fatalf("spooled %d items across 2 outputs, want 4", st.Pending)
	}
	if len(p.Senders()) != 2 {
		t.Fatalf("%d senders", len(p.Senders()))
	}
}

func TestNetworkOutputNeedsSpoolDir(t *testing.T) {
	_, err := New(Config{Syslog: &deliver.SyslogConfig{Address: "127.0.0.1:514"}}, report.Host{}, "", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "spool_dir") {
		t.Fatalf("err = %v", err)
	}
}

func TestFormatOCSF(t *testing.T) {
	if _, err := New(Config{Stdout: true, Format: "cef"}, report.Host{}, "", nil, nil); err == nil || !strings.Contains(err.Error(), "report.format") {
		t.Fatalf("unknown format accepted: %v", err)
	}
	dir := t.TempDir()
	var stdout bytes.Buffer
	cfg := Config{Stdout: true, File: filepath.Join(dir, "findings.jsonl"), Format: "ocsf"}
	p, err := New(cfg, report.Host{Name: "h", ID: "h"}, "1.2.3", &stdout, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	f := report.Finding{ID: "abc", Time: time.Now(), Rule: "a.b", Category: report.CategoryVPN, Severity: report.SeverityHigh, Summary: "s", Detector: "d"}
	if err := p.Submit([]report.Finding{f}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(cfg.File)
	for _, out := range [][]byte{stdout.Bytes(), b} {
		var ev map[string]any
		if err := json.Unmarshal(bytes.TrimSpace(out), &ev); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		if ev["class_uid"] != 2004.0 || ev["finding_info"].(map[string]any)["uid"] != "abc" {
			t.Fatalf("not an OCSF Detection Finding of the finding: %s", out)
		}
	}
}
