// Package detect holds the detector registry and the runner that executes
// detectors against a host source, each under its own timeout, and applies
// the sanctioned-tool allowlist to what they find. Detectors live in their
// own packages under internal/detect/ and register themselves in init().
package detect

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/allowlist"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/source"
)

// Detector decides findings from what a source shows. Detect must honour
// ctx: the runner cancels it at the detector's timeout.
type Detector interface {
	Detect(ctx context.Context, env Env) ([]report.Finding, error)
}

// Streamer is a detector that watches continuously (live traffic). The
// running agent calls Stream for its whole life instead of scheduling
// Detect; what it emits gets the same post-processing as Detect's findings.
// Stream returns when ctx ends, or an error when it cannot watch here.
type Streamer interface {
	Stream(ctx context.Context, env Env, emit func([]report.Finding)) error
}

// Env is what a detector run gets.
type Env struct {
	Source source.Source
	Host   report.Host
	Logger *zap.Logger
	Now    time.Time
}

// Registration describes a detector to the registry.
type Registration struct {
	// Name is the detector's id: its folder name, its config key and the
	// "detector" field of its findings.
	Name        string
	Description string
	// DefaultTimeout bounds one run unless config overrides it.
	DefaultTimeout time.Duration
	// DefaultInterval is how often the running agent runs it (default 60 s).
	DefaultInterval time.Duration
	// DisabledByDefault detectors run only when config enables them.
	DisabledByDefault bool
	// NewSettings returns a pointer to the detector's settings filled with
	// defaults, into which config decodes; nil when it has none.
	NewSettings func() any
	// New builds a detector from its (decoded) settings.
	New func(settings any) (Detector, error)
	// Collect records the raw host sources this detector reads into a
	// snapshot directory (`farmwatch-agent collect`); nil when the generic
	// process/connection/service files are all it needs.
	Collect func(ctx context.Context, src source.Source, dir string) error
	// Trigger, when set, runs for the life of the agent and calls fire
	// whenever the detector should run at once (hardware: a device was
	// plugged in). It returns when ctx ends, or an error when the OS gives
	// no such events (the detector then runs on its interval only).
	Trigger func(ctx context.Context, fire func()) error
}

var (
	regMu    sync.Mutex
	registry = map[string]Registration{}
)

// Register adds a detector; it panics on a programming error (duplicate or
// incomplete registration) at init time.
func Register(r Registration) {
	regMu.Lock()
	defer regMu.Unlock()
	if r.Name == "" || r.New == nil {
		panic("detect: registration needs Name and New")
	}
	if _, dup := registry[r.Name]; dup {
		panic("detect: duplicate registration " + r.Name)
	}
	if r.DefaultTimeout == 0 {
		r.DefaultTimeout = 30 * time.Second
	}
	if r.DefaultInterval == 0 {
		r.DefaultInterval = time.Minute
	}
	registry[r.Name] = r
}

// Lookup returns a registration by name.
func Lookup(name string) (Registration, bool) {
	regMu.Lock()
	defer regMu.Unlock()
	r, ok := registry[name]
	return r, ok
}

