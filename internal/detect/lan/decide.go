package lan

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/farmwatch/farmwatch/internal/report"
)

// Rules.
const (
	RuleKVMOUI   = "lan.neighbor.kvm_oui"
	RuleMDNSKVM  = "lan.mdns.kvm"
	RuleWebUIKVM = "lan.webui.kvm"
	RuleDensity  = "lan.density.laptops"
)

// decide turns what was read into findings. It is pure.
func decide(hostID string, v *View, webs map[string][]WebUI, s *Settings) []report.Finding {
	var out []report.Finding
	for _, d := range devices(v) {
		d.webs = webs[d.ip]
		if f, ok := kvmFinding(hostID, d); ok {
			out = append(out, f)
		}
	}
	if f, ok := densityFinding(hostID, v, s); ok {
		out = append(out, f)
	}
	report.Sort(out)
	return out
}

// kvmFinding reports one device that looks like an IP-KVM, at the rule of
// its strongest evidence: a web UI title/certificate naming a KVM (high),
// an mDNS name or service naming one (medium), a KVM maker's OUI alone
// (low: Raspberry Pis and GL.iNet routers are common for other reasons).
func kvmFinding(hostID string, d *device) (report.Finding, bool) {
	ev := map[string]any{"ip": d.ip}
	if d.mac != "" {
		ev["mac"] = d.mac
	}
	if d.iface != "" {
		ev["interface"] = d.iface
	}
	if len(d.otherIPs) > 0 {
		ev["other_ips"] = d.otherIPs
	}
	kvmOUI := d.ouiKnown && d.oui.Kind == "kvm"
	if kvmOUI {
		ev["oui_vendor"] = d.oui.Vendor
		ev["oui_verified"] = d.oui.Verified
	}
	mdnsTool := ""
	if d.heard != nil {
		mdnsTool = heardTool(d.heard)
		if mdnsTool != "" || kvmOUI {
			if len(d.heard.Names) > 0 {
				ev["mdns_names"] = d.heard.Names
			}
			if len(d.heard.Services) > 0 {
				ev["services"] = d.heard.Services
			}
			if len(d.heard.Hosts) > 0 {
				ev["mdns_hosts"] = d.heard.Hosts
				ev["mdns_name"] = d.heard.Hosts[0]
			}
		}
	}
	webTool, web := "", WebUI{}
	for _, w := range d.webs {
		if t := kvmTool(w.Title + " " + w.CertSubject); t != "" {
			webTool, web = t, w
			break
		}
	}
	if len(d.webs) > 0 {
		var seen []map[string]any
		for _, w := range d.webs {
			m := map[string]any{"url": w.URL}
			if w.Title != "" {
				m["title"] = w.Title
			}
			if w.CertSubject != "" {
				m["cert_subject"] = w.CertSubject
			}
			if w.Server != "" {
				m["server"] = w.Server
			}
			seen = append(seen, m)
		}
		ev["web"] = seen
	}
	who := d.ip
	if d.mac != "" {
		who += " (" + d.mac + ")"
	}
	f := report.Finding{Category: report.CategoryLANDevice, Evidence: ev}
	switch {
	case webTool != "":
		f.Rule, f.Tool, f.Severity, f.Confidence = RuleWebUIKVM, webTool, report.SeverityHigh, 0.9
		ev["title"], ev["url"] = web.Title, web.URL
		if web.CertSubject != "" {
			ev["cert_subject"] = web.CertSubject
		}
		what := fmt.Sprintf("title %q", web.Title)
		if kvmTool(web.Title) == "" {
			what = fmt.Sprintf("certificate %q", web.CertSubject)
		}
		f.Summary = fmt.Sprintf("IP-KVM web UI on the LAN: %s serves %s with %s", who, web.URL, what)
	case mdnsTool != "":
		f.Rule, f.Tool, f.Severity, f.Confidence = RuleMDNSKVM, mdnsTool, report.SeverityMedium, 0.75
		if kvmOUI {
			f.Confidence = 0.85
		}
		f.Summary = fmt.Sprintf("IP-KVM announced over mDNS on the LAN: %s (%s)", who, strings.Join(firstN(append(append([]string{}, d.heard.Names...), d.heard.Services...), 4), ", "))
	case kvmOUI:
		f.Rule, f.Tool, f.Severity, f.Confidence = RuleKVMOUI, "ip-kvm", report.SeverityLow, 0.3
		f.Summary = fmt.Sprintf("Neighbour %s has a MAC of %s, a maker of boards used as IP-KVMs", who, d.oui.Vendor)
	default:
		return f, false
	}
	subject := d.mac
	if subject == "" {
		subject = d.ip
	}
	f.ID = report.StableID(hostID, f.Rule, f.Tool, subject)
	return f, true
}

