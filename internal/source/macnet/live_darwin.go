//go:build darwin

package macnet

import (
	"context"
	"net"
	"time"

	xroute "golang.org/x/net/route"
	"golang.org/x/sys/unix"

	"github.com/farmwatch/farmwatch/internal/source/command"
)

// summaryTimeout bounds one `ipconfig getsummary`.
const summaryTimeout = 5 * time.Second

// Live returns the readers of this host: the route sysctls through
// x/net/route's FetchRIB (a sysctl, no subprocess), the interface by index,
// and /usr/sbin/ipconfig for the Wi-Fi association (the one documented
// source of SSID/BSSID without cgo and CoreWLAN).
func Live() Sources {
	return Sources{
		RouteDump: func() ([]byte, error) {
			return xroute.FetchRIB(unix.AF_INET, xroute.RIBTypeRoute, 0)
		},
		ARPDump: func() ([]byte, error) {
			return xroute.FetchRIB(unix.AF_INET, xroute.RIBType(unix.NET_RT_FLAGS), unix.RTF_LLINFO)
		},
		Interface: func(index int) (string, string, error) {
			ifi, err := net.InterfaceByIndex(index)
			if err != nil {
				return "", "", err
			}
			return ifi.Name, ifi.HardwareAddr.String(), nil
		},
		Summary: func(ctx context.Context, name string) ([]byte, error) {
			return command.RunWith(ctx, command.Options{Timeout: summaryTimeout, MaxOutput: 1 << 20},
				"/usr/sbin/ipconfig", "getsummary", name)
		},
	}
}
