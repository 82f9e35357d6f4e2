//go:build !linux

package source

import (
	"context"
	"net/netip"
)

// oneConnLookup: macOS and Windows answer from their connection tables
// (pcblist_n is one sysctl; GetExtendedTcpTable a table), which the caller
// reads; only the owning process is then read alone.
const oneConnLookup = false

func lookupConnection(context.Context, string, string, netip.AddrPort, netip.AddrPort) (Connection, SocketInfo, error) {
	return Connection{}, SocketInfo{}, ErrLookupUnsupported
}
