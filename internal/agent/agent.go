// Package agent is the running farmwatch agent (`farmwatch-agent run`): a
// scheduler that runs each enabled detector on its interval with jitter
// (once at start, each run under its timeout), hands findings to the
// reporting pipeline, sends heartbeats that tell sleep, wake and stop apart
// from silence, and reloads its configuration on request, keeping the old
// one when the new one is invalid.
package agent

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/process"
	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/config"
	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/detect/network/live"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/report/pipeline"
	"github.com/farmwatch/farmwatch/internal/run"
	"github.com/farmwatch/farmwatch/internal/source"
)

// DefaultMemoryLimit is the Go soft memory limit when GOMEMLIMIT is unset:
// a ceiling the agent stays far below (its live heap is ~5 MiB), not what
// sets its size.
const DefaultMemoryLimit = 48 << 20

// DefaultGCPercent is the GC target when GOGC is unset: the heap may grow
// by half its live size between collections instead of doubling. The
// agent's live heap is small, so the extra collections cost little CPU
// (a handful a minute at idle), and start-up peak RSS drops by ~3 MiB
// (docs/agent.md).
const DefaultGCPercent = 50

// Agent runs detectors and reports until its context ends.
type Agent struct {
	// ConfigPath is reloaded on Reload; "" runs with defaults.
	ConfigPath string
	Root       string
	// Snapshot, when set, replays a recorded host (a `collect` directory)
	// on the schedule instead of reading this one: fixtures, demos,
	// rehearsals of the collector side.
	Snapshot string
	Version  string
	Stdout   io.Writer
	Logger   *zap.Logger
	// Reload delivers reload requests (SIGHUP, config file change).
	Reload <-chan struct{}

	mu      sync.Mutex
	cfg     *config.Config
	runner  *detect.Runner
	health  map[string]report.DetectorHealth
	started time.Time
	serial  string // the machine serial, sent in heartbeats for inventory matching
	live    *liveSet
}

// Run starts the agent and blocks until ctx ends, then stops within the
// run group's stop timeout, sending a final "stop" heartbeat.
func (a *Agent) Run(ctx context.Context) error {
	log := a.Logger
	if log == nil {
		log = zap.NewNop()
	}
	a.Logger = log
	// A soft memory limit unless the service manager set GOMEMLIMIT: the GC
	// works harder instead of letting the heap grow.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(DefaultGCPercent)
	}
	cfg, err := a.load()
	if err != nil {
		return err
	}
	trust, err := cfg.CodeSigning.Trust()
	if err != nil {
		return err
	}
	source.SetCodeSigningTrust(trust)
	var src source.Source
	if a.Snapshot != "" {
		src, err = source.OpenSnapshot(a.Snapshot)
	} else {
		src, err = source.NewLive(ctx, a.Root)
	}
	if err != nil {
		return err
	}
	hi := src.Host()
	host := report.Host{Name: hi.Hostname, ID: hi.HostID}
	a.serial = hi.Serial
	stdout := a.Stdout
	if stdout == nil {
		stdout = os.Stdout
	}
	pl, err := pipeline.New(cfg.Report, host, a.Version, stdout, log)
	if err != nil {
		return fmt.Errorf("reporting pipeline: %w", err)
	}
	defer pl.Close()
	pl.SetNetwork(func(ctx context.Context) (source.Network, error) { return source.ReadNetwork(ctx, src) })
	a.started = time.Now()
	a.health = map[string]report.DetectorHealth{}

	g := run.NewGroup(ctx, log)
	sendCtx, stopSenders := context.WithCancel(context.Background())
	senders := run.NewGroup(sendCtx, log)
	for _, s := range pl.Senders() {
		senders.Go("sender-"+s.Transport.Name(), s.Run)
	}
	fired := make(chan string, 16)
	lv := &liveSet{agent: a, ctx: ctx, src: src, host: host, pl: pl, fired: fired, running: map[string]*liveActor{}}
	lv.apply(cfg)
	a.live = lv
	g.Go("scheduler", func(ctx context.Context) error { return a.schedule(ctx, src, pl, fired) })
	g.Go("heartbeat", func(ctx context.Context) error { return a.heartbeats(ctx, pl, cfg.Report.HeartbeatInterval) })
	log.Info("agent_started", zap.String("version", a.Version), zap.String("host", host.Name), zap.Int("detectors", len(a.runnerSnapshot().Instances)))
	err = g.Wait()
	lv.stopAll()

	// Final heartbeat, flushed for a bounded time, then the senders stop.
	if herr := pl.Heartbeat(a.heartbeat(report.EventStop, 0, cfg.Report.HeartbeatInterval)); herr != nil {
		log.Warn("stop_heartbeat_failed", zap.Error(herr))
	}
	flush, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	pl.Drain(flush)
	cancel()
	stopSenders()
	_ = senders.Wait()
	log.Info("agent_stopped")
	if err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// reload reads the config again and applies it: detector settings,
