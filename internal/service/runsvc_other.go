//go:build !windows

package service

import (
	"context"

	"go.uber.org/zap"
)

// RunService runs fn in the foreground: systemd and launchd run the agent as
// a plain process, stop it with signals and reload it with SIGHUP, so
// `run --service` needs nothing more here.
func RunService(ctx context.Context, fn func(context.Context) error, _ func(), _ *zap.Logger) error {
	return fn(ctx)
}
