// Package pipeline is the agent's reporting pipeline: findings from any
// producer are de-duplicated, written to the local JSON Lines outputs, and
// spooled (fsync'd) for each network output — the collector and syslog —
// whose senders deliver them at least once. Heartbeats travel the same path.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/report/deliver"
	"github.com/farmwatch/farmwatch/internal/report/ocsf"
	"github.com/farmwatch/farmwatch/internal/report/spool"
	"github.com/farmwatch/farmwatch/internal/source"
)

// Config selects and configures outputs.
type Config struct {
	// Stdout writes findings as JSON Lines to standard output.
	Stdout bool `yaml:"stdout"`
	// File appends findings as JSON Lines to this file (fsync'd).
	File string `yaml:"file"`
	// Format of the stdout and file outputs: "json" (the finding schema,
	// default) or "ocsf" (OCSF Detection Finding, class 2004).
	Format string `yaml:"format"`
	// ReportEvery is how often a still-present finding is sent again as
	// an update (same id, count and last_seen advanced; default 60 s);
	// repeats in between are only counted.
	ReportEvery time.Duration `yaml:"report_every"`
	// DedupWindow is the former name of ReportEvery, used when ReportEvery
	// is unset.
	DedupWindow time.Duration `yaml:"dedup_window"`
	// HeartbeatInterval (default 60 s).
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	// SpoolDir holds one spool per network output.
	SpoolDir string `yaml:"spool_dir"`
	// SpoolMaxBytes caps each spool (default 256 MiB).
	SpoolMaxBytes int64                    `yaml:"spool_max_bytes"`
	Collector     *deliver.CollectorConfig `yaml:"collector"`
	Syslog        *deliver.SyslogConfig    `yaml:"syslog"`
}

// Pipeline fans findings out to outputs.
type Pipeline struct {
	cfg     Config
	log     *zap.Logger
	dedup   *report.Deduper
	stdout  io.Writer
	version string
	file    *os.File
	mu      sync.Mutex
	senders []*deliver.Sender
	spools  []*spool.Spool
}

// New opens the configured outputs. stdout is where Stdout writes.
func New(cfg Config, host report.Host, agentVersion string, stdout io.Writer, log *zap.Logger) (*Pipeline, error) {
	if log == nil {
		log = zap.NewNop()
	}
	if err := ValidateFormat(cfg.Format); err != nil {
		return nil, err
	}
	p := &Pipeline{cfg: cfg, log: log, dedup: report.NewDeduper(cfg.UpdateInterval()), version: agentVersion}
	if cfg.Stdout {
		p.stdout = stdout
	}
	if cfg.File != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.File), 0o750); err != nil {
			return nil, fmt.Errorf("findings file: %w", err)
		}
		f, err := os.OpenFile(cfg.File, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return nil, fmt.Errorf("findings file: %w", err)
		}
		p.file = f
	}
	var transports []deliver.Transport
	if cfg.Collector != nil && cfg.Collector.URL != "" {
		c, err := deliver.NewCollector(*cfg.Collector, host, agentVersion)
		if err != nil {
			p.Close()
			return nil, err
		}
		transports = append(transports, c)
	}
	if cfg.Syslog != nil && cfg.Syslog.Address != "" {
		s, err := deliver.NewSyslog(*cfg.Syslog, host.Name, agentVersion)
		if err != nil {
			p.Close()
			return nil, err
		}
		transports = append(transports, s)
	}
	if len(transports) > 0 && cfg.SpoolDir == "" {
		p.Close()
		return nil, errors.New("report.spool_dir is required with a collector or syslog output")
	}
	for _, t := range transports {
		sp, err := spool.Open(filepath.Join(cfg.SpoolDir, t.Name()), cfg.SpoolMaxBytes)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.spools = append(p.spools, sp)
		p.senders = append(p.senders, &deliver.Sender{Spool: sp, Transport: t, Logger: log})
	}
	return p, nil
}

// SetNetwork gives the collector output the reader of the network this host
// is attached to (see deliver.Collector.Network). Call before the senders run.
func (p *Pipeline) SetNetwork(fn func(ctx context.Context) (source.Network, error)) {
	for _, s := range p.senders {
		if c, ok := s.Transport.(*deliver.Collector); ok {
			c.Network = fn
		}
	}
}

