//go:build linux

package hotplug

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

type netlinkConn struct{ fd int }

// openUevent opens a NETLINK_KOBJECT_UEVENT socket bound to the kernel's
// uevent multicast group, with a receive timeout so the loop can notice
// Stop.
func openUevent() (conn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_KOBJECT_UEVENT)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1, Pid: 0}); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("bind", err)
	}
	tv := unix.NsecToTimeval(readTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("setsockopt", err)
	}
	// A burst of events (a hub with many devices) must not be lost.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
	return &netlinkConn{fd: fd}, nil
}

func (c *netlinkConn) Read(p []byte) (int, error) {
	n, from, err := unix.Recvfrom(c.fd, p, 0)
	switch {
	case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR):
		return 0, errTimeout
	case errors.Is(err, unix.ENOBUFS):
		// The kernel dropped events: report a synthetic change so the
		// caller rescans rather than missing a device.
		return copy(p, "change@/devices\x00ACTION=change\x00SUBSYSTEM=usb\x00"), nil
	case err != nil:
		return 0, err
	}
	// Only the kernel (port id 0) sends uevents; anything else is spoofable.
	if sa, ok := from.(*unix.SockaddrNetlink); !ok || sa.Pid != 0 {
		return 0, errTimeout
	}
	return n, nil
}

func (c *netlinkConn) Close() error { return unix.Close(c.fd) }
