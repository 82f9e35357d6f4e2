package winnet

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Result is the network a Windows host is attached to, in clear.
type Result struct {
	Interface  string // the default route's interface (its Go/Windows name)
	GatewayIP  string
	GatewayMAC string
	SelfMAC    string
	Neighbours []string
	SSID       string
	BSSID      string
	// WiFiRedacted is set when Windows withheld the Wi-Fi association
	// (no location permission: Windows 11 24H2 and later).
	WiFiRedacted bool
	// WiFiSource names where SSID/BSSID came from: "wlanapi" or "netsh".
	WiFiSource string
}

// Sources are the OS readers Read combines; live_windows.go has the real
// ones (Live), tests give recorded buffers. A nil reader is skipped.
type Sources struct {
	// ForwardTable returns the MIB_IPFORWARD_TABLE2 bytes of AF_INET.
	ForwardTable func() ([]byte, error)
	// InterfaceMetrics returns the IPv4 interface metrics by index.
	InterfaceMetrics func() (map[uint32]uint32, error)
	// NetTable returns the MIB_IPNET_TABLE2 bytes of AF_INET.
	NetTable func() ([]byte, error)
	// Interface returns an interface's name and MAC by index.
	Interface func(index uint32) (name, mac string, err error)
	// Wlan returns the current connections of the connected Wi-Fi
	// interfaces through wlanapi.dll.
	Wlan func(ctx context.Context) ([]Connection, error)
	// Netsh returns the output of `netsh wlan show interfaces`.
	Netsh func(ctx context.Context) ([]byte, error)
}

// ErrWlanAccessDenied is what a Wlan reader returns when Windows refuses the
// connection attributes (ERROR_ACCESS_DENIED: no location permission).
var ErrWlanAccessDenied = errors.New("wlanapi: access denied (location permission)")

// Read returns the default gateway, its MAC, the neighbour MACs on its
// interface and the Wi-Fi association. Partial results come with the joined
// errors of the readers that failed.
func Read(ctx context.Context, s Sources) (Result, error) {
	var res Result
	var errs []error
	var routes []Route
	if s.ForwardTable != nil {
		b, err := s.ForwardTable()
		if err == nil {
			routes, err = DecodeForwardTable2(b)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("route table: %w", err))
		}
	}
	var metrics map[uint32]uint32
	if s.InterfaceMetrics != nil {
		m, err := s.InterfaceMetrics()
		if err != nil {
			errs = append(errs, fmt.Errorf("interface metrics: %w", err))
		}
		metrics = m
	}
	if r, ok := DefaultRoute(routes, metrics); ok {
		res.GatewayIP = r.NextHop.String()
		if s.Interface != nil {
			name, mac, err := s.Interface(r.IfIndex)
			if err != nil {
				errs = append(errs, fmt.Errorf("interface %d: %w", r.IfIndex, err))
			}
			res.Interface, res.SelfMAC = name, mac
		}
		if s.NetTable != nil {
			b, err := s.NetTable()
			var ns []Neighbor
			if err == nil {
				ns, err = DecodeIPNetTable2(b)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("neighbour table: %w", err))
			}
			res.GatewayMAC, res.Neighbours = GatewayAndNeighbours(ns, r.IfIndex, r.NextHop)
		}
	}
	if err := ctx.Err(); err != nil {
		return res, errors.Join(append(errs, err)...)
	}
	if err := readWiFi(ctx, s, &res); err != nil {
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

// readWiFi asks wlanapi first and netsh when wlanapi failed.
func readWiFi(ctx context.Context, s Sources, res *Result) error {
	var werr error
	if s.Wlan != nil {
		cs, err := s.Wlan(ctx)
		switch {
		case err == nil:
			if len(cs) > 0 {
				res.SSID, res.BSSID, res.WiFiSource = cs[0].SSID, cs[0].BSSID, "wlanapi"
			}
			return nil
		case errors.Is(err, ErrWlanAccessDenied):
			res.WiFiRedacted = true
			return nil
		}
		werr = fmt.Errorf("wifi: %w", err)
	}
	if s.Netsh == nil {
		return werr
	}
	out, err := s.Netsh(ctx)
	if err != nil {
		return errors.Join(werr, fmt.Errorf("wifi: %w", err))
	}
	ifs, err := ParseNetshInterfaces(out)
	if errors.Is(err, ErrLocationPermission) {
		res.WiFiRedacted = true
		return nil
	}
	if err != nil {
		return errors.Join(werr, fmt.Errorf("wifi: %w", err))
	}
	for _, i := range ifs {
		if strings.EqualFold(i.State, "connected") && (i.SSID != "" || i.BSSID != "") {
			res.SSID, res.BSSID, res.WiFiSource = i.SSID, i.BSSID, "netsh"
			return nil
		}
	}
	return nil // wlanapi failed but netsh answered: no connected Wi-Fi
}
