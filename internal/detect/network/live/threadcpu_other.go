//go:build !linux && !darwin

package live

import "time"

// threadCPU is not available here (and there is no live capture either).
func threadCPU() (time.Duration, bool) { return 0, false }
