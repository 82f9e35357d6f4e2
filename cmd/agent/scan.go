package main

import (
	"context"
	"fmt"
	"io"

	"github.com/farmwatch/farmwatch/internal/config"
	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

func init() {
	commands["scan"] = command{summary: "scan this host (or a snapshot) once and print findings", run: runScan}
}

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("scan", stderr)
	format := fs.String("format", "table", "output format: table, json (one JSON object per line) or ocsf (OCSF Detection Finding JSON Lines)")
	snapshot := fs.String("snapshot", "", "analyse a snapshot directory recorded by 'collect' instead of this host")
	cfgPath := fs.String("config", "", "YAML config file")
	failOn := fs.String("fail-on", "", "exit 3 when a finding at or above this severity (info|low|medium|high|critical) is present")
	root := fs.String("root", "", "read live OS trees (/proc, /sys) under this directory instead of /")
	logLevel := fs.String("log-level", "", "log level on stderr (debug, info, warn, error; default warn)")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	f, err := report.ParseFormat(*format)
	if err != nil {
		return usageError{err}
	}
	var threshold report.Severity
	if *failOn != "" {
		if threshold, err = report.ParseSeverity(*failOn); err != nil {
			return usageError{fmt.Errorf("--fail-on: %w", err)}
		}
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	level := *logLevel
	if level == "" && *cfgPath != "" {
		level = cfg.Log.Level
	}
	log := newLogger(level, stderr)
	defer func() { _ = log.Sync() }()

	if err := applyCodeSigning(cfg); err != nil {
		return err
	}
	src, err := openSource(ctx, *snapshot, *root)
	if err != nil {
		return err
	}
	instances, err := cfg.Instances()
	if err != nil {
		return usageError{err}
	}
	runner := &detect.Runner{Instances: instances, Allowlist: cfg.Allowlist, Logger: log}
	findings, errs := runner.Run(ctx, src)
	// Print what was found even when a detector failed: nothing collected is lost.
	if err := writeFindings(stdout, f, findings); err != nil {
		return err
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d detector(s) failed:\n  %s", len(errs), joinErrors(errs))
	}
	if *failOn != "" {
		if max, ok := report.MaxSeverity(findings); ok && max >= threshold {
			return severityExit{fmt.Sprintf("found a %s finding (--fail-on %s)", max, threshold)}
		}
	}
	return nil
}

// openSource opens a snapshot directory or the live host.
func openSource(ctx context.Context, snapshot, root string) (source.Source, error) {
	if snapshot != "" {
		if root != "" {
			return nil, usageError{fmt.Errorf("--snapshot and --root cannot be combined")}
		}
		s, err := source.OpenSnapshot(snapshot)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, err := source.NewLive(ctx, root)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// applyCodeSigning makes the live sources check signatures against the
// configured roots (code_signing.trusted_roots) as well as the OS store and
// the embedded Apple root.
func applyCodeSigning(cfg *config.Config) error {
	t, err := cfg.CodeSigning.Trust()
	if err != nil {
		return usageError{err}
	}
	source.SetCodeSigningTrust(t)
	return nil
}
