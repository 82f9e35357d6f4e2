package lan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/net/ipv4"
)

var mdnsGroup = net.IPv4(224, 0, 0, 251)

const maxMulticastIfaces = 64

// listenMDNS listens on UDP 5353 (sharing the port with avahi/mDNSResponder
// through SO_REUSEADDR/SO_REUSEPORT), joined to 224.0.0.251 on every up
// multicast interface, for window, after sending one PTR query when query
// is true. It returns what each responder announced.
func listenMDNS(ctx context.Context, window time.Duration, query bool) ([]Heard, error) {
	if window <= 0 {
		return nil, nil
	}
	lc := net.ListenConfig{Control: reuseControl}
	c, err := lc.ListenPacket(ctx, "udp4", "0.0.0.0:5353")
	if err != nil {
		return nil, fmt.Errorf("mdns listen: %w", err)
	}
	defer c.Close()
	p := ipv4.NewPacketConn(c)
	ifs, _ := net.Interfaces()
	var joined []net.Interface
	var errs []error
	for _, ifi := range ifs {
		if len(joined) >= maxMulticastIfaces {
			break
		}
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagMulticast == 0 || ifi.Flags&net.FlagLoopback != 0 || !hasIPv4(ifi) {
			continue
		}
		ifi := ifi
		if err := p.JoinGroup(&ifi, &net.UDPAddr{IP: mdnsGroup}); err != nil {
			errs = append(errs, fmt.Errorf("mdns join on %s: %w", ifi.Name, err))
			continue
		}
		joined = append(joined, ifi)
	}
	if len(joined) == 0 {
		return nil, errors.Join(append(errs, errors.New("mdns: no multicast interface joined"))...)
	}
	if query {
		q, err := mdnsQuery()
		if err == nil {
			_ = p.SetMulticastTTL(255)
			for _, ifi := range joined {
				ifi := ifi
				if p.SetMulticastInterface(&ifi) == nil {
					_, _ = p.WriteTo(q, nil, &net.UDPAddr{IP: mdnsGroup, Port: 5353})
				}
			}
		}
	}
	deadline := time.Now().Add(window)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = c.SetReadDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(time.Now()) })
	defer stop()
	m := map[string]*Heard{}
	buf := make([]byte, maxMDNSPacket+1)
	for n := 0; n < maxMDNSPackets; n++ {
		k, _, src, err := p.ReadFrom(buf)
		if err != nil {
			break
		}
		ua, ok := src.(*net.UDPAddr)
		if !ok || k > maxMDNSPacket {
			continue
		}
		from := normIP(ua.IP.String())
		if r, ok := parseMDNS(buf[:k]); ok && from != "" {
			heardFrom(m, from, r)
		}
	}
	return sortedHeard(m), errors.Join(errs...)
}

func hasIPv4(ifi net.Interface) bool {
	addrs, _ := ifi.Addrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
			return true
		}
	}
	return false
}
