package pptp

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

// Captured here (testdata/pcaps/zoo-pptp.pcap): pptp-linux 1.10.0's
// Start-Control-Connection-Request and Outgoing-Call-Request (call id
// 29753), and pptpd 1.4.0's Start-Control-Connection-Reply.
const (
	ocrqLinux = "00a800011a2b3c4d00070000743900000000096000989680000000030000000300030000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	sccrq     = "009c00011a2b3c4d00010000010000000000000300000003ffff00016c6f63616c000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000063616e616e69616e0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	sccrp     = "009c00011a2b3c4d00020000010001000000000000000000000100016c6f63616c00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000006c696e75780000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
)

func TestParse(t *testing.T) {
	m, err := Parse(unhex(t, sccrq), 4)
	if err != nil || len(m) != 1 || m[0].Type != StartControlRequest || m[0].Version != 0x0100 || m[0].Hostname != "local" || m[0].Vendor != "cananian" {
		t.Fatalf("%+v %v", m, err)
	}
	m, err = Parse(unhex(t, sccrp), 4)
	if err != nil || m[0].Type != StartControlReply || m[0].Vendor != "linux" {
		t.Fatalf("%+v %v", m, err)
	}
	// Two messages back to back; the second an Outgoing-Call-Request
	// (RFC 2637 §2.7, 168 bytes, call id 0x1234).
	ocrq := make([]byte, 168)
	copy(ocrq, unhex(t, "00a800011a2b3c4d000700001234"))
	m, err = Parse(append(unhex(t, sccrq), ocrq...), 4)
	if err != nil || len(m) != 2 || m[1].Type != OutgoingCallRequest || m[1].CallID != 0x1234 {
		t.Fatalf("%+v %v", m, err)
	}
	m, err = Parse(append(unhex(t, sccrq), unhex(t, ocrqLinux)...), 4)
	if err != nil || len(m) != 2 || m[1].Type != OutgoingCallRequest || m[1].CallID != 29753 {
		t.Fatalf("pptp-linux SCCRQ+OCRQ: %+v %v", m, err)
	}
	bad := unhex(t, sccrq)
	bad[4] = 0
	for _, b := range [][]byte{nil, bad, []byte("GET / HTTP/1.1\r\n\r\n"), unhex(t, sccrq)[:11]} {
		if _, err := Parse(b, 4); err == nil {
			t.Errorf("%x parsed", b)
		}
	}
}

func TestGRE(t *testing.T) {
	// Enhanced GRE (RFC 2637 §4.1): K and S set, version 1 with A, PPP,
	// payload length 4, call id 0x0040, sequence, ack; then a PPP frame.
	g, err := ParseGRE(unhex(t, "3081880b0004004000000001000000007e21ff03"))
	if err != nil || g.Version != 1 || g.CallID == 0 || g.PayloadLen != 4 || !g.HasAck || g.HeaderLen != 16 {
		t.Fatalf("%+v %v", g, err)
	}
	// Plain GRE carrying IPv4 (RFC 2784), and with a key (RFC 2890).
	if g, err := ParseGRE(unhex(t, "000008004500")); err != nil || g.Version != 0 || g.Protocol != GREIPv4 || g.HeaderLen != 4 {
		t.Fatalf("%+v %v", g, err)
	}
	if g, err := ParseGRE(unhex(t, "2000080000000007")); err != nil || !g.HasKey || g.Key != 7 || g.HeaderLen != 8 {
		t.Fatalf("%+v %v", g, err)
	}
	for _, s := range []string{"", "3001880b", "2001880b00040040", "0f000800"} {
		if s == "2001880b00040040" {
			continue // valid: version 1, no sequence/ack
		}
		if _, err := ParseGRE(unhex(t, s)); err == nil {
			t.Errorf("%s parsed", s)
		}
	}
}

func FuzzPPTP(f *testing.F) {
	f.Add(unhex(f, sccrq))
	f.Add(unhex(f, "3081880b0004004000000001000000007e21ff03"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Parse(b, 8)
		_, _ = ParseGRE(b)
	})
}
