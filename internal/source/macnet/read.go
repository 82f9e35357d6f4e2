package macnet

import (
	"context"
	"errors"
	"fmt"
)

// Result is the network a macOS host is attached to, in clear.
type Result struct {
	Interface  string
	GatewayIP  string
	GatewayMAC string
	SelfMAC    string
	Neighbours []string
	SSID       string
	BSSID      string
	// SSIDRedacted and BSSIDRedacted are set when macOS withheld them.
	SSIDRedacted, BSSIDRedacted bool
}

// Sources are the OS readers Read combines; live_darwin.go has the real
// ones (Live), tests give recorded buffers. A nil reader is skipped.
type Sources struct {
	// RouteDump returns the NET_RT_DUMP AF_INET sysctl buffer.
	RouteDump func() ([]byte, error)
	// ARPDump returns the NET_RT_FLAGS RTF_LLINFO AF_INET sysctl buffer.
	ARPDump func() ([]byte, error)
	// Interface returns an interface's name and MAC by index.
	Interface func(index int) (name, mac string, err error)
	// Summary returns the output of `ipconfig getsummary <name>`.
	Summary func(ctx context.Context, name string) ([]byte, error)
}

// Read returns the default gateway, its MAC, the neighbour MACs on its
// interface and, when that interface is Wi-Fi, the association. Partial
// results come with the joined errors of the readers that failed.
func Read(ctx context.Context, s Sources) (Result, error) {
	var res Result
	var errs []error
	var msgs []Message
	if s.RouteDump != nil {
		b, err := s.RouteDump()
		if err == nil {
			msgs, err = ParseMessages(b)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("route dump: %w", err))
		}
	}
	idx, gw, ok := DefaultGateway(msgs)
	if !ok {
		return res, errors.Join(errs...)
	}
	res.GatewayIP = gw.String()
	if s.Interface != nil {
		name, mac, err := s.Interface(int(idx))
		if err != nil {
			errs = append(errs, fmt.Errorf("interface %d: %w", idx, err))
		}
		res.Interface, res.SelfMAC = name, mac
	}
	if s.ARPDump != nil {
		b, err := s.ARPDump()
		var am []Message
		if err == nil {
			am, err = ParseMessages(b)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("arp dump: %w", err))
		}
		res.GatewayMAC, res.Neighbours = GatewayAndNeighbours(ARP(am), idx, gw)
	}
	if s.Summary != nil && res.Interface != "" {
		if err := ctx.Err(); err != nil {
			return res, errors.Join(append(errs, err)...)
		}
		out, err := s.Summary(ctx, res.Interface)
		var sum Summary
		if err == nil {
			sum, err = ParseSummary(out)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("wifi: %w", err))
		}
		if sum.WiFi {
			res.SSID, res.BSSID = sum.SSID, sum.BSSID
			res.SSIDRedacted, res.BSSIDRedacted = sum.SSIDRedacted, sum.BSSIDRedacted
		}
	}
	return res, errors.Join(errs...)
}
