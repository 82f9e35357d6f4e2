//go:build linux || windows

package service

import (
	"errors"
	"fmt"

	ksvc "github.com/kardianos/service"

	"github.com/farmwatch/farmwatch/packaging"
)

// program satisfies kardianos' Interface for install/control; running as a
// service is handled by RunService (`run --service`).
type program struct{}

func (program) Start(ksvc.Service) error { return nil }
func (program) Stop(ksvc.Service) error  { return nil }

// kardianosConfig is the service definition shared by Linux and Windows.
func kardianosConfig(exe, configPath string) *ksvc.Config {
	return &ksvc.Config{
		Name:        packaging.ServiceName,
		DisplayName: "farmwatch agent",
		Description: "farmwatch endpoint agent: detects remote-access software, IP-KVM hardware and relayed traffic",
		Executable:  exe,
		Arguments:   []string{"run", "--service", "--config", configPath},
		Option: ksvc.KeyValue{
			"SystemdScript":    packaging.SystemdUnit,
			"Restart":          "always",
			"DelayedAutoStart": false,
			"StartType":        "automatic",
			"OnFailure":        "restart",
		},
	}
}

func kardianosDo(a Action, cfg *ksvc.Config) (string, error) {
	s, err := ksvc.New(program{}, cfg)
	if err != nil {
		return "", fmt.Errorf("service: %w", err)
	}
	switch a {
	case Install:
		err = s.Install()
	case Uninstall:
		err = s.Uninstall()
	case Start:
		err = s.Start()
	case Stop:
		err = s.Stop()
	case Restart:
		err = s.Restart()
	case Status:
		st, serr := s.Status()
		if errors.Is(serr, ksvc.ErrNotInstalled) {
			return "not installed", ErrNotInstalled
		}
		if serr != nil {
			return "", fmt.Errorf("service status: %w", serr)
		}
		switch st {
		case ksvc.StatusRunning:
			return "running", nil
		case ksvc.StatusStopped:
			return "stopped", nil
		}
		return "unknown", nil
	default:
		return "", fmt.Errorf("unknown action %q", a)
	}
	if err != nil {
		return "", fmt.Errorf("service %s (%s): %w", a, s.Platform(), err)
	}
	return fmt.Sprintf("%s: %s done", packaging.ServiceName, a), nil
}
