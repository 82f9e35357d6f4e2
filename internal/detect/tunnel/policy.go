package tunnel

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"
)

// FilePolicyRouting is the Linux snapshot file of policy routing: routes
// of tables other than main/local and the rules (ip rule) that select
// tables. wg-quick and Tailscale exit nodes route the default through
// their tunnel this way (tables 51820 and 52), which /proc/net/route, the
// main table only, does not show.
const FilePolicyRouting = "policy-routing.json"

// PolicyRouting is the record format of policy-routing.json.
type PolicyRouting struct {
	Routes []Route `json:"routes"`
	Rules  []Rule  `json:"rules"`
}

// Rule is one routing policy rule.
type Rule struct {
	Family   string `json:"family"` // inet or inet6
	Priority int    `json:"priority"`
	Table    int    `json:"table"`
	// ToTable is true for "lookup <table>" rules (FR_ACT_TO_TBL).
	ToTable bool `json:"to_table"`
	// Partial is true when the rule selects only some traffic (source,
	// destination, input/output interface, a non-inverted fwmark, uid,
	// protocol or port ranges).
	Partial bool `json:"partial"`
	// SuppressesDefault is true for "suppress_prefixlength N" rules: the
	// table's default route is ignored (wg-quick's "lookup main
	// suppress_prefixlength 0").
	SuppressesDefault bool `json:"suppresses_default,omitempty"`
}

// Routing table ids.
const (
	tableDefault = 253
	tableMain    = 254
	tableLocal   = 255
)

// Netlink constants (linux/rtnetlink.h, linux/fib_rules.h).
const (
	nlmsgError    = 2
	nlmsgDone     = 3
	rtmNewRoute   = 24
	rtmNewRule    = 32
	rtaDst        = 1
	rtaOif        = 4
	rtaGateway    = 5
	rtaPriority   = 6
	rtaTable      = 15
	fraIifname    = 3
	fraPriority   = 6
	fraFwmark     = 10
	fraSuppressPL = 14
	fraTable      = 15
	fraOifname    = 17
	fraUIDRange   = 20
	fraIPProto    = 22
	fraSportRange = 23
	fraDportRange = 24
	frActToTbl    = 1
	fibRuleInvert = 0x2
	rtnUnicast    = 1
	afInet        = 2
	afInet6       = 10
)

// parseNetlinkDump parses the concatenated messages of RTM_GETROUTE and
// RTM_GETRULE dumps (host byte order, as the kernel sends them). Routes of
// the main and local tables are left out: /proc/net/route has the main
// table and the local table holds only local addresses.
func parseNetlinkDump(b []byte) PolicyRouting {
	var pr PolicyRouting
	ne := binary.NativeEndian
	for len(b) >= 16 {
		l := int(ne.Uint32(b[0:4]))
		typ := ne.Uint16(b[4:6])
		if l < 16 || l > len(b) {
			break
		}
		body := b[16:l]
		switch typ {
		case rtmNewRoute:
			if r, ok := parseRouteMsg(body); ok && len(pr.Routes) < maxRoutes {
				pr.Routes = append(pr.Routes, r)
			}
		case rtmNewRule:
			if r, ok := parseRuleMsg(body); ok && len(pr.Rules) < maxRoutes {
				pr.Rules = append(pr.Rules, r)
			}
		case nlmsgDone, nlmsgError:
		}
		adv := (l + 3) &^ 3
		if adv > len(b) {
			break
		}
		b = b[adv:]
	}
	return pr
}

// rtAttrs splits netlink attributes (4-byte aligned TLVs).
func rtAttrs(b []byte, fn func(typ uint16, val []byte)) {
	ne := binary.NativeEndian
	for len(b) >= 4 {
		l := int(ne.Uint16(b[0:2]))
		typ := ne.Uint16(b[2:4]) & 0x3fff
		if l < 4 || l > len(b) {
			return
		}
		fn(typ, b[4:l])
		adv := (l + 3) &^ 3
		if adv > len(b) {
			return
		}
		b = b[adv:]
	}
}

func addrOf(family byte, v []byte) (netip.Addr, bool) {
	switch {
	case family == afInet && len(v) == 4:
		return netip.AddrFrom4([4]byte(v)), true
	case family == afInet6 && len(v) == 16:
		return netip.AddrFrom16([16]byte(v)), true
	}
	return netip.Addr{}, false
}

