package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect"
	_ "github.com/farmwatch/farmwatch/internal/detect/all"
	"github.com/farmwatch/farmwatch/internal/report"
)

type testSettings struct {
	Threshold int      `yaml:"threshold"`
	Names     []string `yaml:"names"`
}

type nopDetector struct{ s testSettings }

func (nopDetector) Detect(context.Context, detect.Env) ([]report.Finding, error) { return nil, nil }

func init() {
	detect.Register(detect.Registration{
		Name:        "cfgtest",
		NewSettings: func() any { return &testSettings{Threshold: 7} },
		New:         func(s any) (detect.Detector, error) { return nopDetector{*s.(*testSettings)}, nil },
	})
}

const good = `log:
  level: debug
detectors:
  cfgtest:
    enabled: true
    timeout: 5s
    settings:
      threshold: 3
      names: [a, b]
allowlist:
  - tool: teamviewer
    signer: TeamViewer Germany GmbH
    owner: it@example.com
    reason: helpdesk
    expires: 2027-01-31
`

func TestParseGood(t *testing.T) {
	cfg, err := Parse("good.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log.Level != "debug" || len(cfg.Allowlist) != 1 || cfg.Allowlist[0].Expires.Format("2006-01-02") != "2027-01-31" {
		t.Fatalf("parsed wrong: %+v", cfg)
	}
	ins, err := cfg.Instances()
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, in := range ins {
		if in.Name == "cfgtest" {
			found = true
			if in.Timeout != 5*time.Second {
				t.Errorf("timeout %v", in.Timeout)
			}
			if s := in.Detector.(nopDetector).s; s.Threshold != 3 || len(s.Names) != 2 {
				t.Errorf("settings %+v", s)
			}
		}
	}
	if !found {
		t.Fatal("cfgtest detector not instantiated")
	}
}

func TestDefaultsAndDisable(t *testing.T) {
	cfg, err := Parse("d.yaml", []byte("detectors:\n  cfgtest:\n    enabled: false\n"))
	if err != nil {
		t.Fatal(err)
	}
	ins, _ := cfg.Instances()
	for _, in := range ins {
		if in.Name == "cfgtest" {
			t.Fatal("disabled detector instantiated")
		}
	}
	cfg, _ = Parse("e.yaml", nil)
	ins, _ = cfg.Instances()
	for _, in := range ins {
		if in.Name == "cfgtest" && in.Detector.(nopDetector).s.Threshold != 7 {
			t.Fatal("default settings not applied")
		}
	}
}

func TestErrorsNameFileLineKey(t *testing.T) {
	cases := []struct {
		name, yaml string
		line       int
		key, msg   string
	}{
		{"unknown top key", "log:\n  level: info\nbogus: 1\n", 3, "bogus", "unknown key"},
		{"unknown nested key", "log:\n  level: info\n  colour: red\n", 3, "log.colour", "unknown key"},
		{"wrong type", "detectors:\n  cfgtest:\n    timeout: soon\n", 3, "detectors.cfgtest.timeout", "wrong type"},
		{"unknown detector", "detectors:\n  nosuch:\n    enabled: true\n", 2, "detectors.nosuch", "unknown detector"},
		{"settings unknown key", "detectors:\n  cfgtest:\n    settings:\n      threshold: 1\n      colour: red\n", 5, "detectors.cfgtest.settings.colour", "unknown key"},
		{"settings wrong type", "detectors:\n  cfgtest:\n    settings:\n      threshold: many\n", 4, "detectors.cfgtest.settings.threshold", "wrong type"},
		{"allowlist incomplete", "allowlist:\n  - tool: anydesk\n    hosts: ['*']\n    owner: me\n    expires: 2027-01-01\n", 2, "allowlist[0]", "reason is required"},
		{"bad date", "allowlist:\n  - tool: anydesk\n    hosts: ['*']\n    owner: me\n    reason: r\n    expires: tomorrow\n", 6, "", "date"},
		{"bad level", "log:\n  level: loud\n", 2, "log.level", "unknown level"},
		{"trusted root missing", "code_signing:\n  trusted_roots: [/nonexistent/root.pem]\n", 1, "code_signing.trusted_roots", "no such file"},
		{"trusted root not PEM", "code_signing:\n  trusted_roots: [config_test.go]\n", 1, "code_signing.trusted_roots", "no PEM certificate"},
		{"syntax", "log: [\n", 0, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("farm.yaml", []byte(c.yaml))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("want *Error, got %v", err)
			}
			if ce.File != "farm.yaml" || !strings.HasPrefix(err.Error(), "farm.yaml") {
				t.Errorf("error does not name the file: %v", err)
			}
			if c.line > 0 && ce.Line != c.line {
				t.Errorf("line %d, want %d: %v", ce.Line, c.line, err)
			}
			if c.key != "" && ce.Key != c.key {
				t.Errorf("key %q, want %q: %v", ce.Key, c.key, err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("message %q lacks %q", err.Error(), c.msg)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
	if err == nil || !strings.Contains(err.Error(), "none.yaml") {
		t.Fatalf("missing file error: %v", err)
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	data, err := os.ReadFile("../../packaging/farmwatch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse("packaging/farmwatch.yaml", data); err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("detectors:\n  cfgtest:\n    settings:\n      threshold: [1\n"))
	f.Add([]byte("allowlist:\n  - {tool: x, hosts: ['['], owner: o, reason: r, expires: 2020-01-01}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data)
		if err == nil {
			if _, err := cfg.Instances(); err != nil {
				var ce *Error
				if !errors.As(err, &ce) && !strings.Contains(err.Error(), "detector") {
					t.Fatalf("unexpected error type: %v", err)
				}
			}
		}
	})
}

func TestCodeSigningTrustedRoots(t *testing.T) {
	c, err := Parse("farm.yaml", []byte("code_signing:\n  trusted_roots: [../source/macho/apple-root-ca.pem]\n"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := c.CodeSigning.Trust()
	if err != nil {
		t.Fatal(err)
	}
	// The embedded Apple root plus the configured file (the same root).
	if len(tr.Roots) != 2 || tr.Roots[1].Subject.CommonName != "Apple Root CA" {
		t.Fatalf("roots %v", tr.Roots)
	}
}
