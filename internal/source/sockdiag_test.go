package source

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
)

// diagReplyFor builds a kernel-shaped reply to req (the request's header
// and socket id echoed in an inet_diag_msg, with a tcp_info attribute).
func diagReplyFor(req []byte, uid, inode uint32, rttUS uint32) []byte {
	ne := binary.NativeEndian
	msg := make([]byte, inetDiagMsgLen)
	msg[0] = req[nlmsgHdrLen]
	msg[1] = 1
	copy(msg[4:52], req[nlmsgHdrLen+8:nlmsgHdrLen+56])
	ne.PutUint32(msg[64:], uid)
	ne.PutUint32(msg[68:], inode)
	ti := make([]byte, 232)
	ne.PutUint32(ti[tcpiRTT:], rttUS)
	ne.PutUint64(ti[tcpiBytesAcked:], 101)
	attr := make([]byte, 4+len(ti))
	ne.PutUint16(attr[0:], uint16(len(attr)))
	ne.PutUint16(attr[2:], inetDiagInfo)
	copy(attr[4:], ti)
	body := append(msg, attr...)
	out := make([]byte, nlmsgHdrLen, nlmsgHdrLen+len(body))
	ne.PutUint32(out[0:], uint32(nlmsgHdrLen+len(body)))
	ne.PutUint16(out[4:], sockDiagByFamily)
	return append(out, body...)
}

func errReply(errno int32) []byte {
	ne := binary.NativeEndian
	b := make([]byte, nlmsgHdrLen+4+nlmsgHdrLen)
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], nlmsgError)
	ne.PutUint32(b[nlmsgHdrLen:], uint32(-errno))
	return b
}

func TestDiagRoundTrip(t *testing.T) {
	for _, tc := range []struct{ l, r string }{
		{"10.0.0.2:40000", "192.0.2.7:443"},
		{"[2001:db8::1]:5900", "[2001:db8::2]:51000"},
		{"[::ffff:10.0.0.2]:22", "10.0.0.9:50000"},
	} {
		l, r := netip.MustParseAddrPort(tc.l), netip.MustParseAddrPort(tc.r)
		req, err := diagRequest("tcp", l, r, 7)
		if err != nil {
			t.Fatal(err)
		}
		si, err := parseDiagReply(diagReplyFor(req, 1000, 4242, 180500), "tcp")
		if err != nil {
			t.Fatal(err)
		}
		if si.Local != netip.AddrPortFrom(l.Addr().Unmap(), l.Port()) || si.Remote != netip.AddrPortFrom(r.Addr().Unmap(), r.Port()) ||
			si.UID != 1000 || si.Inode != 4242 || si.TCP == nil || si.TCP.RTTms != 180.5 || si.TCP.BytesSent != 100 {
			t.Errorf("%s -> %s: %+v %+v", l, r, si, si.TCP)
		}
	}
	if _, err := parseDiagReply(errReply(2), "tcp"); !errors.Is(err, ErrConnNotFound) {
		t.Errorf("ENOENT: %v", err)
	}
	if _, err := parseDiagReply(errReply(1), "tcp"); err == nil || errors.Is(err, ErrConnNotFound) {
		t.Errorf("EPERM: %v", err)
	}
	if _, err := diagRequest("icmp", netip.MustParseAddrPort("1.2.3.4:1"), netip.MustParseAddrPort("1.2.3.5:1"), 1); err == nil {
		t.Error("icmp accepted")
	}
}

// FuzzParseDiagReply: malformed kernel answers give errors, never panics.
func FuzzParseDiagReply(f *testing.F) {
	req, _ := diagRequest("tcp", netip.MustParseAddrPort("10.0.0.2:40000"), netip.MustParseAddrPort("192.0.2.7:443"), 1)
	f.Add(diagReplyFor(req, 0, 1, 1000))
	f.Add(errReply(2))
	f.Add(req)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, p := range []string{"tcp", "udp"} {
			si, err := parseDiagReply(b, p)
			if err == nil && !si.Local.IsValid() {
				t.Fatalf("no error and no socket: %+v", si)
			}
		}
	})
}
