//go:build !linux && !windows

package source

import "context"

// tcpStats: other OSes expose no per-connection counters farmwatch reads.
// macOS has them, but there nativeConnections (conns_darwin.go) lists the
// sockets with their counters attached in one pass, so Connections never
// calls tcpStats.
func tcpStats(context.Context, []Connection) (map[ConnKey]TCPStats, error) { return nil, nil }
