//go:build !linux && !windows && !darwin

package service

import (
	"context"
	"fmt"
	"runtime"
)

func do(context.Context, Action, Options) (string, error) {
	return "", fmt.Errorf("service management is not supported on %s", runtime.GOOS)
}
