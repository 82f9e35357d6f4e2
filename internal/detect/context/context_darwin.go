//go:build darwin

package hostcontext

import (
	"context"
	"errors"
	"time"

	"github.com/farmwatch/farmwatch/internal/source/command"
)

// liveIdle is the macOS idle seam: HIDIdleTime of IOHIDSystem (the time
// since the last input event, not the input itself).
func liveIdle(ctx context.Context, _ string, _ *Facts) *time.Duration {
	out, err := command.RunWith(ctx, command.Options{Timeout: 5 * time.Second}, "/usr/sbin/ioreg", "-a", "-c", "IOHIDSystem", "-r", "-d", "1")
	if err != nil {
		return nil
	}
	d, ok := parseIoregIdle(out)
	if !ok {
		return nil
	}
	return &d
}

func liveWindowsJSON(context.Context) ([]byte, error) {
	return nil, errors.New("context: a live windows host can only be read on windows; record a snapshot there")
}
