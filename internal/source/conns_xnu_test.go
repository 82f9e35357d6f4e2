package source

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/farmwatch/farmwatch/internal/source/xnu"
)

func readXNUFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("xnu", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConnectionsFromPCBs converts the committed pcblist_n fixtures
// (xnu/testdata/gen/gen.c) and checks every field.
func TestConnectionsFromPCBs(t *testing.T) {
	tcp, err := xnu.ParseTCPPCBList(readXNUFixture(t, "pcblist_n.bin"))
	if err != nil {
		t.Fatal(err)
	}
	udp, err := xnu.ParseUDPPCBList(readXNUFixture(t, "udp_pcblist_n.bin"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Connection{
		{PID: 4242, Proto: "tcp", LAddr: "192.168.1.20", LPort: 52814, RAddr: "203.0.113.7", RPort: 5938, State: "ESTABLISHED",
			TCP: &TCPStats{RTTms: 37.5, RTTVarMs: 6.25, BytesSent: 250014, BytesReceived: 999999, SegsSent: 723, SegsReceived: 940}},
		{PID: 88, Proto: "tcp", LAddr: "0.0.0.0", LPort: 5900, RAddr: "0.0.0.0", RPort: 0, State: "LISTEN"},
		// so_last_pid 501 wins over so_e_pid 777.
		{PID: 501, Proto: "tcp", LAddr: "2001:db8::10", LPort: 50000, RAddr: "2001:db8:1::443", RPort: 443, State: "ESTABLISHED",
			TCP: &TCPStats{RTTms: 12.09375, RTTVarMs: 1.5, BytesSent: 10, BytesReceived: 26, SegsSent: 8, SegsReceived: 4}},
		// Both pids 0 (a TIME_WAIT PCB whose socket is gone).
		{PID: 0, Proto: "tcp", LAddr: "fe80::1", LPort: 22, RAddr: "fe80::2", RPort: 61000, State: "TIME_WAIT",
			TCP: &TCPStats{RTTms: 1, RTTVarMs: 1, BytesSent: 0, BytesReceived: 0, SegsSent: 2, SegsReceived: 1}},
		{PID: 312, Proto: "udp", LAddr: "0.0.0.0", LPort: 5353, RAddr: "0.0.0.0", RPort: 0},
		// so_last_pid 0: falls back to so_e_pid.
		{PID: 4242, Proto: "udp", LAddr: "192.168.1.20", LPort: 61234, RAddr: "8.8.8.8", RPort: 53},
		{PID: 501, Proto: "udp", LAddr: "2001:db8::10", LPort: 58000, RAddr: "2001:db8:1::1", RPort: 443},
		// Dual-stack (INP_IPV4|INP_IPV6) socket bound to ::.
		{PID: 640, Proto: "udp", LAddr: "::", LPort: 5000, RAddr: "::", RPort: 0},
		// Embedded link-local scope removed by the parser.
		{PID: 77, Proto: "udp", LAddr: "fe80::1", LPort: 546, RAddr: "fe80::2", RPort: 547},
	}
	got := connectionsFromPCBs(tcp, udp)
	if len(got) != len(want) {
		t.Fatalf("got %d connections, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("%d: got %+v (tcp %+v)\nwant %+v (tcp %+v)", i, got[i], got[i].TCP, want[i], want[i].TCP)
		}
	}
	listening := map[int]bool{1: true, 4: true, 7: true}
	for i, c := range got {
		if c.Listening() != listening[i] {
			t.Errorf("%d: Listening() = %v", i, c.Listening())
		}
		if _, ok := c.Key(); !ok {
			t.Errorf("%d: Key() does not parse %+v", i, c)
		}
	}
}

func TestConnectionsFromPCBsEdgeCases(t *testing.T) {
	mapped := netip.MustParseAddrPort("[::ffff:10.0.0.5]:443")
	got := connectionsFromPCBs([]xnu.TCPConn{
		{Local: mapped, Remote: netip.MustParseAddrPort("[::ffff:10.0.0.9]:50000"), State: xnu.TCPSSynReceived, PID: 0, EPID: 9},
		{Local: mapped, Remote: mapped, State: 42, PID: 1},
		{Local: mapped, Remote: mapped, State: xnu.TCPSFinWait1, PID: 1, SeqSent: 0, SeqReceived: 1},
	}, nil)
	if c := got[0]; c.LAddr != "10.0.0.5" || c.RAddr != "10.0.0.9" || c.State != "SYN_RECV" || c.PID != 9 || c.TCP != nil {
		t.Errorf("v4-mapped SYN_RECV: %+v", c)
	}
	if c := got[1]; c.State != "UNKNOWN(42)" || c.TCP != nil {
		t.Errorf("unknown state: %+v", c)
	}
	if c := got[2]; c.State != "FIN_WAIT1" || c.TCP == nil || *c.TCP != (TCPStats{}) {
		t.Errorf("FIN_WAIT1: %+v %+v", c, c.TCP)
	}
	for s, name := range map[int]string{
		xnu.TCPSClosed: "CLOSE", xnu.TCPSSynSent: "SYN_SENT", xnu.TCPSCloseWait: "CLOSE_WAIT",
		xnu.TCPSClosing: "CLOSING", xnu.TCPSLastAck: "LAST_ACK", xnu.TCPSFinWait2: "FIN_WAIT2",
	} {
		if got := xnuStateName(s); got != name {
			t.Errorf("state %d: %q, want %q", s, got, name)
		}
	}
	if c := connectionsFromPCBs(nil, nil); c == nil || len(c) != 0 {
		t.Errorf("empty tables: %#v", c)
	}
}
