package dns

import (
	"net/netip"
	"testing"
)

// response for relay-1.net.anydesk.com → 195.181.174.9 with a CNAME first.
var response = []byte{
	0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
	7, 'r', 'e', 'l', 'a', 'y', '-', '1', 3, 'n', 'e', 't', 7, 'a', 'n', 'y', 'd', 'e', 's', 'k', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
	0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12,
	0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 195, 181, 174, 9,
}

func TestParse(t *testing.T) {
	m := new(Message)
	err := Parse(response, m)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Response || m.QName != "relay-1.net.anydesk.com" || m.QType != 1 {
		t.Fatalf("%+v", m)
	}
	if m.NAddrs != 1 || m.Addrs[0] != netip.MustParseAddr("195.181.174.9") || m.DataAnswers != 1 {
		t.Errorf("addrs %v data %d", m.Addrs, m.DataAnswers)
	}
	if err := Parse(response[:10], new(Message)); err == nil {
		t.Error("short message parsed")
	}
}

func TestRegisteredAndEntropy(t *testing.T) {
	for in, want := range map[string]string{"a.b.example.com": "example.com", "x.example.co.uk": "example.co.uk", "pirate.sea": "pirate.sea", "t.pirate.sea": "pirate.sea"} {
		if got := Registered(in); got != want {
			t.Errorf("Registered(%q) = %q", in, got)
		}
	}
	if e := Entropy("aaaa"); e != 0 {
		t.Errorf("entropy aaaa = %v", e)
	}
	if e := Entropy("laegpumiplhhpz12ynd1efljwlkjcgwy"); e < 3.5 {
		t.Errorf("entropy of encoded label = %v", e)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(response)
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		_ = Parse(b, &m)
		_ = Registered(m.QName)
	})
}