// parseRouteMsg parses an rtmsg and its attributes.
func parseRouteMsg(b []byte) (Route, bool) {
	if len(b) < 12 {
		return Route{}, false
	}
	family, dstLen, table, typ := b[0], int(b[1]), int(b[4]), b[7]
	if (family != afInet && family != afInet6) || typ != rtnUnicast {
		return Route{}, false
	}
	dst := netip.IPv4Unspecified()
	if family == afInet6 {
		dst = netip.IPv6Unspecified()
	}
	r := Route{}
	ne := binary.NativeEndian
	rtAttrs(b[12:], func(t uint16, v []byte) {
		switch t {
		case rtaDst:
			if a, ok := addrOf(family, v); ok {
				dst = a
			}
		case rtaGateway:
			if a, ok := addrOf(family, v); ok {
				r.Gateway = a.String()
			}
		case rtaOif:
			if len(v) == 4 {
				r.InterfaceIndex = int(ne.Uint32(v))
			}
		case rtaPriority:
			if len(v) == 4 {
				r.Metric = int(ne.Uint32(v))
			}
		case rtaTable:
			if len(v) == 4 {
				table = int(ne.Uint32(v))
			}
		}
	})
	if table == tableMain || table == tableLocal {
		return Route{}, false
	}
	p, err := dst.Prefix(dstLen)
	if err != nil {
		return Route{}, false
	}
	r.Destination, r.Table = p.String(), table
	return r, true
}

// parseRuleMsg parses a fib_rule_hdr and its attributes.
func parseRuleMsg(b []byte) (Rule, bool) {
	if len(b) < 12 {
		return Rule{}, false
	}
	family := b[0]
	if family != afInet && family != afInet6 {
		return Rule{}, false
	}
	ne := binary.NativeEndian
	flags := ne.Uint32(b[8:12])
	r := Rule{Family: "inet", Table: int(b[4]), ToTable: b[7] == frActToTbl, Partial: b[1] != 0 || b[2] != 0}
	if family == afInet6 {
		r.Family = "inet6"
	}
	inverted := flags&fibRuleInvert != 0
	rtAttrs(b[12:], func(t uint16, v []byte) {
		switch t {
		case fraPriority:
			if len(v) == 4 {
				r.Priority = int(ne.Uint32(v))
			}
		case fraTable:
			if len(v) == 4 {
				r.Table = int(ne.Uint32(v))
			}
		case fraSuppressPL:
			if len(v) == 4 && ne.Uint32(v) != 0xffffffff {
				r.SuppressesDefault = true
			}
		case fraFwmark:
			if !inverted {
				r.Partial = true
			}
		case fraIifname, fraOifname, fraUIDRange, fraIPProto, fraSportRange, fraDportRange:
			r.Partial = true
		}
	})
	return r, true
}

// policyDefaultRoutes returns, per interface, the default routes (and
// their halves) of tables that a rule sends all traffic of the family to
// before the main table's rule.
func policyDefaultRoutes(pr PolicyRouting) map[string][]string {
	mainPrio := map[string]int{"inet": 32766, "inet6": 32766}
	for _, r := range pr.Rules {
		if r.ToTable && r.Table == tableMain && !r.Partial && !r.SuppressesDefault && r.Priority < mainPrio[r.Family] {
			mainPrio[r.Family] = r.Priority
		}
	}
	selected := map[string]map[int]bool{"inet": {}, "inet6": {}}
	for _, r := range pr.Rules {
		if !r.ToTable || r.Partial || r.Table == tableMain || r.Table == tableLocal || r.Table == tableDefault || r.Table == 0 {
			continue
		}
		if r.Priority < mainPrio[r.Family] {
			selected[r.Family][r.Table] = true
		}
	}
	out := map[string][]string{}
	for _, rt := range pr.Routes {
		p, err := netip.ParsePrefix(rt.Destination)
		if err != nil || p.Bits() > 1 || rt.Interface == "" {
			continue
		}
		fam := "inet"
		if p.Addr().Is6() {
			fam = "inet6"
		}
		if !selected[fam][rt.Table] {
			continue
		}
		s := fmt.Sprintf("%s (table %d)", p, rt.Table)
		if !contains(out[rt.Interface], s) {
			out[rt.Interface] = append(out[rt.Interface], s)
		}
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}
