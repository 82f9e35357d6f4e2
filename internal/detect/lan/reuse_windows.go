//go:build windows

package lan

import (
	"syscall"

	"golang.org/x/sys/windows"
)

// reuseControl lets the mDNS socket share port 5353 with the Windows mDNS
// responder (dnscache) and Bonjour.
func reuseControl(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = windows.SetsockoptInt(windows.Handle(fd), windows.SOL_SOCKET, windows.SO_REUSEADDR, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
