//go:build !linux && !darwin && !windows

package tunnel

import (
	"context"
	"fmt"
)

// liveFiles: live hosts of other systems are not supported; snapshots are.
func liveFiles(_ context.Context, _, hostOS string) (fileSet, error) {
	return nil, fmt.Errorf("tunnel: a live %s host can only be read on %s; record a snapshot there", hostOS, hostOS)
}
