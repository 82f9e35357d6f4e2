package service

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

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
	// The service's own configuration is changed only once the service
	// manager shows it running: changing it while the start is still
	// under way (an installer waiting on StartService) fails the start
	// under Wine's service manager.
	g.Go("service_config", func(ctx context.Context) error {
		if err := waitRunning(ctx, 30*time.Second); err != nil {
			h.log.Warn("service_not_seen_running", zap.Error(err))
		}
		if changed, err := QuoteImagePath(); err != nil {
			h.log.Warn("image_path_not_quoted", zap.Error(err))
		} else if changed {
			h.log.Info("image_path_quoted")
		}
		if err := ApplyRecoveryActions(); err != nil {
			h.log.Warn("recovery_actions_failed", zap.Error(err))
		}
		<-ctx.Done()
		return ctx.Err()
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

// waitRunning polls the service manager until it reports this service
// running, ctx ends, or timeout passes.
func waitRunning(ctx context.Context, timeout time.Duration) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connect to service manager: %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(packaging.ServiceName)
	if err != nil {
		return fmt.Errorf("open service: %w", err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := s.Query()
		if err == nil && st.State == svc.Running {
			// One more tick: whoever started the service sees it too.
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("still %v: %w", st.State, ctx.Err())
		case <-tick.C:
		}
	}
}
