//go:build windows

package source

import (
	"context"
	"fmt"

	"github.com/farmwatch/farmwatch/internal/source/winnet"
)

// liveNetwork reads the IPv4 route and neighbour tables through the IP
// Helper API (GetIpForwardTable2, GetIpInterfaceTable, GetIpNetTable2) and
// the Wi-Fi association through wlanapi.dll, falling back to `netsh wlan
// show interfaces` (package winnet). root is not used: Windows has no
// file-system view of these tables; recorded hosts give network.json.
func liveNetwork(ctx context.Context, _ string) (Network, error) {
	r, err := winnet.Read(ctx, winnet.Live())
	n := Network{Interface: r.Interface, GatewayIP: r.GatewayIP, GatewayMAC: r.GatewayMAC, SelfMAC: r.SelfMAC,
		Neighbours: r.Neighbours, SSID: r.SSID, BSSID: r.BSSID}
	if r.WiFiRedacted {
		n.Redacted = []string{RedactedBSSID, RedactedSSID}
	}
	if err != nil {
		return n, fmt.Errorf("network: %w", err)
	}
	return n, nil
}
