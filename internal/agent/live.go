package agent

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/config"
	"github.com/farmwatch/farmwatch/internal/detect"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/report/pipeline"
	"github.com/farmwatch/farmwatch/internal/run"
	"github.com/farmwatch/farmwatch/internal/source"
)

// liveSet runs the actors that live longer than one detector run — streaming
// detectors (live traffic) and triggers — each in its own run group keyed by
// the detector's effective configuration. apply starts the ones a config
// enables, stops the ones it disables and restarts the ones whose settings
// changed, so a reload applies to them like to scheduled detectors.
type liveSet struct {
	agent *Agent
	ctx   context.Context
	src   source.Source
	host  report.Host
	pl    *pipeline.Pipeline
	fired chan<- string

	running map[string]*liveActor // by "stream-<name>" / "trigger-<name>"
}

type liveActor struct {
	key string
	g   *run.Group
}

// apply makes the running actors match cfg. Only the scheduler goroutine
// (and Run, before it starts) calls it.
func (l *liveSet) apply(cfg *config.Config) {
	want := map[string]func(ctx context.Context) error{}
	keys := map[string]string{}
	for _, in := range l.agent.runnerSnapshot().Instances {
		key := cfg.DetectorKey(in.Name)
		if st, ok := in.Detector.(detect.Streamer); ok {
			want["stream-"+in.Name] = l.stream(in.Name, st)
			keys["stream-"+in.Name] = key
		}
		if reg, ok := detect.Lookup(in.Name); ok && reg.Trigger != nil {
			want["trigger-"+in.Name] = l.trigger(in.Name, reg.Trigger)
			keys["trigger-"+in.Name] = key
		}
	}
	log := l.agent.Logger
	for name, act := range l.running {
		if _, ok := want[name]; ok && keys[name] == act.key {
			continue
		}
		act.g.Stop()
		if err := act.g.Wait(); err != nil {
			log.Warn("live_actor_stop_failed", zap.String("actor", name), zap.Error(err))
		}
		delete(l.running, name)
		if _, ok := want[name]; ok {
			log.Info("live_actor_restarted", zap.String("actor", name), zap.String("reason", "settings changed"))
		} else {
			log.Info("live_actor_stopped", zap.String("actor", name), zap.String("reason", "disabled"))
		}
	}
	for name, fn := range want {
		if _, ok := l.running[name]; ok {
			continue
		}
		g := run.NewGroup(l.ctx, log)
		g.Go(name, fn)
		l.running[name] = &liveActor{key: keys[name], g: g}
	}
}

// stopAll stops every live actor and waits (bounded) for each.
func (l *liveSet) stopAll() {
	for _, act := range l.running {
		act.g.Stop()
	}
	for name, act := range l.running {
		if err := act.g.Wait(); err != nil {
			l.agent.Logger.Warn("live_actor_stop_failed", zap.String("actor", name), zap.Error(err))
		}
	}
	l.running = map[string]*liveActor{}
}

func (l *liveSet) trigger(name string, trig func(ctx context.Context, fire func()) error) func(ctx context.Context) error {
	log := l.agent.Logger
	return func(ctx context.Context) error {
		err := trig(ctx, func() {
			select {
			case l.fired <- name:
			default:
			}
		})
		if err != nil && ctx.Err() == nil {
			// No events on this OS or no permission: the interval still
			// runs the detector, so the agent carries on.
			log.Info("trigger_unavailable", zap.String("detector", name), zap.Error(err))
			<-ctx.Done()
		}
		return ctx.Err()
	}
}

func (l *liveSet) stream(name string, st detect.Streamer) func(ctx context.Context) error {
	a := l.agent
	dlog := a.Logger.With(zap.String("detector", name))
	return func(ctx context.Context) error {
		emit := func(fs []report.Finding) {
			done, errs := a.runnerSnapshot().Finish(name, l.host, time.Now(), fs)
			for _, e := range errs {
				dlog.Warn("invalid_finding", zap.Error(e))
			}
			if err := l.pl.SubmitRun(name, done, false); err != nil {
				dlog.Error("report_failed", zap.Error(err))
			}
			a.setHealth(name, report.DetectorHealth{OK: true, LastRun: time.Now().UTC()})
		}
		err := st.Stream(ctx, detect.Env{Source: l.src, Host: l.host, Logger: dlog, Now: time.Now()}, emit)
		if err != nil && ctx.Err() == nil {
			dlog.Warn("stream_stopped", zap.Error(err))
			a.setHealth(name, report.DetectorHealth{OK: false, LastRun: time.Now().UTC(), Error: err.Error()})
			<-ctx.Done()
		}
		return ctx.Err()
	}
}
