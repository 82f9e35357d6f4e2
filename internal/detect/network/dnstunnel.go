package network

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/farmwatch/farmwatch/internal/detect/network/proto/dns"
	"github.com/farmwatch/farmwatch/internal/report"
)

// dnsTunnels tracks queries per (client, registered domain). A tunnel
// (iodine, dnscat2, dns2tcp) sends many queries whose subdomains are long,
// high-entropy encodings of data, often with NULL/TXT/CNAME record types.
type dnsTunnels struct {
	m map[dnsTunKey]*dnsTunStat
}

type dnsTunKey struct {
	client netip.Addr
	domain string
}

type dnsTunStat struct {
	queries, long, dataTypes int
	sumLen                   int
	sumEntropy               float64
	first, last              int64
	resolver                 netip.Addr
	example                  string
}

const maxTunnelDomains = 4096

func newDNSTunnels() *dnsTunnels { return &dnsTunnels{m: make(map[dnsTunKey]*dnsTunStat)} }

func (d *dnsTunnels) query(client, resolver netip.Addr, m *dns.Message, t int64) {
	reg := dns.Registered(m.QName)
	sub := strings.TrimSuffix(strings.TrimSuffix(m.QName, reg), ".")
	k := dnsTunKey{client, reg}
	s := d.m[k]
	if s == nil {
		if len(d.m) >= maxTunnelDomains || sub == "" {
			return
		}
		s = &dnsTunStat{first: t, resolver: resolver}
		d.m[k] = s
	}
	s.queries++
	s.last = t
	s.sumLen += len(sub)
	if len(sub)-strings.Count(sub, ".") >= 30 {
		s.long++
		s.sumEntropy += dns.Entropy(sub)
		if s.example == "" {
			s.example = printable(m.QName)
			if len(s.example) > 120 {
				s.example = s.example[:120] + "…"
			}
		}
	}
	switch m.QType {
	case 10, 16, 5, 15, 33: // NULL, TXT, CNAME, MX, SRV
		s.dataTypes++
	}
}

// classify: ≥ 20 queries to one domain of which ≥ 10 carry ≥ 30
// characters of subdomain with a mean entropy ≥ 3.5 bits/char (encoded
// data; tunnels poll with short names in between), or ≥ 50 queries that
// are nearly all of data-carrying record types (NULL, TXT, …).
func (d *dnsTunnels) classify(e *Engine, dst map[string]*report.Finding) {
	keys := make([]dnsTunKey, 0, len(d.m))
	for k := range d.m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].domain != keys[j].domain {
			return keys[i].domain < keys[j].domain
		}
		return keys[i].client.Less(keys[j].client)
	})
	for _, k := range keys {
		s := d.m[k]
		if s.queries < 20 {
			continue
		}
		longFrac := float64(s.long) / float64(s.queries)
		ent := 0.0
		if s.long > 0 {
			ent = s.sumEntropy / float64(s.long)
		}
		dataFrac := float64(s.dataTypes) / float64(s.queries)
		if !(s.long >= 10 && ent >= 3.5) && !(s.queries >= 50 && dataFrac >= 0.8) {
			continue
		}
		ts := time.Unix(0, s.first).UTC()
		last := time.Unix(0, s.last).UTC()
		domain := printable(k.domain)
		r := result{Rule: "network.dns.tunnel", Tool: "dns-tunnel", Category: report.CategoryTunnel,
			Severity: report.SeverityMedium, Conf: 0.85,
			Matched: fmt.Sprintf("%d queries under %s, %.0f%% with ≥ 30-character subdomains (mean entropy %.2f bits/char), %.0f%% NULL/TXT-type", s.queries, domain, 100*longFrac, ent, 100*dataFrac),
			Summary: fmt.Sprintf("DNS tunnel: %s encodes data in queries under %s.", k.client, domain)}
		ev := map[string]any{"client": k.client.String(), "resolver": s.resolver.String(), "domain": domain,
			"queries": s.queries, "mean_subdomain_len": round3(float64(s.sumLen) / float64(s.queries)),
			"mean_entropy_long": round3(ent), "long_queries": s.long, "data_record_queries": s.dataTypes, "example_query": s.example,
			"start": ts.Format(time.RFC3339Nano), "duration_s": round3(last.Sub(ts).Seconds()), "matched": r.Matched, "proto": "dns"}
		e.add(dst, "dnstunnel|"+k.client.String()+"|"+domain, ts, last, r, ev)
	}
}

// printable replaces bytes outside printable ASCII (DNS names may carry
// raw binary in tunnels) so reports stay valid, readable text.
func printable(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] < 0x20 || b[j] >= 0x7f {
					b[j] = '?'
				}
			}
			return string(b)
		}
	}
	return s
}
