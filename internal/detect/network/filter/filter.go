// Package filter compiles a small, documented subset of the tcpdump/BPF
// filter language into a predicate over decoded packets, in pure Go (no
// libpcap, no cgo). gopacket only compiles full BPF through libpcap, and no
// well-kept pure-Go tcpdump-expression compiler exists, so farmwatch
// implements what investigations need:
//
//	expr      := term { ("or" | "||") term }
//	term      := factor { ["and" | "&&"] factor }     (juxtaposition is "and")
//	factor    := ("not" | "!") factor | "(" expr ")" | primitive
//	primitive := [src | dst] host ADDR
//	           | [src | dst] net CIDR | [src | dst] net ADDR mask MASK
//	           | [src | dst] port N | [src | dst] portrange N-M
//	           | (tcp | udp | icmp | icmp6 | esp | ip | ip6) [[src | dst] host|net|port|portrange …]
//	           | proto N
//
// "tcp port 443" therefore means "tcp and port 443", as in tcpdump, and
// a protocol directly qualifying a host, net, port or portrange primitive
// is one primitive with it: "not udp port 53" is "not (udp and port 53)".
package filter

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
)

// Filter is a compiled expression.
type Filter struct {
	expr string
	root *node // nil: match everything
	fn   func(p *decode.Packet) bool
}

// String returns the source expression.
func (f *Filter) String() string { return f.expr }

// Match reports whether p satisfies the filter.
func (f *Filter) Match(p *decode.Packet) bool { return f.fn(p) }

// Compile parses expr. An empty expression matches everything.
func Compile(expr string) (*Filter, error) {
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return &Filter{expr: expr, fn: func(*decode.Packet) bool { return true }}, nil
	}
	ps := &parser{toks: toks}
	n, err := ps.expr()
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	if ps.pos < len(ps.toks) {
		return nil, fmt.Errorf("filter %q: unexpected %q", expr, ps.toks[ps.pos])
	}
	return &Filter{expr: expr, root: n, fn: n.pred()}, nil
}

// node is the parsed expression: the user-space predicate (pred) and the
// kernel program (kernel.go) are both built from it.
type node struct {
	op     string // and, or, not, proto, ip, ip6, addr, port
	l, r   *node
	dir    string // "", src, dst
	proto  uint8
	pfx    netip.Prefix
	lo, hi uint16
}

func (n *node) pred() pred {
	switch n.op {
	case "and":
		a, b := n.l.pred(), n.r.pred()
		return func(p *decode.Packet) bool { return a(p) && b(p) }
	case "or":
		a, b := n.l.pred(), n.r.pred()
		return func(p *decode.Packet) bool { return a(p) || b(p) }
	case "not":
		a := n.l.pred()
		return func(p *decode.Packet) bool { return !a(p) }
	case "proto":
		return protoIs(n.proto)
	case "ip":
		return func(p *decode.Packet) bool { return !p.V6 }
	case "ip6":
		return func(p *decode.Packet) bool { return p.V6 }
	case "addr":
		return addrPred(n.dir, n.pfx)
	case "port":
		return portPred(n.dir, n.lo, n.hi)
	}
	return func(*decode.Packet) bool { return false }
}

func lex(s string) ([]string, error) {
	var out []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '(' || c == ')':
			out = append(out, string(c))
			i++
		case c == '!':
			out = append(out, "not")
			i++
		case c == '&' || c == '|':
			if i+1 >= len(s) || s[i+1] != c {
				return nil, fmt.Errorf("filter: lone %q at offset %d", c, i)
			}
			if c == '&' {
				out = append(out, "and")
			} else {
				out = append(out, "or")
			}
			i += 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n()!&|", rune(s[j])) {
				j++
			}
			out = append(out, strings.ToLower(s[i:j]))
			i = j
		}
	}
	return out, nil
}

type pred = func(p *decode.Packet) bool

type parser struct {
	toks  []string
	pos   int
	depth int
}

func (ps *parser) peek() string {
	if ps.pos < len(ps.toks) {
		return ps.toks[ps.pos]
	}
	return ""
}

func (ps *parser) next() string {
	t := ps.peek()
	ps.pos++
	return t
}

// maxDepth bounds nesting so hostile expressions cannot exhaust the stack.
const maxDepth = 64

func (ps *parser) expr() (*node, error) {
	ps.depth++
	defer func() { ps.depth-- }()
	if ps.depth > maxDepth {
		return nil, fmt.Errorf("expression nested deeper than %d", maxDepth)
	}
	l, err := ps.term()
	if err != nil {
		return nil, err
	}
	for ps.peek() == "or" {
		ps.next()
		r, err := ps.term()
		if err != nil {
			return nil, err
		}
		l = &node{op: "or", l: l, r: r}
	}
	return l, nil
}

func (ps *parser) term() (*node, error) {
	l, err := ps.factor()
	if err != nil {
		return nil, err
	}
	for {
		t := ps.peek()
		if t == "" || t == "or" || t == ")" {
			return l, nil
		}
		if t == "and" {
			ps.next()
		}
		r, err := ps.factor()
		if err != nil {
			return nil, err
		}
		l = &node{op: "and", l: l, r: r}
	}
}

