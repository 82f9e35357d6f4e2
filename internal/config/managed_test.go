package config

import (
	"strings"
	"testing"

	"github.com/farmwatch/farmwatch/internal/report/deliver"
)

const managedXML = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>CollectorURL</key><string>https://collector.example:8443</string>
<key>EnrollSecret</key><string>s3cret</string>
<key>PayloadUUID</key><string>ignored</string>
</dict></plist>`

func TestManagedPlistOverridesFile(t *testing.T) {
	m, err := ParseManagedPlist([]byte(managedXML))
	if err != nil {
		t.Fatal(err)
	}
	if m.CollectorURL != "https://collector.example:8443" || m.EnrollSecret != "s3cret" {
		t.Fatalf("parsed %+v", m)
	}
	cfg, err := Parse("f.yaml", []byte("report:\n  collector:\n    url: https://old.example\n    enroll_secret: old\n  spool_dir: /custom/spool\n"))
	if err != nil {
		t.Fatal(err)
	}
	ApplyManaged(cfg, m)
	c := cfg.Report.Collector
	if c.URL != m.CollectorURL || c.EnrollSecret != "s3cret" || cfg.Report.SpoolDir != "/custom/spool" || !strings.HasSuffix(c.CredentialFile, "credential") {
		t.Fatalf("managed settings not applied: %+v %+v", cfg.Report, c)
	}
	empty := Default()
	ApplyManaged(empty, Managed{})
	if empty.Report.Collector != nil {
		t.Fatal("empty managed settings created a collector output")
	}
	_ = deliver.CollectorConfig{}
}

func TestManagedPlistGarbage(t *testing.T) {
	if _, err := ParseManagedPlist([]byte("<plist><dict><key>CollectorURL</key><integer>5</integer></dict></plist>")); err == nil {
		t.Fatal("wrong type accepted")
	}
}

func FuzzParseManagedPlist(f *testing.F) {
	f.Add([]byte(managedXML))
	f.Add([]byte("bplist00"))
	f.Fuzz(func(t *testing.T, data []byte) { _, _ = ParseManagedPlist(data) })
}
