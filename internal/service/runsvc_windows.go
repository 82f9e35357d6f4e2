package service

import (
	"context"
	"fmt"

	ksvc "github.com/kardianos/service"
	"go.uber.org/zap"

	"github.com/farmwatch/farmwatch/internal/run"
)

// svcProgram runs the agent under the Windows service control manager.
type svcProgram struct {
	runFn func(context.Context) error
	log   *zap.Logger
	group *run.Group
}

func (p *svcProgram) Start(ksvc.Service) error {
	if err := ApplyRecoveryActions(); err != nil {
		p.log.Warn("recovery_actions_failed", zap.Error(err))
	}
	p.group = run.NewGroup(context.Background(), p.log)
	p.group.Go("agent", p.runFn)
	return nil
}

func (p *svcProgram) Stop(ksvc.Service) error {
	if p.group == nil {
		return nil
	}
	p.group.Stop()
	return p.group.Wait()
}

// RunAsService runs fn under the service control manager when the process
// was started by it; handled is false when running interactively.
func RunAsService(fn func(context.Context) error, log *zap.Logger) (bool, error) {
	if ksvc.Interactive() {
		return false, nil
	}
	p := &svcProgram{runFn: fn, log: log}
	s, err := ksvc.New(p, kardianosConfig("", ""))
	if err != nil {
		return true, fmt.Errorf("service: %w", err)
	}
	return true, s.Run()
}
