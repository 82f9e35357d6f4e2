// Package service installs and controls farmwatch-agent as an operating
// system service: a systemd unit on Linux and a Windows service (both through
// kardianos/service, with Windows recovery actions set by farmwatch itself,
// since kardianos applies only one), and a LaunchDaemon on macOS managed
// with `launchctl bootstrap/bootout`. The unit and plist are the files the
// packages ship (package packaging).
package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/farmwatch/farmwatch/internal/source/command"
)

// Action is a service-manager verb.
type Action string

// Actions.
const (
	Install   Action = "install"
	Uninstall Action = "uninstall"
	Start     Action = "start"
	Stop      Action = "stop"
	Restart   Action = "restart"
	Status    Action = "status"
)

// Actions lists every action.
var Actions = []Action{Install, Uninstall, Start, Stop, Restart, Status}

// Options locate what install writes.
type Options struct {
	// Executable is the binary to install (default: the running one).
	Executable string
	// ConfigPath is where the service's config lives; install writes the
	// default config there when it is missing.
	ConfigPath string
}

// ErrNotInstalled is returned by Status when the service does not exist.
var ErrNotInstalled = errors.New("service not installed")

// Do performs an action and returns a one-line human result.
func Do(ctx context.Context, a Action, opt Options) (string, error) {
	if opt.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return "", fmt.Errorf("find own executable: %w", err)
		}
		opt.Executable = exe
	}
	return do(ctx, a, opt)
}

// allowedCommands are the only programs the service code runs, by absolute
// path (agent-safety rule: no PATH lookups).
var allowedCommands = map[string]bool{
	"/bin/launchctl": true, "/bin/systemctl": true, "/usr/bin/systemctl": true,
}

// runCommand runs an allowlisted program with a timeout and returns its
// combined output.
func runCommand(ctx context.Context, name string, args ...string) (string, error) {
	if !allowedCommands[name] {
		return "", fmt.Errorf("command %s is not allowlisted", name)
	}
	out, err := command.RunWith(ctx, command.Options{Timeout: 30 * time.Second, Combined: true, InheritEnv: true}, append([]string{name}, args...)...)
	return string(out), err
}

// copyFile installs src at dst with mode, atomically; a no-op when they are
// the same file.
func copyFile(src, dst string, mode os.FileMode) error {
	if a, err := os.Stat(src); err == nil {
		if b, err := os.Stat(dst); err == nil && os.SameFile(a, b) {
			return nil
		}
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("install %s: %w", dst, err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("install %s: %w", dst, err)
	}
	tmp := dst + ".new"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("install %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("install %s: %w", dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("install %s: %w", dst, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("install %s: %w", dst, err)
	}
	return nil
}

// writeIfMissing writes data to path unless a file is already there (an
// administrator's config is never overwritten).
func writeIfMissing(path, data string, mode os.FileMode) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