func firstN(ss []string, n int) []string {
	if len(ss) > n {
		return ss[:n]
	}
	return ss
}

// densityFinding reports many distinct laptops on one small LAN: neighbours
// with laptop-maker OUIs, and host names of unrelated naming schemes
// heard over mDNS.
func densityFinding(hostID string, v *View, s *Settings) (report.Finding, bool) {
	small := smallLANs(v.Addresses, s.SmallLANPrefix)
	if len(small) == 0 {
		return report.Finding{}, false
	}
	inSmall := func(ip string) bool {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return false
		}
		for _, p := range small {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	laptops := map[string]string{} // MAC → vendor
	for _, n := range v.Neighbors {
		if o, ok := lookupOUI(n.MAC); ok && o.Kind == "laptop" && inSmall(n.IP) {
			laptops[n.MAC] = o.Vendor
		}
	}
	schemes := map[string][]string{}
	for _, h := range v.Heard {
		if !inSmall(h.From) {
			continue
		}
		for _, host := range h.Hosts {
			if kvmTool(host) != "" {
				continue // a KVM is not a laptop
			}
			if sc := nameScheme(host); sc != "" && len(schemes[sc]) < 3 {
				schemes[sc] = append(schemes[sc], host)
			}
		}
	}
	minL, minS := s.DensityMinLaptops, s.DensityMinNameSchemes
	if minL <= 0 {
		minL = 8
	}
	if minS <= 0 {
		minS = 6
	}
	nl, ns := len(laptops), len(schemes)
	if nl < minL && ns < minS {
		return report.Finding{}, false
	}
	sev := report.SeverityLow
	if nl >= 2*minL || ns >= 2*minS {
		sev = report.SeverityMedium
	}
	vendors := map[string]int{}
	for _, vnd := range laptops {
		vendors[vnd]++
	}
	var nets []string
	for _, p := range small {
		nets = append(nets, p.String())
	}
	var examples []string
	var keys []string
	for k := range schemes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		examples = append(examples, schemes[k][0])
	}
	f := report.Finding{
		Rule: RuleDensity, Category: report.CategoryLANDevice, Tool: "laptop-farm",
		Severity: sev, Confidence: 0.4,
		Summary: fmt.Sprintf("Many distinct laptops on a small LAN (%s): %d neighbours with laptop-maker MACs, %d unrelated host-naming schemes over mDNS",
			strings.Join(nets, ", "), nl, ns),
		Evidence: map[string]any{
			"networks": nets, "laptop_neighbors": nl, "laptop_vendors": vendors,
			"name_schemes": ns, "example_hosts": firstN(examples, 12),
			"thresholds": map[string]int{"laptops": minL, "name_schemes": minS},
		},
	}
	f.ID = report.StableID(hostID, f.Rule, f.Tool, strings.Join(nets, ","))
	return f, true
}

// smallLANs returns this host's IPv4 subnets of at least minBits prefix
// bits (not loopback or link-local), deduplicated.
func smallLANs(addrs []string, minBits int) []netip.Prefix {
	if minBits <= 0 {
		minBits = 22
	}
	seen := map[netip.Prefix]bool{}
	var out []netip.Prefix
	for _, p := range parsePrefixes(addrs) {
		a := p.Addr()
		if !a.Is4() || a.IsLoopback() || a.IsLinkLocalUnicast() || p.Bits() < minBits || p.Bits() >= 31 {
			continue
		}
		m := p.Masked()
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// nameScheme reduces a host name to its naming scheme: lower-case first
// label with digits and separators removed ("DESKTOP-4F2K9.local" →
// "desktopfk"; "alice-mbp" → "alicembp"). Generic names that many makers
// use for every machine are collapsed: desktop-/laptop-/win- prefixes keep
// just the prefix, so that N Windows machines are one scheme.
func nameScheme(host string) string {
	l := strings.ToLower(host)
	if i := strings.IndexByte(l, '.'); i >= 0 {
		l = l[:i]
	}
	for _, p := range []string{"desktop-", "laptop-", "win-", "android-", "iphone", "ipad", "raspberrypi"} {
		if strings.HasPrefix(l, p) {
			return p
		}
	}
	var b strings.Builder
	for _, r := range l {
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
