//go:build darwin

package source

import (
	"context"
	"fmt"

	"github.com/farmwatch/farmwatch/internal/source/macnet"
)

// liveNetwork reads the default gateway and the ARP table from the kernel
// routing table (route sysctls, no subprocess) and the Wi-Fi association
// from `ipconfig getsummary` (package macnet). root is not used: macOS has
// no file-system view of these tables; recorded hosts give network.json.
func liveNetwork(ctx context.Context, _ string) (Network, error) {
	r, err := macnet.Read(ctx, macnet.Live())
	n := Network{Interface: r.Interface, GatewayIP: r.GatewayIP, GatewayMAC: r.GatewayMAC, SelfMAC: r.SelfMAC,
		Neighbours: r.Neighbours, SSID: r.SSID, BSSID: r.BSSID}
	if r.BSSIDRedacted {
		n.Redacted = append(n.Redacted, RedactedBSSID)
	}
	if r.SSIDRedacted {
		n.Redacted = append(n.Redacted, RedactedSSID)
	}
	if err != nil {
		return n, fmt.Errorf("network: %w", err)
	}
	return n, nil
}
