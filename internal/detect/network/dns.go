package network

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
	"github.com/farmwatch/farmwatch/internal/detect/network/proto/dns"
	"github.com/farmwatch/farmwatch/internal/report"
)

// dns handles one DNS message: answers are remembered (address → name) so
// later flows to that address carry the name; queries feed the tunnel
// tracker and the name indicators.
func (e *Engine) dns(p *decode.Packet, t int64) {
	m := &e.dnsMsg
	if err := dns.Parse(p.Payload, m); err != nil {
		return
	}
	e.stats.DNSMessages++
	src := addrFrom(&p.Src, p.V6)
	dst := addrFrom(&p.Dst, p.V6)
	if m.Response {
		for _, a := range m.Addrs[:m.NAddrs] {
			if len(e.names) >= e.cfg.MaxDNSNames {
				// Bounded: drop an arbitrary quarter of the cache.
				n := 0
				for k := range e.names {
					delete(e.names, k)
					if n++; n >= e.cfg.MaxDNSNames/4 {
						break
					}
				}
			}
			e.names[a] = printable(m.QName)
		}
		return
	}
	e.dnsTun.query(src, dst, m, t)
	if ind := matchName(m.QName); ind != nil {
		qname := printable(m.QName)
		e.webrtcName(src, ind, t)
		subject := fmt.Sprintf("dns|%s|%s|%s", ind.tool, src, dns.Registered(qname))
		ts := time.Unix(0, t).UTC()
		r := result{Rule: "network." + ind.tool + ".dns", Tool: ind.tool, Category: ind.category,
			Severity: report.SeverityLow, Conf: 0.7, Matched: "DNS query " + qname,
			Summary: fmt.Sprintf("%s looked up %s, a %s name.", src, qname, ind.display)}
		ev := map[string]any{"client": src.String(), "resolver": dst.String(), "query": qname,
			"start": ts.Format(time.RFC3339Nano), "matched": r.Matched, "proto": "dns"}
		e.add(e.findings, subject, ts, ts, r, ev)
	}
}

func addrFrom(b *[16]byte, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16(*b)
	}
	return netip.AddrFrom4([4]byte{b[0], b[1], b[2], b[3]})
}