// intervals and the allowlist at once (streaming detectors and triggers whose
// settings changed are restarted, disabled ones stopped); settings that need
// a restart are named in a log line and keep their old values. An invalid
// config is rejected and the old one kept.
func (a *Agent) reload(next map[string]time.Time) {
	old := a.config()
	cfg, err := a.load()
	if err != nil {
		a.Logger.Error("config_reload_rejected", zap.String("config", a.ConfigPath), zap.Error(err))
		return
	}
	enabled := map[string]bool{}
	for _, in := range a.runnerSnapshot().Instances {
		enabled[in.Name] = true
		if old == nil || old.DetectorKey(in.Name) != cfg.DetectorKey(in.Name) {
			next[in.Name] = time.Now() // run at once with the new settings
		}
	}
	a.mu.Lock()
	for name := range a.health {
		if !enabled[name] {
			delete(a.health, name) // disabled: heartbeats stop naming it
		}
	}
	a.mu.Unlock()
	if a.live != nil {
		a.live.apply(cfg)
	}
	if old != nil {
		if keys := old.RestartSettings(cfg); len(keys) > 0 {
			a.Logger.Warn("config_reload_needs_restart", zap.Strings("settings", keys),
				zap.String("config", a.ConfigPath), zap.String("detail", "these settings keep their old values until the agent restarts"))
		}
		// The running agent still uses the old ones: a later reload
		// compares against what runs, so it names them again.
		a.mu.Lock()
		cfg.Log, cfg.Report = old.Log, old.Report
		a.mu.Unlock()
	}
	a.Logger.Info("config_reloaded", zap.String("config", a.ConfigPath))
}

func (a *Agent) config() *config.Config {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cfg
}

// load reads the config and builds a runner from it.
func (a *Agent) load() (*config.Config, error) {
	cfg, err := config.LoadWithManaged(a.ConfigPath)
	if err != nil {
		return nil, err
	}
	ins, err := cfg.Instances()
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.cfg = cfg
	a.runner = &detect.Runner{Instances: ins, Allowlist: cfg.Allowlist, Logger: a.Logger}
	a.mu.Unlock()
	return cfg, nil
}

func (a *Agent) runnerSnapshot() *detect.Runner {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.runner
}

// schedule runs every detector once at start, then each on its interval
// with ±10 % jitter, one at a time, and at once when its trigger fires.
func (a *Agent) schedule(ctx context.Context, src source.Source, pl *pipeline.Pipeline, fired <-chan string) error {
	next := map[string]time.Time{}
	for {
		r := a.runnerSnapshot()
		now := time.Now()
		var due *detect.Instance
		wake := now.Add(time.Hour)
		for i := range r.Instances {
			in := &r.Instances[i]
			if _, streams := in.Detector.(detect.Streamer); streams {
				continue // runs continuously, not on a schedule
			}
			t, ok := next[in.Name]
			if !ok {
				t = now // run once at start (and when newly enabled)
				next[in.Name] = t
			}
			if !t.After(now) && due == nil {
				due = in
			}
			if t.Before(wake) {
				wake = t
			}
		}
		if due != nil {
			one := &detect.Runner{Instances: []detect.Instance{*due}, Allowlist: r.Allowlist, Logger: r.Logger}
			fs, errs := one.Run(ctx, src)
			h := report.DetectorHealth{OK: len(errs) == 0, LastRun: time.Now().UTC()}
			if len(errs) > 0 {
				h.Error = errs[0].Error()
			}
			a.setHealth(due.Name, h)
			if err := pl.SubmitRun(due.Name, fs, len(errs) == 0); err != nil {
				a.Logger.Error("report_failed", zap.String("detector", due.Name), zap.Error(err))
			}
			next[due.Name] = time.Now().Add(jitter(due.Interval))
			// Between runs the agent idles for seconds to minutes: hand the
			// scan's garbage back to the OS so idle RSS stays small.
			debug.FreeOSMemory()
			continue
		}
		timer := time.NewTimer(time.Until(wake))
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-a.Reload:
			timer.Stop()
			a.reload(next)
		case name := <-fired:
			timer.Stop()
			a.Logger.Debug("detector_triggered", zap.String("detector", name))
			next[name] = time.Now()
		case <-timer.C:
		}
	}
}

