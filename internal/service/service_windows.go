package service

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/farmwatch/farmwatch/packaging"
)

func do(_ context.Context, a Action, opt Options) (string, error) {
	if opt.ConfigPath == "" {
		opt.ConfigPath = packaging.WindowsConfig
	}
	exe := opt.Executable
	if a == Install {
		exe = filepath.Join(packaging.WindowsDir, "farmwatch-agent.exe")
		if err := copyFile(opt.Executable, exe, 0o755); err != nil {
			return "", err
		}
		if err := writeIfMissing(opt.ConfigPath, packaging.DefaultConfig, 0o640); err != nil {
			return "", err
		}
	}
	out, err := kardianosDo(a, kardianosConfig(exe, opt.ConfigPath))
	if err != nil {
		return out, err
	}
	if a == Install || a == Start || a == Restart {
		if err := ApplyRecoveryActions(); err != nil {
			return out, err
		}
	}
	if a == Install {
		// install means installed and running, as the MSI leaves it.
		if _, err := kardianosDo(Start, kardianosConfig(exe, opt.ConfigPath)); err != nil {
			return out, err
		}
		return packaging.ServiceName + ": installed and started", nil
	}
	return out, nil
}

// RecoveryActions are what the service control manager does when the agent
// fails: restart three times, five seconds apart, and forget failures after
// a day.
var RecoveryActions = []mgr.RecoveryAction{
	{Type: mgr.ServiceRestart, Delay: 5 * time.Second},
	{Type: mgr.ServiceRestart, Delay: 5 * time.Second},
	{Type: mgr.ServiceRestart, Delay: 5 * time.Second},
}

// RecoveryResetSeconds is the failure-count reset period (one day).
const RecoveryResetSeconds = 24 * 60 * 60

// ApplyRecoveryActions sets the recovery actions, also for non-crash
// failures (the agent exiting with an error). kardianos sets at most one
// action at install, so farmwatch applies its own at install and on every
// service start.
func ApplyRecoveryActions() error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("recovery actions: connect to service manager: %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(packaging.ServiceName)
	if err != nil {
		return fmt.Errorf("recovery actions: open service: %w", err)
	}
	defer s.Close()
	if err := s.SetRecoveryActions(RecoveryActions, RecoveryResetSeconds); err != nil {
		return fmt.Errorf("recovery actions: %w", err)
	}
	if err := s.SetRecoveryActionsOnNonCrashFailures(true); err != nil {
		return fmt.Errorf("recovery actions on non-crash failures: %w", err)
	}
	return nil
}

// QuoteImagePath makes the service's image path start with the quoted
// executable path. Windows Installer's ServiceInstall (as Wine's msiexec
// does) may write `C:\Program Files\farmwatch\farmwatch-agent.exe run …`
// unquoted, which the service manager resolves by trying C:\Program.exe
// first; the service fixes its own entry at start. It uses only
// QueryServiceConfig/ChangeServiceConfig (mgr.Service.Config and
// UpdateConfig also need QueryServiceConfig2 levels that Wine lacks).
func QuoteImagePath() (changed bool, err error) {
	m, err := mgr.Connect()
	if err != nil {
		return false, fmt.Errorf("image path: connect to service manager: %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(packaging.ServiceName)
	if err != nil {
		return false, fmt.Errorf("image path: open service: %w", err)
	}
	defer s.Close()
	n := uint32(4096)
	b := make([]byte, n)
	p := (*windows.QUERY_SERVICE_CONFIG)(unsafe.Pointer(&b[0]))
	if err := windows.QueryServiceConfig(s.Handle, p, n, &n); err != nil {
		return false, fmt.Errorf("image path: query service configuration: %w", err)
	}
	fixed, ok := quotedImagePath(windows.UTF16PtrToString(p.BinaryPathName))
	if !ok {
		return false, nil
	}
	path, err := windows.UTF16PtrFromString(fixed)
	if err != nil {
		return false, fmt.Errorf("image path: %w", err)
	}
	const noChange = windows.SERVICE_NO_CHANGE
	if err := windows.ChangeServiceConfig(s.Handle, noChange, noChange, noChange, path, nil, nil, nil, nil, nil, nil); err != nil {
		return false, fmt.Errorf("image path: change service configuration: %w", err)
	}
	return true, nil
}
