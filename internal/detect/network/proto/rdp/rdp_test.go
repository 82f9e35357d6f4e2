package rdp

import "testing"

func mkTPKT(x []byte) []byte {
	n := 4 + 1 + len(x)
	return append([]byte{3, 0, byte(n >> 8), byte(n), byte(len(x))}, x...)
}

func TestX224(t *testing.T) {
	cr := append([]byte("\xe0\x00\x00\x00\x00\x00Cookie: mstshash=alice\r\n"), 1, 0, 8, 0, 3, 0, 0, 0)
	r, err := ParseRequest(mkTPKT(cr))
	if err != nil || r.Cookie != "alice" || !r.HasNeg || r.Requested != ProtoSSL|ProtoHybrid {
		t.Fatalf("%+v %v", r, err)
	}
	c, err := ParseConfirm(mkTPKT([]byte{0xd0, 0, 0, 0x12, 0x34, 0, 2, 0, 8, 0, 2, 0, 0, 0}))
	if err != nil || c.Selected != ProtoHybrid {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := ParseRequest([]byte{3, 0, 0, 5, 0}); err == nil {
		t.Error("short TPKT accepted")
	}
	if _, err := ParseConfirm(mkTPKT(cr)); err == nil {
		t.Error("CR accepted as CC")
	}
}

func TestUDPSyn(t *testing.T) {
	syn := []byte{0xff, 0xff, 0xff, 0xff, 0, 64, 0, 1, 0x12, 0x34, 0x56, 0x78, 0x04, 0xc8, 0x04, 0xc8}
	if !IsUDPSyn(syn) {
		t.Error("SYN not recognised")
	}
	syn[7] = 0
	if IsUDPSyn(syn) {
		t.Error("no SYN flag accepted")
	}
}

func FuzzRDP(f *testing.F) {
	f.Add(mkTPKT([]byte("\xe0\x00\x00\x00\x00\x00Cookie: mstshash=a\r\n\x01\x00\x08\x00\x03\x00\x00\x00")))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseRequest(b)
		_, _ = ParseConfirm(b)
		_ = IsUDPSyn(b)
	})
}
