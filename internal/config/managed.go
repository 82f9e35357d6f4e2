package config

import (
	"fmt"
	"path/filepath"
	"runtime"

	"howett.net/plist"

	"github.com/farmwatch/farmwatch/internal/report/deliver"
	"github.com/farmwatch/farmwatch/packaging"
)

// Managed are settings an MDM pushes outside the config file: on macOS a
// configuration profile (.mobileconfig) for the managed-preferences domain
// com.farmwatch.agent, on Windows the MSI properties COLLECTOR_URL and
// ENROLL_SECRET written to HKLM\SOFTWARE\farmwatch. They override the file.
type Managed struct {
	CollectorURL string `plist:"CollectorURL"`
	EnrollSecret string `plist:"EnrollSecret"`
}

// ParseManagedPlist reads managed settings from a managed-preferences plist
// (XML or binary).
func ParseManagedPlist(data []byte) (Managed, error) {
	var m Managed
	if _, err := plist.Unmarshal(data, &m); err != nil {
		return Managed{}, fmt.Errorf("managed preferences: %w", err)
	}
	return m, nil
}

// ApplyManaged overlays managed settings onto cfg, filling the spool and
// credential locations with the platform defaults when the file left them
// empty.
func ApplyManaged(cfg *Config, m Managed) {
	if m.CollectorURL == "" && m.EnrollSecret == "" {
		return
	}
	if cfg.Report.Collector == nil {
		cfg.Report.Collector = &deliver.CollectorConfig{}
	}
	if m.CollectorURL != "" {
		cfg.Report.Collector.URL = m.CollectorURL
	}
	if m.EnrollSecret != "" {
		cfg.Report.Collector.EnrollSecret = m.EnrollSecret
	}
	state := StateDir()
	if cfg.Report.SpoolDir == "" {
		cfg.Report.SpoolDir = filepath.Join(state, "spool")
	}
	if cfg.Report.Collector.CredentialFile == "" {
		cfg.Report.Collector.CredentialFile = filepath.Join(state, "credential")
	}
}

// StateDir is where the agent keeps its spool and credential by default.
func StateDir() string { return packaging.StateDir(runtime.GOOS) }

// LoadWithManaged loads a config file (defaults when path is "") and
// applies the platform's managed settings.
func LoadWithManaged(path string) (*Config, error) {
	cfg := Default()
	if path != "" {
		var err error
		if cfg, err = Load(path); err != nil {
			return nil, err
		}
	}
	m, err := readManaged()
	if err != nil {
		return nil, err
	}
	ApplyManaged(cfg, m)
	return cfg, nil
}
