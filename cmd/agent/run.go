package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/farmwatch/farmwatch/internal/agent"
	rungroup "github.com/farmwatch/farmwatch/internal/run"
	"github.com/farmwatch/farmwatch/internal/service"
	"github.com/farmwatch/farmwatch/internal/version"
	"github.com/farmwatch/farmwatch/packaging"
)

func init() {
	commands["run"] = command{summary: "run the agent in the foreground: detectors on a schedule, findings to the configured outputs", run: runAgent}
}

func runAgent(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	cfgPath := fs.String("config", "", "YAML config file (reloaded on SIGHUP, on a change of the file, and on the Windows service's paramchange)")
	root := fs.String("root", "", "read live OS trees under this directory instead of /")
	snapshot := fs.String("snapshot", "", "replay a snapshot directory recorded by 'collect' instead of reading this host")
	logLevel := fs.String("log-level", "", "log level (debug, info, warn, error); default from config, else info")
	logFile := fs.String("log-file", "", "log to this file, rotated at 10 MB keeping 5 compressed old files, instead of stderr (with --service on Windows: "+packaging.WindowsLogFile+")")
	svcMode := fs.Bool("service", false, "run as the system service: on Windows, under the service control manager (the service's command line carries this flag); elsewhere as in the foreground")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *snapshot != "" && *root != "" {
		return usageError{fmt.Errorf("--snapshot and --root cannot be combined")}
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	level := *logLevel
	if level == "" {
		level = cfg.Log.Level
	}
	if *logFile == "" && *svcMode && runtime.GOOS == "windows" {
		// A Windows service has no stderr.
		*logFile = packaging.WindowsLogFile
	}
	logOut := stderr
	if *logFile != "" {
		if err := os.MkdirAll(filepath.Dir(*logFile), 0o750); err != nil {
			return fmt.Errorf("log directory: %w", err)
		}
		lj := &lumberjack.Logger{Filename: *logFile, MaxSize: 10, MaxBackups: 5, Compress: true}
		defer func() { _ = lj.Close() }()
		logOut = lj
	}
	log := newLogger(level, logOut)
	defer func() { _ = log.Sync() }()

	reload := make(chan struct{}, 1)
	trigger := func() {
		select {
		case reload <- struct{}{}:
		default:
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	a := &agent.Agent{ConfigPath: *cfgPath, Root: *root, Snapshot: *snapshot, Version: version.Version, Stdout: stdout, Logger: log, Reload: reload}
	loop := func(ctx context.Context) error {
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
				trigger()
			}
		})
		return g.Wait()
	}
	if *svcMode {
		return service.RunService(ctx, loop, trigger, log)
	}
	return loop(ctx)
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
