package service

import (
	"context"
	"fmt"
	"sync/atomic"

	"go.uber.org/zap"
	"golang.org/x/sys/windows/svc"

	"github.com/farmwatch/farmwatch/internal/run"
	"github.com/farmwatch/farmwatch/packaging"
)

// handler runs the agent under the Windows service control manager.
type handler struct {
	ctx    context.Context
	runFn  func(context.Context) error
	reload func()
	log    *zap.Logger
}

// Execute implements svc.Handler: it reports running, runs the agent, and
// stops it on Stop/Shutdown; "paramchange" (sc control farmwatch-agent
// paramchange) reloads the config. An agent that ends on its own is a
// service-specific failure (exit code 1), so the recovery actions restart it.
func (h *handler) Execute(_ []string, r <-chan svc.ChangeRequest, changes chan<- svc.Status) (bool, uint32) {
	changes <- svc.Status{State: svc.StartPending}
	const accepts = svc.AcceptStop | svc.AcceptShutdown | svc.AcceptParamChange
	var stopped atomic.Bool
	g := run.NewGroup(h.ctx, h.log)
	g.Go("agent", h.runFn)
	g.Go("service_control", func(ctx context.Context) error {
		changes <- svc.Status{State: svc.Running, Accepts: accepts}
		h.log.Info("service_running")
		// Only once running: a service manager may hold its lock on the
		// service while it starts (Wine's does), and changing the
		// service's own configuration before that would wait on it.
		if changed, err := QuoteImagePath(); err != nil {
			h.log.Warn("image_path_not_quoted", zap.Error(err))
		} else if changed {
			h.log.Info("image_path_quoted")
		}
		if err := ApplyRecoveryActions(); err != nil {
			h.log.Warn("recovery_actions_failed", zap.Error(err))
		}
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case c := <-r:
				switch c.Cmd {
				case svc.Interrogate:
					changes <- c.CurrentStatus
				case svc.Stop, svc.Shutdown:
					stopped.Store(true)
					changes <- svc.Status{State: svc.StopPending}
					h.log.Info("service_stop_requested")
					return nil
				case svc.ParamChange:
					h.log.Info("service_paramchange")
					if h.reload != nil {
						h.reload()
					}
					changes <- c.CurrentStatus
				default:
					h.log.Warn("service_unexpected_control", zap.Uint32("cmd", uint32(c.Cmd)))
				}
			}
		}
	})
	err := g.Wait()
	if stopped.Load() {
		h.log.Info("service_stopped", zap.NamedError("agent_error", err))
		return false, 0
	}
	h.log.Error("service_agent_ended", zap.Error(err))
	return true, 1
}

// RunService runs fn as the Windows service farmwatch-agent until the
// service control manager stops it; reload is called on "paramchange". It
// is called only when the service's command line says so (`run
// --service`), never guessed from the parent process or session.
func RunService(ctx context.Context, fn func(context.Context) error, reload func(), log *zap.Logger) error {
	if err := svc.Run(packaging.ServiceName, &handler{ctx: ctx, runFn: fn, reload: reload, log: log}); err != nil {
		return fmt.Errorf("run as the Windows service %s (started outside the service manager?): %w", packaging.ServiceName, err)
	}
	return nil
}
