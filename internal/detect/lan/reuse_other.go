//go:build !linux && !darwin && !windows

package lan

import "syscall"

func reuseControl(_, _ string, _ syscall.RawConn) error { return nil }
