//go:build !linux && !windows && !darwin

package source

import (
	"context"
	"errors"
	"net"
)

// errNoNetworkTables: the gateway and neighbour tables are read on Linux
// only so far (Windows GetIpForwardTable2/GetIpNetTable2 and the macOS
// routing socket are the planned seams); elsewhere only this host's own
// interface MAC is known.
var errNoNetworkTables = errors.New("network: gateway and neighbour tables are read on Linux only")

// liveNetwork gives the MAC of the first up, non-loopback interface.
func liveNetwork(_ context.Context, _ string) (Network, error) {
	var n Network
	ifs, err := net.Interfaces()
	if err != nil {
		return n, errors.Join(errNoNetworkTables, err)
	}
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagLoopback == 0 && len(ifi.HardwareAddr) == 6 {
			n.Interface, n.SelfMAC = ifi.Name, ifi.HardwareAddr.String()
			break
		}
	}
	return n, errNoNetworkTables
}
