package stun

import "testing"

func binding(software string) []byte {
	attr := []byte{0x80, 0x22, 0, byte(len(software))}
	attr = append(attr, software...)
	for len(attr)%4 != 0 {
		attr = append(attr, 0)
	}
	b := []byte{0, 1, 0, byte(len(attr)), 0x21, 0x12, 0xa4, 0x42}
	b = append(b, make([]byte, 12)...)
	return append(b, attr...)
}

func TestParse(t *testing.T) {
	m, err := Parse(binding("libjingle"))
	if err != nil || m.Method != 1 || m.Class != 0 || m.Software != "libjingle" {
		t.Fatalf("%+v %v", m, err)
	}
	resp := binding("")
	resp[0], resp[1] = 0x01, 0x01 // binding success
	if m, err := Parse(resp); err != nil || m.Class != 2 {
		t.Fatalf("%+v %v", m, err)
	}
	bad := binding("x")
	bad[4] = 0
	if _, err := Parse(bad); err == nil {
		t.Error("no magic cookie accepted")
	}
}

func FuzzSTUN(f *testing.F) {
	f.Add(binding("x"))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = Parse(b) })
}
