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

// tcpStats reads every TCP PCB from net.inet.tcp.pcblist_n in one sysctl
// and keys the synchronized ones (ESTABLISHED and the closing states) by
// endpoints. The counters are converted by tcpStatsFromPCB (conns_xnu.go),
// which darwinConnections shares.
func tcpStats(ctx context.Context, _ []Connection) (map[ConnKey]TCPStats, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := readPCBList(pcblistSysctl)
	if err != nil {
		return nil, err
	}
	conns, perr := xnu.ParseTCPPCBList(b)
	out := make(map[ConnKey]TCPStats, len(conns))
	states := make(map[ConnKey]int, len(conns))
	for _, c := range conns {
		if !xnuSynchronized(c.State) {
			continue // LISTEN, SYN_SENT, …: no peer traffic worth keying
		}
		k := MakeConnKey("tcp", c.Local, c.Remote)
		// A TIME_WAIT PCB may share a 4-tuple with a newer connection:
		// keep the ESTABLISHED one.
		if prev, ok := states[k]; ok && prev == xnu.TCPSEstablished {
			continue
		}
		states[k] = c.State
		out[k] = tcpStatsFromPCB(c)
	}
	if perr != nil {
		return out, fmt.Errorf("parse %s (%d bytes): %w", pcblistSysctl, len(b), perr)
	}
	return out, nil
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