// All returns every registration sorted by name.
func All() []Registration {
	regMu.Lock()
	defer regMu.Unlock()
	out := make([]Registration, 0, len(registry))
	for _, r := range registry {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Instance is a configured detector ready to run.
type Instance struct {
	Name     string
	Timeout  time.Duration
	Interval time.Duration
	Detector Detector
}

// Error is one detector's failure. Findings the detector returned before
// failing are kept.
type Error struct {
	Detector string
	Err      error
}

func (e *Error) Error() string { return fmt.Sprintf("detector %s: %v", e.Detector, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// Runner runs detectors and post-processes their findings.
type Runner struct {
	Instances []Instance
	Allowlist allowlist.List
	Logger    *zap.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Run executes every instance against src, sequentially (detectors are
// I/O-bound and the agent must stay light), each under its timeout. It
// returns all findings, sorted, and the errors of detectors that failed.
func (r *Runner) Run(ctx context.Context, src source.Source) ([]report.Finding, []error) {
	log := r.Logger
	if log == nil {
		log = zap.NewNop()
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	hi := src.Host()
	host := report.Host{Name: hi.Hostname, ID: hi.HostID}
	var all []report.Finding
	var errs []error
	for _, in := range r.Instances {
		start := now()
		dlog := log.With(zap.String("detector", in.Name))
		fs, err := runOne(ctx, in, Env{Source: src, Host: host, Logger: dlog, Now: start})
		done, ferrs := r.Finish(in.Name, host, start, fs)
		all = append(all, done...)
		errs = append(errs, ferrs...)
		if err != nil {
			errs = append(errs, &Error{Detector: in.Name, Err: err})
			dlog.Warn("detector_failed", zap.Error(err), zap.Int("findings", len(fs)))
		} else {
			dlog.Debug("detector_done", zap.Int("findings", len(fs)), zap.Duration("took", now().Sub(start)))
		}
	}
	all = append(all, r.expiredEntries(host, now())...)
	report.Sort(all)
	return all, errs
}

// Finish fills in what every finding of detector name needs (host, time,
// id, count), drops invalid ones (returned as errors) and applies the
// allowlist. Run uses it; the agent uses it for streaming detectors.
func (r *Runner) Finish(name string, host report.Host, now time.Time, fs []report.Finding) ([]report.Finding, []error) {
	var out []report.Finding
	var errs []error
	for i := range fs {
		f := &fs[i]
		f.Detector = name
		f.Host = host
		if f.Time.IsZero() {
			f.Time = now
		}
		if f.ID == "" {
			f.ID = report.StableID(host.ID, f.Rule, f.Tool, f.Summary)
		}
		if f.Evidence == nil {
			f.Evidence = map[string]any{}
		}
		if f.Count == 0 {
			f.Count = 1
		}
		if verr := f.Validate(); verr != nil {
			errs = append(errs, &Error{Detector: name, Err: fmt.Errorf("invalid finding: %w", verr)})
			continue
		}
		r.applyAllowlist(f, now)
		out = append(out, *f)
	}
	return out, errs
}

// runOne runs a detector under its timeout, turning a panic into an error so
// one broken detector cannot take down the agent.
func runOne(ctx context.Context, in Instance, env Env) (fs []report.Finding, err error) {
	ctx, cancel := context.WithTimeout(ctx, in.Timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	fs, err = in.Detector.Detect(ctx, env)
	if err == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s", in.Timeout)
	}
	return fs, err
}

// applyAllowlist marks a finding allowed (and info) when a live entry covers
// its tool, signer (only with evidence.signature valid), hash, path and
// host; it notes an expired entry that would have.
func (r *Runner) applyAllowlist(f *report.Finding, now time.Time) {
	if f.Tool == "" || len(r.Allowlist) == 0 {
		return
	}
	subj := allowlist.Subject{Tool: f.Tool, Host: f.Host.Name}
	subj.Signer, _ = f.Evidence[report.EvSigner].(string)
	subj.TeamID, _ = f.Evidence[report.EvTeamID].(string)
	subj.Signature, _ = f.Evidence[report.EvSignature].(string)
	subj.SHA256, _ = f.Evidence[report.EvExeSHA256].(string)
	subj.Path, _ = f.Evidence["path"].(string)
	if paths, ok := f.Evidence["paths"].([]string); ok {
		subj.Paths = paths
	}
	live, expired := r.Allowlist.Match(subj, now)
	if live != nil {
		f.Allowed = true
		f.Severity = report.SeverityInfo
		f.Evidence["allowlist"] = map[string]any{"owner": live.Owner, "reason": live.Reason, "expires": live.Expires.Format("2006-01-02")}
		return
	}
	if expired != nil {
		f.Evidence["allowlist_expired"] = map[string]any{"owner": expired.Owner, "reason": expired.Reason, "expires": expired.Expires.Format("2006-01-02")}
	}
}

// expiredEntries reports each expired allowlist entry once, so its owner can
// renew or remove it.
func (r *Runner) expiredEntries(host report.Host, now time.Time) []report.Finding {
	var out []report.Finding
	for i, e := range r.Allowlist {
		if !e.Expired(now) {
			continue
		}
		subject := fmt.Sprintf("%d|%s|%s|%s|%v", i, e.Tool, e.Signer, e.Path, e.Hosts)
		if e.SHA256 != "" {
			subject += "|" + e.SHA256
		}
		out = append(out, report.Finding{
			ID:         report.StableID(host.ID, "agent.allowlist.expired", e.Tool, subject),
			Time:       now,
			Host:       host,
			Detector:   "agent",
			Rule:       "agent.allowlist.expired",
			Category:   report.CategoryAgent,
			Tool:       e.Tool,
			Severity:   report.SeverityLow,
			Confidence: 1,
			Summary:    fmt.Sprintf("Allowlist entry for %s (owner %s) expired on %s and no longer applies", e.Tool, e.Owner, e.Expires.Format("2006-01-02")),
			Evidence: map[string]any{
				"tool": e.Tool, "signer": e.Signer, "path_glob": e.Path, "hosts": e.Hosts,
				"owner": e.Owner, "reason": e.Reason, "expires": e.Expires.Format("2006-01-02"),
			},
			Count: 1,
		})
	}
	return out
}
