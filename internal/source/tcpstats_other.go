//go:build !linux && !darwin && !windows

package source

import "context"

// tcpStats: this OS exposes no per-connection counters farmwatch reads.
func tcpStats(context.Context, []Connection) (map[ConnKey]TCPStats, error) { return nil, nil }
