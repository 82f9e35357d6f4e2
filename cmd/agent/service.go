package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/farmwatch/farmwatch/internal/agent"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/service"
	"github.com/farmwatch/farmwatch/internal/version"
)

func init() {
	for _, a := range service.Actions {
		a := a
		commands[string(a)] = command{
			summary: map[service.Action]string{
				service.Install:   "install the agent as a system service (systemd, launchd, Windows service) and start it",
				service.Uninstall: "stop and remove the system service (the collector is told)",
				service.Start:     "start the system service",
				service.Stop:      "stop the system service",
				service.Restart:   "restart the system service",
				service.Status:    "print whether the system service is running",
			}[a],
			run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				return runService(ctx, a, args, stdout, stderr)
			},
		}
	}
}

func runService(ctx context.Context, a service.Action, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet(string(a), stderr)
	cfgPath := fs.String("config", "", "config file the service uses (default: the platform's standard path)")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *cfgPath != "" {
		if _, err := loadConfig(*cfgPath); err != nil {
			return err
		}
	}
	if a == service.Uninstall {
		// Best effort: tell the collector before going away.
		path := *cfgPath
		if path == "" {
			path = defaultConfigPath()
		}
		if _, err := os.Stat(path); err == nil {
			if err := agent.Notify(ctx, path, "", version.Version, report.EventUninstall, 5*time.Second, newLogger("warn", stderr)); err != nil {
				fmt.Fprintf(stderr, "farmwatch-agent uninstall: could not tell the collector: %v\n", err)
			}
		}
	}
	out, err := service.Do(ctx, a, service.Options{ConfigPath: *cfgPath})
	if a == service.Status && errors.Is(err, service.ErrNotInstalled) {
		fmt.Fprintln(stdout, out)
		return err
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, out)
	return nil
}
