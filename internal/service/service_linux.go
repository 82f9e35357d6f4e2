package service

import (
	"context"
	"os"

	"github.com/farmwatch/farmwatch/packaging"
)

func do(_ context.Context, a Action, opt Options) (string, error) {
	if opt.ConfigPath == "" {
		opt.ConfigPath = packaging.LinuxConfig
	}
	if a == Status && !exists("/etc/systemd/system/"+packaging.ServiceName+".service") && !exists(packaging.LinuxUnitPath) &&
		!exists("/usr/lib/systemd/system/"+packaging.ServiceName+".service") && !exists("/etc/init.d/"+packaging.ServiceName) {
		return "not installed", ErrNotInstalled
	}
	if a == Install {
		// The unit runs /usr/bin/farmwatch-agent: put this binary there and a
		// default config beside it, unless the package already did.
		if err := copyFile(opt.Executable, packaging.LinuxBinary, 0o755); err != nil {
			return "", err
		}
		if err := writeIfMissing(opt.ConfigPath, packaging.DefaultConfig, 0o640); err != nil {
			return "", err
		}
		for _, d := range []string{packaging.LinuxStateDir, packaging.LinuxLogDir} {
			if err := os.MkdirAll(d, 0o750); err != nil {
				return "", err
			}
		}
	}
	cfg := kardianosConfig(packaging.LinuxBinary, opt.ConfigPath)
	out, err := kardianosDo(a, cfg)
	if err != nil || a != Install {
		return out, err
	}
	// install means installed and running, as the packages leave it.
	if _, err := kardianosDo(Start, cfg); err != nil {
		return out, err
	}
	return packaging.ServiceName + ": installed and started", nil
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
