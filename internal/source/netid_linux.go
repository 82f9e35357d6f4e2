//go:build linux

package source

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/mdlayher/wifi"
)

// liveNetwork reads the procfs tables under root and, on this host (root
// "/"), the Wi-Fi association of the default route's interface over
// nl80211. A host without Wi-Fi (or without nl80211) simply has no BSSID.
func liveNetwork(ctx context.Context, root string) (Network, error) {
	n, err := procNetwork(root)
	if err != nil || (root != "/" && root != "") || n.Interface == "" {
		return n, err
	}
	if ctx.Err() != nil {
		return n, fmt.Errorf("network: %w", ctx.Err())
	}
	c, err := wifi.New()
	if err != nil {
		return n, nil // no nl80211: no Wi-Fi to report
	}
	defer c.Close()
	ifis, err := c.Interfaces()
	if err != nil {
		return n, nil
	}
	for _, ifi := range ifis {
		if ifi.Name != n.Interface {
			continue
		}
		bss, err := c.BSS(ifi)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) { // not associated
				return n, nil
			}
			return n, fmt.Errorf("network: wifi %s: %w", ifi.Name, err)
		}
		n.BSSID, n.SSID = bss.BSSID.String(), bss.SSID
	}
	return n, nil
}