// ValidateFormat accepts the report.format values: "", "json" or "ocsf".
func ValidateFormat(f string) error {
	switch f {
	case "", "json", "ocsf":
		return nil
	}
	return fmt.Errorf("report.format: unknown format %q (want json or ocsf)", f)
}

// writeLines writes findings in the configured line format.
func (p *Pipeline) writeLines(w io.Writer, fs []report.Finding) error {
	if p.cfg.Format == "ocsf" {
		return ocsf.WriteLines(w, fs, p.version)
	}
	return report.WriteJSONLines(w, fs)
}

// Senders are the long-running delivery actors (run each under a group).
func (p *Pipeline) Senders() []*deliver.Sender { return p.senders }

// DefaultReportEvery is the default re-report interval of a still-present
// finding.
const DefaultReportEvery = time.Minute

// UpdateInterval is ReportEvery, else DedupWindow, else DefaultReportEvery.
func (c Config) UpdateInterval() time.Duration {
	switch {
	case c.ReportEvery > 0:
		return c.ReportEvery
	case c.DedupWindow > 0:
		return c.DedupWindow
	}
	return DefaultReportEvery
}

// Submit de-duplicates findings and hands them to every output. It returns
// only after the network outputs' spools hold them on disk.
func (p *Pipeline) Submit(fs []report.Finding) error {
	return p.write(p.dedup.Filter(fs))
}

// SubmitRun is Submit for one run of a detector: besides the run's new and
// updated findings it sends, marked ended, the detector's earlier findings
// that stopped being seen (complete: the run covered everything the
// detector looks at, so a finding missing from it counts as missed).
func (p *Pipeline) SubmitRun(detector string, fs []report.Finding, complete bool) error {
	out := p.dedup.Filter(fs)
	ids := make([]string, len(fs))
	for i := range fs {
		ids[i] = fs[i].ID
	}
	return p.write(append(out, p.dedup.Sweep(detector, ids, complete)...))
}

func (p *Pipeline) write(fs []report.Finding) error {
	if len(fs) == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	if p.stdout != nil {
		if err := p.writeLines(p.stdout, fs); err != nil {
			errs = append(errs, err)
		}
	}
	if p.file != nil {
		if err := p.writeLines(p.file, fs); err != nil {
			errs = append(errs, err)
		} else if err := p.file.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("sync findings file: %w", err))
		}
	}
	recs := make([][]byte, 0, len(fs))
	for i := range fs {
		b, err := deliver.Encode(report.Item{Kind: report.KindFinding, Finding: &fs[i]})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		recs = append(recs, b)
	}
	errs = append(errs, p.spoolAll(recs))
	return errors.Join(errs...)
}

// Heartbeat spools a heartbeat for the network outputs, filling spool stats.
func (p *Pipeline) Heartbeat(hb report.Heartbeat) error {
	st := p.SpoolStats()
	hb.SpoolBytes, hb.SpoolDropped, hb.SpoolPending = st.Bytes, st.Dropped, int64(st.Pending)
	for _, sp := range p.spools {
		n, err := sp.PendingBytes()
		if err != nil {
			p.log.Warn("spool_pending_unknown", zap.Error(err))
		}
		hb.SpoolPendingBytes += n
	}
	b, err := deliver.Encode(report.Item{Kind: report.KindHeartbeat, Heartbeat: &hb})
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.spoolAll([][]byte{b})
}

func (p *Pipeline) spoolAll(recs [][]byte) error {
	if len(recs) == 0 {
		return nil
	}
	var errs []error
	for _, sp := range p.spools {
		if _, err := sp.Append(recs...); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// SpoolStats sums the spools' sizes and drops.
func (p *Pipeline) SpoolStats() spool.Stats {
	var total spool.Stats
	for _, sp := range p.spools {
		st := sp.Stats()
		total.Bytes += st.Bytes
		total.Dropped += st.Dropped
		total.Pending += st.Pending
	}
	return total
}

// Drain waits until the network outputs delivered everything spooled or ctx
// ends (used at shutdown to flush the stop heartbeat).
func (p *Pipeline) Drain(ctx context.Context) {
	for {
		if p.SpoolStats().Pending == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Close closes outputs; safe to call twice.
func (p *Pipeline) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.file != nil {
		_ = p.file.Close()
		p.file = nil
	}
	for _, sp := range p.spools {
		_ = sp.Close()
	}
}
