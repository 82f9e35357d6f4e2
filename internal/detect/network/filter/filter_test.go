package filter

import (
	"net/netip"
	"testing"

	"github.com/farmwatch/farmwatch/internal/detect/network/decode"
)

func pkt(src, dst string, proto uint8, sp, dp uint16) *decode.Packet {
	p := &decode.Packet{Proto: proto, SrcPort: sp, DstPort: dp}
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	p.V6 = s.Is6()
	if p.V6 {
		p.Src, p.Dst = s.As16(), d.As16()
	} else {
		a, b := s.As4(), d.As4()
		copy(p.Src[:], a[:])
		copy(p.Dst[:], b[:])
	}
	return p
}

func TestFilter(t *testing.T) {
	web := pkt("10.0.0.1", "93.184.216.34", decode.ProtoTCP, 50000, 443)
	dns := pkt("10.0.0.1", "8.8.8.8", decode.ProtoUDP, 40000, 53)
	v6 := pkt("fe80::1", "2001:db8::2", decode.ProtoTCP, 1234, 22)
	cases := []struct {
		expr string
		p    *decode.Packet
		want bool
	}{
		{"", web, true},
		{"tcp", web, true},
		{"udp", web, false},
		{"tcp port 443", web, true},
		{"tcp and port 443", dns, false},
		{"port 53 or port 443", dns, true},
		{"not port 53", dns, false},
		{"!udp", web, true},
		{"host 8.8.8.8", dns, true},
		{"src host 8.8.8.8", dns, false},
		{"dst host 8.8.8.8", dns, true},
		{"net 10.0.0.0/8 and not (port 443 || port 80)", dns, true},
		{"net 10.0.0.0/8 and not (port 443 || port 80)", web, false},
		{"net 93.184.0.0 mask 255.255.0.0", web, true},
		{"src portrange 40000-49999", dns, true},
		{"src portrange 40000-49999", web, false},
		{"ip6 and dst port 22", v6, true},
		{"ip", v6, false},
		{"net 2001:db8::/32", v6, true},
		{"proto 17", dns, true},
		// A protocol qualifying a primitive is one primitive with it, as
		// in tcpdump's grammar ("not udp port 53" = "not (udp port 53)").
		{"not udp port 53", dns, false},
		{"not udp port 53", web, true},
		{"not tcp port 53", dns, true},
		{"not udp dst host 8.8.8.8", dns, false},
		{"not ip6 and dst port 22", v6, false},
		{"udp port 53 or tcp port 443", web, true},
	}
	for _, c := range cases {
		f, err := Compile(c.expr)
		if err != nil {
			t.Fatalf("%q: %v", c.expr, err)
		}
		if got := f.Match(c.p); got != c.want {
			t.Errorf("%q = %v, want %v", c.expr, got, c.want)
		}
	}
}

func TestFilterErrors(t *testing.T) {
	for _, e := range []string{"port", "port x", "host 1.2.3", "(tcp", "tcp)", "frobnicate", "portrange 9-1", "a & b", "net 10.0.0.0/33"} {
		if _, err := Compile(e); err == nil {
			t.Errorf("%q: want error", e)
		}
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{"tcp port 443", "not (host 1.2.3.4 or net 10.0.0.0/8)", "src portrange 1-2 && udp"} {
		f.Add(s)
	}
	p := pkt("10.0.0.1", "10.0.0.2", decode.ProtoTCP, 1, 2)
	f.Fuzz(func(t *testing.T, s string) {
		if flt, err := Compile(s); err == nil {
			flt.Match(p)
		}
	})
}