func (a *Agent) setHealth(name string, h report.DetectorHealth) {
	a.mu.Lock()
	a.health[name] = h
	a.mu.Unlock()
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		d = time.Minute
	}
	return d - d/10 + time.Duration(rand.Int64N(int64(d)/5+1))
}

// heartbeats sends one heartbeat at start and then every interval. A gap
// between wall-clock and monotonic time larger than the interval means the
// machine slept: the next heartbeat says "wake" and for how long.
func (a *Agent) heartbeats(ctx context.Context, pl *pipeline.Pipeline, interval time.Duration) error {
	if interval <= 0 {
		interval = time.Minute
	}
	send := func(event string, slept time.Duration) {
		if err := pl.Heartbeat(a.heartbeat(event, slept, interval)); err != nil {
			a.Logger.Error("heartbeat_failed", zap.Error(err))
		}
	}
	send("", 0)
	last := time.Now()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-t.C:
			wall := now.Round(0).Sub(last.Round(0))
			mono := now.Sub(last)
			last = now
			if slept := wall - mono; slept > interval {
				send(report.EventWake, slept)
				continue
			}
			send("", 0)
		}
	}
}

var self struct {
	sync.Mutex
	proc     *process.Process
	lastCPU  float64
	lastTime time.Time
}

// heartbeat builds a heartbeat with the agent's own CPU and memory use.
func (a *Agent) heartbeat(event string, slept, interval time.Duration) report.Heartbeat {
	a.mu.Lock()
	health := make(map[string]report.DetectorHealth, len(a.health))
	for k, v := range a.health {
		health[k] = v
	}
	a.mu.Unlock()
	hb := report.Heartbeat{
		Time: time.Now().UTC(), AgentVersion: a.Version, UptimeSeconds: int64(time.Since(a.started).Seconds()),
		IntervalSeconds: int64(interval.Seconds()), Detectors: health, Event: event, SleptSeconds: int64(slept.Seconds()),
	}
	hb.Serial = a.serial
	hb.CPUPercent, hb.RSSBytes = selfUsage()
	hb.Capture = live.Running()
	return hb
}

// selfUsage returns the agent's CPU use since the previous call (percent of
// one core) and its resident memory.
func selfUsage() (float64, uint64) {
	self.Lock()
	defer self.Unlock()
	if self.proc == nil {
		p, err := process.NewProcess(int32(os.Getpid()))
		if err != nil {
			return 0, 0
		}
		self.proc = p
	}
	var rss uint64
	if mi, err := self.proc.MemoryInfo(); err == nil {
		rss = mi.RSS
	}
	ts, err := self.proc.Times()
	if err != nil {
		return 0, rss
	}
	cpu := ts.User + ts.System
	now := time.Now()
	pct := 0.0
	if !self.lastTime.IsZero() {
		if el := now.Sub(self.lastTime).Seconds(); el > 0 {
			pct = 100 * (cpu - self.lastCPU) / el
		}
	}
	self.lastCPU, self.lastTime = cpu, now
	return pct, rss
}

// Notify spools a one-off heartbeat event (uninstall) with the given config's
// outputs and tries to deliver it for at most wait. The uninstalling host
// tells the collector it is going away, so its silence is not mistaken for
// a laptop that slept.
func Notify(ctx context.Context, cfgPath, root, version, event string, wait time.Duration, log *zap.Logger) error {
	if log == nil {
		log = zap.NewNop()
	}
	cfg, err := config.LoadWithManaged(cfgPath)
	if err != nil {
		return err
	}
	src, err := source.NewLive(ctx, root)
	if err != nil {
		return err
	}
	hi := src.Host()
	pl, err := pipeline.New(cfg.Report, report.Host{Name: hi.Hostname, ID: hi.HostID}, version, io.Discard, log)
	if err != nil {
		return err
	}
	defer pl.Close()
	if len(pl.Senders()) == 0 {
		return nil
	}
	a := &Agent{Version: version, started: time.Now()}
	if err := pl.Heartbeat(a.heartbeat(event, 0, cfg.Report.HeartbeatInterval)); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	g := run.NewGroup(ctx, log)
	for _, s := range pl.Senders() {
		g.Go("sender-"+s.Transport.Name(), s.Run)
	}
	g.Go("drain", func(ctx context.Context) error { pl.Drain(ctx); return nil })
	_ = g.Wait()
	if st := pl.SpoolStats(); st.Pending > 0 {
		return fmt.Errorf("%s event not delivered within %s (%d items still spooled)", event, wait, st.Pending)
	}
	return nil
}
