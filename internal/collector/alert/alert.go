// Package alert decides which collector events become alerts, routes them by
// rules (kind, severity, category, tool) to sinks — webhooks with a generic
// JSON or Slack-compatible body, and syslog (RFC 5424 over TCP or TLS) with
// a CEF message — and runs the background workers: the dispatcher, which
// delivers stored alerts with retries and backoff without ever blocking
// ingest, and the silence checker, which raises "host silent" alerts.
package alert

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/collector/config"
	"github.com/farmwatch/farmwatch/internal/collector/store"
	"github.com/farmwatch/farmwatch/internal/report"
)

// Sink delivers one alert somewhere.
type Sink interface {
	Name() string
	Deliver(ctx context.Context, a store.Alert) error
}

// Rule routes alerts that match it to sinks.
type Rule struct {
	Name        string
	Kinds       []string
	MinSeverity report.Severity
	Categories  []string
	Tools       []string
	Sinks       []Sink
}

// Matches reports whether the alert falls under the rule.
func (r Rule) Matches(a store.Alert) bool {
	return a.Severity >= r.MinSeverity && in(r.Kinds, a.Kind) && in(r.Categories, a.Category) && in(r.Tools, a.Tool)
}

func in(list []string, v string) bool {
	if len(list) == 0 {
		return true
	}
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// Policy implements store.Policy from the configured rules.
type Policy struct {
	// MinSeverity: findings at or above it always raise an alert.
	MinSeverity report.Severity
	Rules       []Rule
}

// FindingAlert raises an alert for a non-allowlisted finding at or above
// MinSeverity, or matched by a rule for finding alerts.
func (p *Policy) FindingAlert(h report.Host, f report.Finding) *store.Alert {
	if f.Allowed {
		return nil
	}
	host := h.ID
	if h.Name != "" && h.Name != h.ID {
		host = h.Name + " (" + h.ID + ")"
	}
	a := &store.Alert{
		DedupKey: "finding:" + h.ID + ":" + f.ID, Kind: store.AlertFinding, Severity: f.Severity,
		Category: string(f.Category), Tool: f.Tool,
		Title:  fmt.Sprintf("%s on %s: %s", f.Severity, host, f.Summary),
		Detail: fmt.Sprintf("Rule %s (detector %s, confidence %.2f) on host %s: %s", f.Rule, f.Detector, f.Confidence, host, f.Summary),
		Hosts:  []string{h.ID},
	}
	if f.Severity >= p.MinSeverity {
		return a
	}
	for _, r := range p.Rules {
		if r.Matches(*a) {
			return a
		}
	}
	return nil
}

// Routed reports whether any rule sends the alert to a sink.
func (p *Policy) Routed(a store.Alert) bool { return len(p.SinksFor(a)) > 0 }

// SinksFor returns the distinct sinks of every rule matching the alert.
func (p *Policy) SinksFor(a store.Alert) []Sink {
	var out []Sink
	seen := map[string]bool{}
	for _, r := range p.Rules {
		if !r.Matches(a) {
			continue
		}
		for _, s := range r.Sinks {
			if !seen[s.Name()] {
				seen[s.Name()] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// FromConfig builds the policy and its sinks.
func FromConfig(c config.Alerts, version string) (*Policy, error) {
	min, err := report.ParseSeverity(c.MinSeverity)
	if err != nil {
		return nil, fmt.Errorf("alerts.min_severity: %w", err)
	}
	p := &Policy{MinSeverity: min}
	hooks := map[string]Sink{}
	for _, w := range c.Webhooks {
		if w.Format == "splunk_hec" || w.Format == "elasticsearch" {
			s, err := NewSIEM(w)
			if err != nil {
				return nil, err
			}
			hooks[w.Name] = s
			continue
		}
		hooks[w.Name] = NewWebhook(w.Name, w.URL, w.Format)
	}
	var sys Sink
	if c.Syslog != nil {
		s, err := NewSyslog(*c.Syslog, version)
		if err != nil {
			return nil, err
		}
		sys = s
	}
	for _, rc := range c.Rules {
		r := Rule{Name: rc.Name, Kinds: rc.Kinds, Categories: rc.Categories, Tools: rc.Tools}
		if rc.MinSeverity != "" {
			if r.MinSeverity, err = report.ParseSeverity(rc.MinSeverity); err != nil {
				return nil, fmt.Errorf("alert rule %s: %w", rc.Name, err)
			}
		}
		for _, h := range rc.Webhooks {
			s, ok := hooks[h]
			if !ok {
				return nil, fmt.Errorf("alert rule %s: unknown webhook %q", rc.Name, h)
			}
			r.Sinks = append(r.Sinks, s)
		}
		if rc.Syslog {
			if sys == nil {
				return nil, fmt.Errorf("alert rule %s: syslog is not configured", rc.Name)
			}
			r.Sinks = append(r.Sinks, sys)
		}
		p.Rules = append(p.Rules, r)
	}
	return p, nil
}

// Metrics observes deliveries; any field may be nil.
type Metrics struct {
	Delivered func(sink string)
	Failed    func(sink string)
}

// Dispatcher delivers pending alerts from the store to their sinks.
type Dispatcher struct {
	Store  *store.Store
	Policy *Policy
	Log    *zap.Logger
	Now    func() time.Time
	// Poll is how often the store is checked for due alerts (default 1s);
	// Wake() triggers a check at once.
	Poll time.Duration
	// MaxAttempts before an alert's delivery is marked failed (default 12).
	MaxAttempts int
	// Backoff returns the wait after attempt n (1-based); default
	// exponential from 2 s, capped at 30 min.
	Backoff func(n int) time.Duration
	// Timeout bounds one delivery to one sink (default 10 s).
	Timeout time.Duration
	Metrics Metrics

	wake chan struct{}
}

// NewDispatcher returns a dispatcher with defaults.
func NewDispatcher(st *store.Store, p *Policy, log *zap.Logger) *Dispatcher {
	return &Dispatcher{Store: st, Policy: p, Log: log, Now: time.Now, Poll: time.Second, MaxAttempts: 12, Backoff: DefaultBackoff, Timeout: 10 * time.Second, wake: make(chan struct{}, 1)}
}

// DefaultBackoff doubles from 2 s up to 30 min.
func DefaultBackoff(n int) time.Duration {
	d := 2 * time.Second
	for i := 1; i < n && d < 30*time.Minute; i++ {
		d *= 2
	}
	return min(d, 30*time.Minute)
}

// Wake asks the dispatcher to look for due alerts now. It never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	t := time.NewTicker(d.Poll)
	defer t.Stop()
	for {
		if err := d.Once(ctx); err != nil && ctx.Err() == nil {
			d.Log.Warn("alert_dispatch_failed", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-d.wake:
		}
	}
}

// Once delivers every alert due now, each to all sinks its rules name.
func (d *Dispatcher) Once(ctx context.Context) error {
	now := d.Now()
	due, err := d.Store.DueDeliveries(ctx, now, 2*d.Timeout+time.Minute, 50)
	if err != nil {
		return fmt.Errorf("dispatch: %w", err)
	}
	for _, a := range due {
		var errs []error
		for _, s := range d.Policy.SinksFor(a) {
			sctx, cancel := context.WithTimeout(ctx, d.Timeout)
			err := s.Deliver(sctx, a)
			cancel()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", s.Name(), err))
				if d.Metrics.Failed != nil {
					d.Metrics.Failed(s.Name())
				}
			} else if d.Metrics.Delivered != nil {
				d.Metrics.Delivered(s.Name())
			}
		}
		attempts := a.Attempts + 1
		derr := errors.Join(errs...)
		final := derr != nil && attempts >= d.MaxAttempts
		next := now
		if derr != nil {
			next = now.Add(d.Backoff(attempts))
			d.Log.Warn("alert_delivery_failed", zap.String("alert", a.ID), zap.Int("attempt", attempts), zap.Bool("final", final), zap.Error(derr))
		} else {
			d.Log.Info("alert_delivered", zap.String("alert", a.ID), zap.String("kind", a.Kind), zap.Int("attempt", attempts))
		}
		if err := d.Store.RecordDelivery(ctx, a, attempts, derr, next, final); err != nil {
			return fmt.Errorf("dispatch: %w", err)
		}
	}
	return nil
}

// SilenceChecker raises host_silent alerts.
type SilenceChecker struct {
	Store    *store.Store
	Policy   *Policy
	Log      *zap.Logger
	Now      func() time.Time
	Missed   int           // heartbeat intervals a host may miss
	Interval time.Duration // how often to check (default 30 s)
	// OnAlert is called for each raised alert (the dispatcher's Wake).
	OnAlert func(store.Alert)
}

// Run checks until ctx ends.
func (c *SilenceChecker) Run(ctx context.Context) error {
	iv := c.Interval
	if iv <= 0 {
		iv = 30 * time.Second
	}
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		if err := c.Once(ctx); err != nil && ctx.Err() == nil {
			c.Log.Warn("silence_check_failed", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Once runs one check.
func (c *SilenceChecker) Once(ctx context.Context) error {
	raised, err := c.Store.CheckSilence(ctx, c.Now(), c.Missed, c.Policy)
	for _, a := range raised {
		c.Log.Warn("host_silent", zap.Strings("hosts", a.Hosts), zap.String("alert", a.ID))
		if c.OnAlert != nil {
			c.OnAlert(a)
		}
	}
	return err
}
