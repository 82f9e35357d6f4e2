package network

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/flow"
	"github.com/farmwatch/farmwatch/internal/report"
)

// portProtocols remembers, per server address:port, which protocols its
// finished flows spoke, and per client/server address pair whether TLS
// over TCP 443 and DTLS over UDP 443 were both used. Two findings come of
// it at the end:
//   - one port answering SSH, TLS, OpenVPN, HTTP or SOCKS alike (sslh and
//     similar multiplexers hide SSH or a VPN behind 443);
//   - DTLS on UDP 443 next to TLS on TCP 443 to the same server: the
//     AnyConnect protocol (OpenConnect, ocserv, Cisco) and other SSL VPNs
//     that move the tunnel to DTLS after a TLS login.
type portProtocols struct {
	ports map[netip.AddrPort]*portStat
	pairs map[[2]netip.Addr]*pairStat
}

type portStat struct {
	protos      map[string]int
	first, last int64
	example     netip.Addr // a client
}

type pairStat struct {
	tls, dtls   bool
	sni         string
	first, last int64
}

const maxPortProtocols = 4096

func newPortProtocols() *portProtocols {
	return &portProtocols{ports: make(map[netip.AddrPort]*portStat), pairs: make(map[[2]netip.Addr]*pairStat)}
}

// add records a finished flow.
func (p *portProtocols) add(f *flow.Flow, m *Meta) {
	if m == nil {
		return
	}
	proto := ""
	switch {
	case f.Proto != 6:
	case m.SSHServer != nil || m.SSHClient != nil:
		proto = "ssh"
	case m.TLSClient != nil || m.TLSServer != nil:
		proto = "tls"
	case m.SOCKS != nil && !m.SOCKSReverse:
		proto = "socks"
	case m.HTTPReq != nil:
		proto = "http"
	default:
		if _, ok := m.mark("openvpn"); ok {
			proto = "openvpn"
		}
	}
	if proto != "" {
		k := netip.AddrPortFrom(f.Server.Addr, f.Server.Port)
		s := p.ports[k]
		if s == nil && len(p.ports) < maxPortProtocols {
			s = &portStat{protos: map[string]int{}, first: f.Start, example: f.Client.Addr}
			p.ports[k] = s
		}
		if s != nil {
			s.protos[proto]++
			s.last = max(s.last, f.Last)
		}
	}
	if f.Server.Port != 443 {
		return
	}
	tcpTLS := f.Proto == 6 && m.TLSClient != nil
	dtls := f.Proto == 17 && m.DTLS
	if !tcpTLS && !dtls {
		return
	}
	k := [2]netip.Addr{f.Client.Addr, f.Server.Addr}
	s := p.pairs[k]
	if s == nil {
		if len(p.pairs) >= maxPortProtocols {
			return
		}
		s = &pairStat{first: f.Start}
		p.pairs[k] = s
	}
	s.last = max(s.last, f.Last)
	if tcpTLS {
		s.tls = true
		if s.sni == "" {
			s.sni = m.TLSClient.SNI
		}
	}
	if dtls {
		s.dtls = true
	}
}

func (p *portProtocols) classify(e *Engine, dst map[string]*report.Finding) {
	ports := make([]netip.AddrPort, 0, len(p.ports))
	for k := range p.ports {
		ports = append(ports, k)
	}
	sort.Slice(ports, func(i, j int) bool { return ports[i].Compare(ports[j]) < 0 })
	for _, k := range ports {
		s := p.ports[k]
		hidden := s.protos["ssh"] > 0 || s.protos["openvpn"] > 0 || s.protos["socks"] > 0
		if len(s.protos) < 2 || !hidden {
			continue
		}
		names := make([]string, 0, len(s.protos))
		for n, c := range s.protos {
			names = append(names, fmt.Sprintf("%s×%d", n, c))
		}
		sort.Strings(names)
		sev := report.SeverityLow
		dir := "outbound"
		if e.local(k.Addr()) {
			sev, dir = report.SeverityMedium, "inbound"
		}
		r := result{Rule: "network.multiplexer.port", Tool: "protocol-multiplexer", Category: report.CategoryTunnel,
			Severity: sev, Conf: 0.8, Matched: "one port answers " + strings.Join(names, ", "),
			Summary: fmt.Sprintf("%s answers several protocols on one port (%s): a multiplexer such as sslh hides a tunnel behind it.", k, strings.Join(names, ", "))}
		ts, last := time.Unix(0, s.first).UTC(), time.Unix(0, s.last).UTC()
		ev := map[string]any{"server": k.String(), "client": s.example.String(), "protocols": strings.Join(names, ", "), "direction": dir,
			"start": ts.Format(time.RFC3339Nano), "duration_s": round3(last.Sub(ts).Seconds()), "matched": r.Matched, "proto": "tcp"}
		e.add(dst, "multiplexer|"+k.String(), ts, last, r, ev)
	}
	pairs := make([][2]netip.Addr, 0, len(p.pairs))
	for k, s := range p.pairs {
		if s.tls && s.dtls {
			pairs = append(pairs, k)
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0].Less(pairs[j][0])
		}
		return pairs[i][1].Less(pairs[j][1])
	})
	for _, k := range pairs {
		s := p.pairs[k]
		sev := report.SeverityMedium
		dir := "outbound"
		if e.local(k[1]) && !e.local(k[0]) {
			sev, dir = report.SeverityHigh, "inbound"
		}
		r := result{Rule: "network.sslvpn.dtls", Tool: "ssl-vpn", Category: report.CategoryVPN,
			Severity: sev, Conf: 0.75, Matched: "DTLS on UDP 443 alongside TLS on TCP 443 to the same server",
			Summary: fmt.Sprintf("SSL VPN (AnyConnect-style TLS login, DTLS tunnel) from %s to %s.", k[0], k[1])}
		ts, last := time.Unix(0, s.first).UTC(), time.Unix(0, s.last).UTC()
		ev := map[string]any{"client": k[0].String(), "server": netip.AddrPortFrom(k[1], 443).String(), "direction": dir,
			"start": ts.Format(time.RFC3339Nano), "duration_s": round3(last.Sub(ts).Seconds()), "matched": r.Matched, "proto": "udp+tcp"}
		if s.sni != "" {
			ev[report.EvTLSSNI] = s.sni
		}
		e.add(dst, "sslvpn-dtls|"+k[0].String()+"|"+k[1].String(), ts, last, r, ev)
	}
}
