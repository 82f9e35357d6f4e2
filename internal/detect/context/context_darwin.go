//go:build darwin

package hostcontext

import (
	"context"
	"errors"
	"os/exec"
	"time"
)

// liveIdle is the macOS idle seam: HIDIdleTime of IOHIDSystem (the time
// since the last input event, not the input itself).
func liveIdle(ctx context.Context, _ string, _ *Facts) *time.Duration {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/sbin/ioreg", "-a", "-c", "IOHIDSystem", "-r", "-d", "1").Output()
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
