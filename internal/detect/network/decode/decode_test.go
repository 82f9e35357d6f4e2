package decode

import (
	"encoding/binary"
	"testing"
)

// tcpSeg is an IPv4 TCP packet 10.0.0.1:1234 → 10.0.0.2:443 with "hi".
func ipv4TCP() []byte {
	ip := make([]byte, 20+20+2)
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	ip[9] = ProtoTCP
	copy(ip[12:], []byte{10, 0, 0, 1})
	copy(ip[16:], []byte{10, 0, 0, 2})
	t := ip[20:]
	binary.BigEndian.PutUint16(t[0:], 1234)
	binary.BigEndian.PutUint16(t[2:], 443)
	t[12] = 5 << 4
	t[13] = FlagPSH | FlagACK
	copy(t[20:], "hi")
	return ip
}

func ipv6UDPWithExt() []byte {
	ip := make([]byte, 40+8+8+3)
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(8+8+3))
	ip[6] = 0 // hop-by-hop
	ip[8+15] = 1
	ip[24+15] = 2
	ext := ip[40:]
	ext[0] = ProtoUDP
	u := ip[48:]
	binary.BigEndian.PutUint16(u[0:], 5353)
	binary.BigEndian.PutUint16(u[2:], 53)
	binary.BigEndian.PutUint16(u[4:], 11)
	copy(u[8:], "abc")
	return ip
}

func eth(et uint16, tags []uint16, payload []byte) []byte {
	b := make([]byte, 12)
	for _, tag := range tags {
		b = binary.BigEndian.AppendUint16(b, tag)
		b = binary.BigEndian.AppendUint16(b, 100)
	}
	b = binary.BigEndian.AppendUint16(b, et)
	b = append(b, payload...)
	return append(b, 0, 0, 0, 0) // trailer / padding
}

func TestLinkTypes(t *testing.T) {
	v4, v6 := ipv4TCP(), ipv6UDPWithExt()
	sll := append(make([]byte, 14), 0x08, 0x00)
	sll2 := append([]byte{0x86, 0xdd}, make([]byte, 18)...)
	cases := []struct {
		name  string
		link  int
		frame []byte
		v6    bool
	}{
		{"ethernet", LinkEthernet, eth(0x0800, nil, v4), false},
		{"802.1Q", LinkEthernet, eth(0x0800, []uint16{0x8100}, v4), false},
		{"QinQ", LinkEthernet, eth(0x0800, []uint16{0x88a8, 0x8100}, v4), false},
		{"ethernet ipv6 ext header", LinkEthernet, eth(0x86dd, nil, v6), true},
		{"linux sll", LinkSLL, append(sll, v4...), false},
		{"linux sll2", LinkSLL2, append(sll2, v6...), true},
		{"raw", LinkRaw, v4, false},
		{"ipv6 raw", LinkIPv6, v6, true},
		{"bsd null", LinkNull, append([]byte{2, 0, 0, 0}, v4...), false},
		{"bsd loop", LinkLoop, append([]byte{0, 0, 0, 30}, v6...), true},
	}
	for _, c := range cases {
		var p Packet
		if err := Decode(c.link, c.frame, &p); err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if c.v6 {
			if !p.V6 || p.Proto != ProtoUDP || p.SrcPort != 5353 || p.DstPort != 53 || string(p.Payload) != "abc" {
				t.Errorf("%s: %+v", c.name, p)
			}
		} else if p.V6 || p.Proto != ProtoTCP || p.SrcPort != 1234 || p.DstPort != 443 || string(p.Payload) != "hi" || p.Flags != FlagPSH|FlagACK {
			t.Errorf("%s: %+v payload %q", c.name, p, p.Payload)
		}
	}
}

func TestErrors(t *testing.T) {
	var p Packet
	if err := Decode(LinkEthernet, eth(0x0806, nil, make([]byte, 28)), &p); err != ErrNotIP {
		t.Errorf("ARP: %v", err)
	}
	if err := Decode(999, ipv4TCP(), &p); err != ErrLinkType {
		t.Errorf("unknown link: %v", err)
	}
	frag := ipv4TCP()
	frag[7] = 10 // fragment offset
	if err := Decode(LinkRaw, frag, &p); err != ErrFragment {
		t.Errorf("fragment: %v", err)
	}
	v4 := ipv4TCP()
	for n := 0; n < len(v4); n++ {
		_ = Decode(LinkRaw, v4[:n], &p)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(LinkEthernet, eth(0x0800, []uint16{0x8100}, ipv4TCP()))
	f.Add(LinkRaw, ipv6UDPWithExt())
	f.Add(LinkSLL2, append([]byte{0x08, 0}, make([]byte, 18)...))
	f.Fuzz(func(t *testing.T, link int, b []byte) {
		var p Packet
		if Decode(link, b, &p) == nil && len(p.Payload) > len(b) {
			t.Fatal("payload longer than frame")
		}
	})
}
