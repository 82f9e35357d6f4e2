//go:build !windows

package service

import (
	"context"

	"go.uber.org/zap"
)

// RunAsService is for the Windows service control manager; on Unix the
// service manager (systemd, launchd) runs the agent as a plain process that
// it stops with signals, so nothing is handled here.
func RunAsService(func(context.Context) error, *zap.Logger) (bool, error) { return false, nil }
