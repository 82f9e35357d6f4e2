package source

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/farmwatch/farmwatch/internal/source/xnu"
)

// pcblistSysctl is the kernel's TCP PCB table with socket and tcpcb
// details (what `netstat -b -v` reads); see package xnu for its layout.
const pcblistSysctl = "net.inet.tcp.pcblist_n"

// udpPCBListSysctl is the kernel's UDP PCB table (same layout as the TCP
// one minus the tcpcb; see package xnu).
const udpPCBListSysctl = "net.inet.udp.pcblist_n"

// On macOS gopsutil lists sockets by running lsof, which costs seconds of
// CPU per call; the kernel's PCB tables give the same sockets, their
// owners and the TCP counters in one sysctl per protocol.
func init() { nativeConnections = darwinConnections }

// darwinConnections lists TCP (every state, LISTEN included) and UDP
// sockets from net.inet.tcp.pcblist_n and net.inet.udp.pcblist_n. A socket
// is attributed to so_last_pid (what `netstat -anv` shows as pid), or to
// so_e_pid when that is 0. When a table cannot be read or parsed the
// sockets parsed so far are returned with the error.
func darwinConnections(ctx context.Context) ([]Connection, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tb, err := readPCBList(pcblistSysctl)
	if err != nil {
		return nil, err
	}
	tcp, terr := xnu.ParseTCPPCBList(tb)
	if terr != nil {
		terr = fmt.Errorf("parse %s (%d bytes): %w", pcblistSysctl, len(tb), terr)
	}
	if err := ctx.Err(); err != nil {
		return connectionsFromPCBs(tcp, nil), errors.Join(terr, err)
	}
	ub, err := readPCBList(udpPCBListSysctl)
	if err != nil {
		return connectionsFromPCBs(tcp, nil), errors.Join(terr, err)
	}
	udp, uerr := xnu.ParseUDPPCBList(ub)
	if uerr != nil {
		uerr = fmt.Errorf("parse %s (%d bytes): %w", udpPCBListSysctl, len(ub), uerr)
	}
	return connectionsFromPCBs(tcp, udp), errors.Join(terr, uerr)
}

// readPCBList reads a pcblist_n sysctl, retrying when the table grew
// between the kernel's size probe and the copy (ENOMEM).
func readPCBList(name string) ([]byte, error) {
	var err error
	for range 3 {
		var b []byte
		b, err = unix.SysctlRaw(name)
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, unix.ENOMEM) {
			break
		}
	}
	return nil, fmt.Errorf("sysctl %s: %w", name, err)
}
