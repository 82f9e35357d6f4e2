package source

import "context"

// tcpStats: placeholder replaced by the pcblist_n reader (in progress).
func tcpStats(context.Context, []Connection) (map[ConnKey]TCPStats, error) { return nil, nil }
