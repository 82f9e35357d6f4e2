package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/farmwatch/farmwatch/internal/agent"
	rungroup "github.com/farmwatch/farmwatch/internal/run"
	"github.com/farmwatch/farmwatch/internal/service"
	"github.com/farmwatch/farmwatch/internal/version"
)

func init() {
	commands["run"] = command{summary: "run the agent in the foreground: detectors on a schedule, findings to the configured outputs", run: runAgent}
}

func runAgent(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	cfgPath := fs.String("config", "", "YAML config file (reloaded on SIGHUP)")
	root := fs.String("root", "", "read live OS trees under this directory instead of /")
	logLevel := fs.String("log-level", "", "log level (debug, info, warn, error); default from config, else info")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	level := *logLevel
	if level == "" {
		level = cfg.Log.Level
	}
	log := newLogger(level, stderr)
	defer func() { _ = log.Sync() }()

	reload := make(chan struct{}, 1)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	a := &agent.Agent{ConfigPath: *cfgPath, Root: *root, Version: version.Version, Stdout: stdout, Logger: log, Reload: reload}
	// Started by the Windows service control manager: let it drive.
	if handled, err := service.RunAsService(a.Run, log); handled {
		return err
	}
	g := rungroup.NewGroup(ctx, log)
	g.StopTimeout = 5 * time.Second
	g.Go("agent", a.Run)
	// Reload on SIGHUP, and when the config file changes (checked every
	// few seconds, so editors' atomic replaces are seen too).
	g.Go("reload", func(ctx context.Context) error {
		stamp := fileStamp(*cfgPath)
		tick := time.NewTicker(3 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-hup:
			case <-tick.C:
				s := fileStamp(*cfgPath)
				if s == stamp {
					continue
				}
				stamp = s
			}
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	})
	return g.Wait()
}

// fileStamp identifies a version of a file by size and modification time
// ("" for no file).
func fileStamp(path string) string {
	if path == "" {
		return ""
	}
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d/%d", st.Size(), st.ModTime().UnixNano())
}
