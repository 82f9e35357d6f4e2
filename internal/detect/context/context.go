// Package hostcontext is farmwatch's "context" detector: human-factor tells
// that a laptop is operated by someone other than the employee it was issued
// to. It reads the time zone, locale, keyboard layouts and installed input
// methods and compares them with the expected region in its settings; keeps
// a per-hour histogram of user activity (from idle time only, never
// keystrokes) and reports when the active hours match business hours of a
// far-away time zone; and reports active remote sessions (RDP, macOS Screen
// Sharing / Remote Management, xrdp/VNC). See docs/context.md.
package hostcontext

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/region"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
	"github.com/farmwatch/farmwatch/packaging"
)

// Name is the detector's registry name.
const Name = "context"

// Region is where the laptop's user is expected to be (internal/region).
type Region = region.Region

// Settings configure the detector (config key "context").
type Settings struct {
	// ExpectedRegion; when unset the detector reports facts at info only.
	ExpectedRegion Region `yaml:"expected_region"`
	// StateDir holds the activity histogram (default: the agent's state
	// directory).
	StateDir string `yaml:"state_dir"`
	// ActiveIdleMinutes: a sample counts as active when the user's idle
	// time is below this (default 10).
	ActiveIdleMinutes int `yaml:"active_idle_minutes"`
	// MinActiveSamples: active hour-samples needed before activity hours
	// are judged (default 40).
	MinActiveSamples int `yaml:"min_active_samples"`
}

// DefaultSettings returns the defaults.
func DefaultSettings() *Settings {
	return &Settings{ActiveIdleMinutes: 10, MinActiveSamples: 40}
}

func init() {
	detect.Register(detect.Registration{
		Name:            Name,
		Description:     "time zone, locale, keyboard layouts and input methods vs the expected region; activity hours; active remote sessions",
		DefaultTimeout:  20 * time.Second,
		DefaultInterval: 10 * time.Minute,
		NewSettings:     func() any { return DefaultSettings() },
		New:             func(s any) (detect.Detector, error) { return New(*s.(*Settings)) },
		Collect:         Collect,
	})
}

// Detector is the context detector.
type Detector struct{ settings Settings }

var _ detect.Detector = (*Detector)(nil)

// New builds a detector.
func New(s Settings) (*Detector, error) {
	if s.ActiveIdleMinutes <= 0 {
		s.ActiveIdleMinutes = 10
	}
	if s.MinActiveSamples <= 0 {
		s.MinActiveSamples = 40
	}
	return &Detector{settings: s}, nil
}

// defaultStateDir is the agent's state directory (config.StateDir).
func defaultStateDir() string { return packaging.StateDir(runtime.GOOS) }

// Detect implements detect.Detector.
func (d *Detector) Detect(ctx context.Context, env detect.Env) ([]report.Finding, error) {
	src := env.Source
	log := env.Logger
	if log == nil {
		log = zap.NewNop()
	}
	now := env.Now
	if now.IsZero() {
		now = time.Now()
	}
	procs, perr := src.Processes(ctx)
	conns, cerr := src.Connections(ctx)
	if cerr != nil {
		log.Warn("connections_unavailable", zap.Error(cerr))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	facts, ferr := readFacts(ctx, src)
	var hist *Histogram
	var herr error
	if src.Snapshot() {
		hist, herr = loadHistogram(filepath.Join(src.Root(), FileActivity))
	} else {
		dir := d.settings.StateDir
		if dir == "" {
			dir = defaultStateDir()
		}
		path := filepath.Join(dir, FileActivity)
		hist, herr = loadHistogram(path)
		if hist == nil {
			hist = &Histogram{}
		}
		if facts.Idle != nil {
			active := *facts.Idle < time.Duration(d.settings.ActiveIdleMinutes)*time.Minute
			if hist.Add(now, active) {
				if err := saveHistogram(path, hist); err != nil {
					log.Debug("activity_state_not_saved", zap.Error(err))
				}
			}
		}
		if herr != nil {
			log.Debug("activity_state_unreadable", zap.Error(herr))
			herr = nil
		}
	}
	in := input{hostID: env.Host.ID, hostOS: src.Host().OS, facts: facts, hist: hist, procs: procs, conns: conns}
	return decide(in, &d.settings), errors.Join(perr, cerr, ferr, herr)
}

// readFacts reads the host's facts: live through the per-OS seam
// (context_<os>.go), snapshots from their files; the same parsers run.
func readFacts(ctx context.Context, src source.Source) (*Facts, error) {
	root := src.Root()
	switch src.Host().OS {
	case "linux":
		f, err := readLinuxFacts(root)
		if !src.Snapshot() {
			f.Idle = liveIdle(ctx, root, f)
		}
		return f, err
	case "darwin":
		f, err := readDarwinFacts(root)
		if !src.Snapshot() {
			f.Idle = liveIdle(ctx, root, f)
		}
		return f, err
	case "windows":
		var b []byte
		var err error
		if src.Snapshot() {
			b, err = os.ReadFile(filepath.Join(root, FileWindows))
			if errors.Is(err, os.ErrNotExist) {
				return &Facts{OS: "windows"}, nil
			}
		} else {
			b, err = liveWindowsJSON(ctx)
		}
		if b == nil {
			return &Facts{OS: "windows"}, err
		}
		wc, perr := parseWindowsContext(b)
		if perr != nil {
			return &Facts{OS: "windows"}, errors.Join(err, perr)
		}
		f := wc.Facts()
		if !src.Snapshot() && wc.IdleSeconds != nil && *wc.IdleSeconds >= 0 {
			d := time.Duration(*wc.IdleSeconds) * time.Second
			f.Idle = &d
		}
		return f, err
	}
	return &Facts{OS: src.Host().OS}, nil
}
