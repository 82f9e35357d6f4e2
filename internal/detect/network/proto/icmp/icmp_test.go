package icmp

import (
	"encoding/hex"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Captured here: iputils ping (Debian 12) to 127.0.0.1, default and
// "-s 100 -p ab"; busybox 1.35 ping (a 4-byte timestamp, then zeros); the first echo request ptunnel-ng 1.42 sent (client →
// proxy, carrying the start of an SSH banner).
const (
	iputilsPing  = "08001d644b020001679e156b000000004bbc080000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637"
	busyboxPing  = "08008a6b26400000247622de00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	iputilsPingP = "0800fb304b1f0001689e156b00000000057b040000000000abababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababab"
	ptunnelNG    = "080038faa6bc0001deadc0de0000000000000000400000020000ffff000000290001a6bc5353482d322e302d4f70656e5353485f392e3270312044656269616e2d322b64656231327531300d0a00"
)

func TestEcho(t *testing.T) {
	for _, s := range []string{iputilsPing, iputilsPingP, busyboxPing} {
		e, err := ParseEcho(unhex(t, s), false)
		if err != nil || e.Reply || !PingLike(e.Payload) || Ptunnel(e.Payload) != 0 {
			t.Errorf("ping: %+v %v", e, err)
		}
	}
	e, err := ParseEcho(unhex(t, ptunnelNG), false)
	if err != nil || e.ID != 0xa6bc || e.Seq != 1 || PingLike(e.Payload) || Ptunnel(e.Payload) != PtunnelNGMagic {
		t.Fatalf("ptunnel-ng: %+v %v", e, err)
	}
	// Windows ping's payload (32 bytes of the alphabet a…w repeating).
	if !PingLike([]byte("abcdefghijklmnopqrstuvwabcdefghi")) {
		t.Error("windows ping payload not ping-like")
	}
	if PingLike(unhex(t, "8f3a61c2d94e07b1aa5530e6c2f1894d3b2c7a9e01d46f5b")) {
		t.Error("random bytes ping-like")
	}
	if _, err := ParseEcho(unhex(t, "0303abcd00000000"), false); err == nil {
		t.Error("port unreachable parsed as echo")
	}
	if e, err := ParseEcho(unhex(t, "8000000000010002"), true); err != nil || e.Reply {
		t.Errorf("ICMPv6 echo request: %+v %v", e, err)
	}
}

func FuzzEcho(f *testing.F) {
	f.Add(unhex(f, iputilsPing), false)
	f.Add(unhex(f, ptunnelNG), false)
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		if e, err := ParseEcho(b, v6); err == nil {
			_ = PingLike(e.Payload)
			_ = Ptunnel(e.Payload)
			_ = Entropy(e.Payload)
		}
	})
}
