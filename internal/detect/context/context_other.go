//go:build !linux && !darwin && !windows

package hostcontext

import (
	"context"
	"errors"
	"time"
)

func liveIdle(context.Context, string, *Facts) *time.Duration { return nil }

func liveWindowsJSON(context.Context) ([]byte, error) {
	return nil, errors.New("context: a live windows host can only be read on windows; record a snapshot there")
}
