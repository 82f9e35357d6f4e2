package l2tp

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

// An SCCRQ as RFC 2661 §6.1 lays it out: T, L, S set, version 2, length
// 0x2c, tunnel 0, session 0, Ns 0, Nr 0; AVPs Message Type 1, Protocol
// Version 1.0, Host Name "lac", Assigned Tunnel ID 7.
const sccrq = "c802002c000000000000000080080000000000018008000000020100800900000007" + "6c6163" + "8008000000090007"

// xl2tpd 1.3.18's SCCRQ (testdata/pcaps/zoo-l2tp.pcap): host name
// "farm-lac", vendor "xelerance.com", 9 AVPs.
const xl2tpdSCCRQ = "c8020069000000000000000080080000000000018008000000020100800a0000000300000003800a00000004000000000008000000060690800e000000076661726d2d6c616300130000000878656c6572616e63652e636f6d8008000000098ea580080000000a0004"

func TestParseXL2TPD(t *testing.T) {
	m, err := Parse(unhex(t, xl2tpdSCCRQ))
	if err != nil || !m.Control || m.Type != SCCRQ || m.HostName != "farm-lac" || m.Vendor != "xelerance.com" || m.AVPs != 9 {
		t.Fatalf("%+v %v", m, err)
	}
}

func TestParse(t *testing.T) {
	b := unhex(t, sccrq)
	b[3] = byte(len(b))
	m, err := Parse(b)
	if err != nil || !m.Control || m.Type != SCCRQ || m.HostName != "lac" || m.AVPs != 4 {
		t.Fatalf("%+v %v", m, err)
	}
	// A ZLB acknowledgement: control header, no AVPs.
	if m, err := Parse(unhex(t, "c802000c0007000000010001")); err != nil || m.Type != 0 || !m.Control {
		t.Fatalf("ZLB: %+v %v", m, err)
	}
	// A data message with length: tunnel 7, session 3, then PPP.
	if m, err := Parse(unhex(t, "4002000e00070003ff03c021")); err != nil || m.Control || m.SessionID != 3 {
		t.Fatalf("data: %+v %v", m, err)
	}
	bad := unhex(t, sccrq)
	bad[1] = 3 // version 3 over UDP is not v2
	for _, x := range [][]byte{nil, bad, unhex(t, "c802002c00000000000000008008000000000063"), []byte("GET / HTTP/1.1\r\n")} {
		if _, err := Parse(x); err == nil {
			t.Errorf("%x parsed", x)
		}
	}
}

func TestParseIP(t *testing.T) {
	// L2TPv3 over IP: session 0, then T/L/S version 3, length, control
	// connection id 5, Ns/Nr, Message Type SCCRQ.
	m, err := ParseIP(unhex(t, "00000000c80300140000000500000000800800000000"+"0001"))
	if err != nil || m.Version != 3 || m.Type != SCCRQ || m.TunnelID != 5 {
		t.Fatalf("%+v %v", m, err)
	}
	if _, err := ParseIP(unhex(t, "00000001c803001400000005000000008008000000000001")); err == nil {
		t.Error("data session parsed as control")
	}
}

func FuzzL2TP(f *testing.F) {
	f.Add(unhex(f, sccrq))
	f.Add(unhex(f, xl2tpdSCCRQ))
	f.Add(unhex(f, "00000000c80300140000000500000000800800000000"+"0001"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Parse(b)
		_, _ = ParseIP(b)
	})
}
