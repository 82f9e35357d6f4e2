package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/farmwatch/farmwatch/packaging"
)

const launchctl = "/bin/launchctl"

// do manages the LaunchDaemon with launchctl bootstrap/bootout (the
// load/unload verbs are deprecated).
func do(ctx context.Context, a Action, opt Options) (string, error) {
	if opt.ConfigPath == "" {
		opt.ConfigPath = packaging.MacConfig
	}
	target := "system/" + packaging.LaunchdLabel
	switch a {
	case Install:
		if err := copyFile(opt.Executable, packaging.MacBinary, 0o755); err != nil {
			return "", err
		}
		if err := writeIfMissing(opt.ConfigPath, packaging.DefaultConfig, 0o640); err != nil {
			return "", err
		}
		if err := os.MkdirAll("/Library/Logs/farmwatch", 0o750); err != nil {
			return "", err
		}
		if err := os.WriteFile(packaging.MacPlistPath, []byte(packaging.LaunchdPlist), 0o644); err != nil {
			return "", fmt.Errorf("write %s: %w", packaging.MacPlistPath, err)
		}
		_, _ = runCommand(ctx, launchctl, "bootout", target) // an older one
		if _, err := runCommand(ctx, launchctl, "bootstrap", "system", packaging.MacPlistPath); err != nil {
			return "", err
		}
		return packaging.LaunchdLabel + ": installed and bootstrapped", nil
	case Uninstall:
		_, _ = runCommand(ctx, launchctl, "bootout", target)
		if err := os.Remove(packaging.MacPlistPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("remove %s: %w", packaging.MacPlistPath, err)
		}
		if err := os.Remove(packaging.MacBinary); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("remove %s: %w", packaging.MacBinary, err)
		}
		return packaging.LaunchdLabel + ": uninstalled (configuration kept)", nil
	case Start:
		if _, err := runCommand(ctx, launchctl, "print", target); err != nil {
			if _, err := runCommand(ctx, launchctl, "bootstrap", "system", packaging.MacPlistPath); err != nil {
				return "", err
			}
			return packaging.LaunchdLabel + ": started", nil
		}
		_, err := runCommand(ctx, launchctl, "kickstart", target)
		return packaging.LaunchdLabel + ": started", err
	case Stop:
		// KeepAlive would restart a killed daemon: stopping means bootout.
		_, err := runCommand(ctx, launchctl, "bootout", target)
		return packaging.LaunchdLabel + ": stopped", err
	case Restart:
		_, err := runCommand(ctx, launchctl, "kickstart", "-k", target)
		return packaging.LaunchdLabel + ": restarted", err
	case Status:
		if _, err := os.Stat(packaging.MacPlistPath); err != nil {
			return "not installed", ErrNotInstalled
		}
		out, err := runCommand(ctx, launchctl, "print", target)
		if err != nil {
			return "stopped", nil
		}
		if strings.Contains(out, "state = running") {
			return "running", nil
		}
		return "stopped", nil
	}
	return "", fmt.Errorf("unknown action %q", a)
}