func (ps *parser) factor() (*node, error) {
	ps.depth++
	defer func() { ps.depth-- }()
	if ps.depth > maxDepth {
		return nil, fmt.Errorf("expression nested deeper than %d", maxDepth)
	}
	switch t := ps.next(); t {
	case "":
		return nil, fmt.Errorf("unexpected end of expression")
	case "not":
		f, err := ps.factor()
		if err != nil {
			return nil, err
		}
		return &node{op: "not", l: f}, nil
	case "(":
		f, err := ps.expr()
		if err != nil {
			return nil, err
		}
		if ps.next() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		return f, nil
	case "tcp", "udp", "icmp", "icmp6", "esp", "ip", "ip6":
		q := &node{op: "proto", proto: map[string]uint8{"tcp": decode.ProtoTCP, "udp": decode.ProtoUDP,
			"icmp": decode.ProtoICMP, "icmp6": decode.ProtoICMPv6, "esp": decode.ProtoESP}[t]}
		if t == "ip" || t == "ip6" {
			q = &node{op: t}
		}
		// A protocol qualifying the primitive after it ("udp port 53") is
		// one primitive, as in tcpdump: "not udp port 53" negates both.
		switch ps.peek() {
		case "src", "dst", "host", "net", "port", "portrange":
			dir := ""
			if d := ps.peek(); d == "src" || d == "dst" {
				dir = ps.next()
			}
			r, err := ps.primitive(dir)
			if err != nil {
				return nil, err
			}
			return &node{op: "and", l: q, r: r}, nil
		}
		return q, nil
	case "proto":
		n, err := strconv.Atoi(ps.next())
		if err != nil || n < 0 || n > 255 {
			return nil, fmt.Errorf("proto needs a number 0-255")
		}
		return &node{op: "proto", proto: uint8(n)}, nil
	case "src", "dst":
		return ps.primitive(t)
	default:
		ps.pos--
		return ps.primitive("")
	}
}

func protoIs(n uint8) pred { return func(p *decode.Packet) bool { return p.Proto == n } }

func (ps *parser) primitive(dir string) (*node, error) {
	kind := ps.next()
	switch kind {
	case "host":
		a, err := netip.ParseAddr(ps.next())
		if err != nil {
			return nil, fmt.Errorf("host: %w", err)
		}
		return &node{op: "addr", dir: dir, pfx: netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())}, nil
	case "net":
		s := ps.next()
		var pfx netip.Prefix
		var err error
		if ps.peek() == "mask" {
			ps.next()
			a, err1 := netip.ParseAddr(s)
			m, err2 := netip.ParseAddr(ps.next())
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("net ADDR mask MASK: bad address")
			}
			bits := 0
			for _, b := range m.AsSlice() {
				for ; b&0x80 != 0; b <<= 1 {
					bits++
				}
			}
			pfx = netip.PrefixFrom(a, bits)
		} else if pfx, err = netip.ParsePrefix(s); err != nil {
			return nil, fmt.Errorf("net: %w", err)
		}
		return &node{op: "addr", dir: dir, pfx: pfx.Masked()}, nil
	case "port":
		n, err := strconv.ParseUint(ps.next(), 10, 16)
		if err != nil {
			return nil, fmt.Errorf("port needs a number 0-65535")
		}
		return &node{op: "port", dir: dir, lo: uint16(n), hi: uint16(n)}, nil
	case "portrange":
		lo, hi, ok := strings.Cut(ps.next(), "-")
		a, err1 := strconv.ParseUint(lo, 10, 16)
		b, err2 := strconv.ParseUint(hi, 10, 16)
		if !ok || err1 != nil || err2 != nil || a > b {
			return nil, fmt.Errorf("portrange needs N-M")
		}
		return &node{op: "port", dir: dir, lo: uint16(a), hi: uint16(b)}, nil
	case "":
		return nil, fmt.Errorf("unexpected end of expression")
	}
	return nil, fmt.Errorf("unknown primitive %q (supported: host, net, port, portrange, tcp, udp, icmp, icmp6, esp, ip, ip6, proto, and/or/not)", kind)
}

func addrPred(dir string, pfx netip.Prefix) pred {
	v6 := pfx.Addr().Is6()
	in := func(b *[16]byte, pv6 bool) bool {
		if pv6 != v6 {
			return false
		}
		if pv6 {
			return pfx.Contains(netip.AddrFrom16(*b))
		}
		return pfx.Contains(netip.AddrFrom4([4]byte{b[0], b[1], b[2], b[3]}))
	}
	switch dir {
	case "src":
		return func(p *decode.Packet) bool { return in(&p.Src, p.V6) }
	case "dst":
		return func(p *decode.Packet) bool { return in(&p.Dst, p.V6) }
	}
	return func(p *decode.Packet) bool { return in(&p.Src, p.V6) || in(&p.Dst, p.V6) }
}

func portPred(dir string, lo, hi uint16) pred {
	in := func(p uint16) bool { return p >= lo && p <= hi }
	hasPorts := func(p *decode.Packet) bool { return p.Proto == decode.ProtoTCP || p.Proto == decode.ProtoUDP }
	switch dir {
	case "src":
		return func(p *decode.Packet) bool { return hasPorts(p) && in(p.SrcPort) }
	case "dst":
		return func(p *decode.Packet) bool { return hasPorts(p) && in(p.DstPort) }
	}
	return func(p *decode.Packet) bool { return hasPorts(p) && (in(p.SrcPort) || in(p.DstPort)) }
}
