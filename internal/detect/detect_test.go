package detect

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/allowlist"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

type funcDetector func(ctx context.Context, env Env) ([]report.Finding, error)

func (f funcDetector) Detect(ctx context.Context, env Env) ([]report.Finding, error) {
	return f(ctx, env)
}

func snapshot(t *testing.T) source.Source {
	t.Helper()
	s, err := source.OpenSnapshot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func finding(tool, path string, sev report.Severity) report.Finding {
	return report.Finding{Rule: "test.rule", Category: report.CategoryRemoteAccess, Tool: tool, Severity: sev,
		Confidence: 0.9, Summary: "x", Evidence: map[string]any{"path": path, "signer": "TeamViewer Germany GmbH", "signature": "valid"}}
}

func withSignature(f report.Finding, status string) report.Finding {
	f.Evidence["signature"] = status
	return f
}

func TestRunnerKeepsFindingsOfOthersWhenOneFails(t *testing.T) {
	r := &Runner{Instances: []Instance{
		{Name: "slow", Timeout: 20 * time.Millisecond, Detector: funcDetector(func(ctx context.Context, _ Env) ([]report.Finding, error) {
			<-ctx.Done()
			return []report.Finding{finding("vnc", "/a", report.SeverityLow)}, ctx.Err()
		})},
		{Name: "panicky", Timeout: time.Second, Detector: funcDetector(func(context.Context, Env) ([]report.Finding, error) {
			panic("boom")
		})},
		{Name: "good", Timeout: time.Second, Detector: funcDetector(func(context.Context, Env) ([]report.Finding, error) {
			return []report.Finding{finding("anydesk", "/b", report.SeverityHigh), {Rule: "bad"}}, nil
		})},
	}}
	fs, errs := r.Run(context.Background(), snapshot(t))
	if len(fs) != 2 {
		t.Fatalf("want 2 findings (slow's partial + good's valid one), got %d: %+v", len(fs), fs)
	}
	if fs[0].Tool != "anydesk" || fs[0].Detector != "good" || fs[0].ID == "" || fs[0].Host.Name == "" || fs[0].Count != 1 {
		t.Fatalf("runner did not fill finding: %+v", fs[0])
	}
	if len(errs) != 3 {
		t.Fatalf("want 3 errors (timeout, panic, invalid finding), got %v", errs)
	}
	joined := errs[0].Error() + errs[1].Error() + errs[2].Error()
	for _, want := range []string{"slow", "deadline", "panic: boom", "invalid finding"} {
		if !strings.Contains(joined, want) {
			t.Errorf("errors lack %q: %s", want, joined)
		}
	}
	var de *Error
	if !errors.As(errs[0], &de) {
		t.Fatal("errors are not *detect.Error")
	}
}

func TestRunnerAllowlist(t *testing.T) {
	d, _ := time.Parse("2006-01-02", "2027-01-01")
	old, _ := time.Parse("2006-01-02", "2025-01-01")
	r := &Runner{
		Now: func() time.Time { return time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC) },
		Allowlist: allowlist.List{
			{Tool: "teamviewer", Signer: "TeamViewer Germany GmbH", Path: "/opt/teamviewer/*", Owner: "it", Reason: "helpdesk", Expires: allowlist.Date{Time: d}},
			{Tool: "anydesk", Hosts: []string{"*"}, Owner: "bob", Reason: "trial", Expires: allowlist.Date{Time: old}},
		},
		Instances: []Instance{{Name: "t", Timeout: time.Second, Detector: funcDetector(func(context.Context, Env) ([]report.Finding, error) {
			return []report.Finding{
				finding("teamviewer", "/opt/teamviewer/tv_bin", report.SeverityMedium),
				finding("teamviewer", "/tmp/tv_bin", report.SeverityMedium),
				// The signer is claimed, not proven: never allowed.
				withSignature(finding("teamviewer", "/opt/teamviewer/tv_bin", report.SeverityMedium), "invalid"),
				withSignature(finding("teamviewer", "/opt/teamviewer/tv_bin", report.SeverityMedium), "unverified"),
				withSignature(finding("teamviewer", "/opt/teamviewer/tv_bin", report.SeverityMedium), "untrusted"),
				withSignature(finding("teamviewer", "/opt/teamviewer/tv_bin", report.SeverityMedium), ""),
				finding("anydesk", "/usr/bin/anydesk", report.SeverityMedium),
			}, nil
		})}},
	}
	fs, errs := r.Run(context.Background(), snapshot(t))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var allowed, expiredNote, expiredFinding int
	for _, f := range fs {
		if f.Allowed {
			allowed++
			if f.Severity != report.SeverityInfo || f.Evidence["path"] != "/opt/teamviewer/tv_bin" {
				t.Errorf("wrong finding allowed: %+v", f)
			}
		}
		if _, ok := f.Evidence["allowlist_expired"]; ok {
			expiredNote++
			if f.Allowed || f.Severity != report.SeverityMedium {
				t.Errorf("expired entry still applied: %+v", f)
			}
		}
		if f.Rule == "agent.allowlist.expired" {
			expiredFinding++
			if f.Tool != "anydesk" || f.Category != report.CategoryAgent {
				t.Errorf("expired finding wrong: %+v", f)
			}
		}
	}
	if allowed != 1 || expiredNote != 1 || expiredFinding != 1 {
		t.Fatalf("allowed=%d expiredNote=%d expiredFinding=%d, want 1 each: %+v", allowed, expiredNote, expiredFinding, fs)
	}
}
