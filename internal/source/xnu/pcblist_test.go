package xnu

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

type fixture struct {
	Layout      map[string]int `json:"layout"`
	Connections []struct {
		Local       string  `json:"local"`
		Remote      string  `json:"remote"`
		State       int     `json:"state"`
		StateName   string  `json:"state_name"`
		PID         int32   `json:"pid"`
		EPID        int32   `json:"epid"`
		SRTTms      float64 `json:"srtt_ms"`
		RTTVarMs    float64 `json:"rttvar_ms"`
		RxBytes     uint64  `json:"rx_bytes"`
		TxBytes     uint64  `json:"tx_bytes"`
		RxPackets   uint64  `json:"rx_packets"`
		TxPackets   uint64  `json:"tx_packets"`
		SeqSent     uint32  `json:"seq_sent"`
		SeqReceived uint32  `json:"seq_received"`
	} `json:"connections"`
}

func loadFixture(t testing.TB) ([]byte, fixture) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "pcblist_n.bin"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := os.ReadFile(filepath.Join("testdata", "pcblist_n.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(j, &f); err != nil {
		t.Fatal(err)
	}
	return b, f
}

// TestLayout checks the Go offsets against what the C compiler computed for
// XNU's own struct definitions (testdata/gen/gen.c).
func TestLayout(t *testing.T) {
	_, f := loadFixture(t)
	want := map[string]int{
		"sizeof.xinpgen":           sizeofXinpgen,
		"xinpcb_n.inp_fport":       inpFport,
		"xinpcb_n.inp_lport":       inpLport,
		"xinpcb_n.inp_gencnt":      inpGencnt,
		"xinpcb_n.inp_vflag":       inpVflag,
		"xinpcb_n.inp_dependfaddr": inpFaddr,
		"xinpcb_n.inp_dependladdr": inpLaddr,
		"xsocket_n.xso_protocol":   soProtocol,
		"xsocket_n.so_uid":         soUID,
		"xsocket_n.so_last_pid":    soLastPID,
		"xsocket_n.so_e_pid":       soEPID,
		"xsockstat_n.xst_tc_stats": stTCStats,
		"sizeof.xsockstat_n":       stMinLen,
		"xtcpcb_n.t_state":         tState,
		"xtcpcb_n.snd_una":         tSndUna,
		"xtcpcb_n.iss":             tIss,
		"xtcpcb_n.irs":             tIrs,
		"xtcpcb_n.rcv_nxt":         tRcvNxt,
		"xtcpcb_n.t_srtt":          tSrtt,
		"xtcpcb_n.t_rttvar":        tRttvar,
	}
	for k, v := range want {
		got, ok := f.Layout[k]
		if !ok {
			t.Errorf("layout %s missing from fixture", k)
			continue
		}
		if got != v {
			t.Errorf("layout %s: C says %d, Go uses %d", k, got, v)
		}
	}
	if f.Layout["sizeof.xsockbuf_n"] < sbMinLen || f.Layout["sizeof.xtcpcb_n"] < tcpMinLen ||
		f.Layout["sizeof.xsocket_n"] < soMinLen || f.Layout["sizeof.xinpcb_n"] < inpMinLen {
		t.Errorf("a minimum record length exceeds the C sizeof: %v", f.Layout)
	}
}

func TestParseFixture(t *testing.T) {
	b, f := loadFixture(t)
	got, err := ParseTCPPCBList(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(f.Connections) {
		t.Fatalf("got %d connections, want %d: %+v", len(got), len(f.Connections), got)
	}
	for i, w := range f.Connections {
		g := got[i]
		if g.Local != netip.MustParseAddrPort(w.Local) || g.Remote != netip.MustParseAddrPort(w.Remote) {
			t.Errorf("%d: endpoints %v -> %v, want %s -> %s", i, g.Local, g.Remote, w.Local, w.Remote)
		}
		if g.State != w.State || StateName(g.State) != w.StateName {
			t.Errorf("%d: state %d %s, want %d %s", i, g.State, StateName(g.State), w.State, w.StateName)
		}
		if g.PID != w.PID || g.EPID != w.EPID {
			t.Errorf("%d: pid %d/%d, want %d/%d", i, g.PID, g.EPID, w.PID, w.EPID)
		}
		if math.Abs(g.SRTTms-w.SRTTms) > 1e-9 || math.Abs(g.RTTVarMs-w.RTTVarMs) > 1e-9 {
			t.Errorf("%d: rtt %v/%v, want %v/%v", i, g.SRTTms, g.RTTVarMs, w.SRTTms, w.RTTVarMs)
		}
		if g.RxBytes != w.RxBytes || g.TxBytes != w.TxBytes || g.RxPackets != w.RxPackets || g.TxPackets != w.TxPackets {
			t.Errorf("%d: counters rx %d/%d tx %d/%d, want rx %d/%d tx %d/%d", i,
				g.RxBytes, g.RxPackets, g.TxBytes, g.TxPackets, w.RxBytes, w.RxPackets, w.TxBytes, w.TxPackets)
		}
		if g.SeqSent != w.SeqSent || g.SeqReceived != w.SeqReceived {
			t.Errorf("%d: seq %d/%d, want %d/%d", i, g.SeqSent, g.SeqReceived, w.SeqSent, w.SeqReceived)
		}
		if g.UID != 501 {
			t.Errorf("%d: uid %d", i, g.UID)
		}
	}
}

func TestParseEmptyList(t *testing.T) {
	b, _ := loadFixture(t)
	// Header immediately followed by the trailer, as for a host without PCBs.
	buf := append(append([]byte(nil), b[:sizeofXinpgen]...), b[len(b)-sizeofXinpgen:]...)
	got, err := ParseTCPPCBList(buf)
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestParseTruncated(t *testing.T) {
	b, f := loadFixture(t)
	item := f.Layout["item_size"]
	for n := 0; n < len(b); n++ {
		got, err := ParseTCPPCBList(b[:n])
		if err == nil {
			t.Fatalf("truncated to %d bytes: no error", n)
		}
		if !errors.Is(err, ErrFormat) {
			t.Fatalf("truncated to %d bytes: error %v does not wrap ErrFormat", n, err)
		}
		if n > sizeofXinpgen {
			// A PCB is complete once its xtcpcb_n (204 bytes, so 4 bytes
			// of ROUNDUP64 padding) is.
			if want := (n - sizeofXinpgen + 4) / item; len(got) != want {
				t.Fatalf("truncated to %d bytes: %d partial connections, want %d", n, len(got), want)
			}
		}
	}
}

func TestParseGarbage(t *testing.T) {
	b, _ := loadFixture(t)
	cases := map[string][]byte{
		"nil":       nil,
		"zero len":  make([]byte, 64),
		"huge xig":  le32s(0xffffffff, 0, 0, 0, 0, 0),
		"tiny xig":  le32s(4, 0, 0, 0, 0, 0),
		"rec len 3": append(le32s(24, 1, 0, 0, 0, 0), le32s(3, KindSocket)...),
		"rec past":  append(le32s(24, 1, 0, 0, 0, 0), le32s(1000, KindSocket)...),
		"short tcpcb": func() []byte {
			c := append([]byte(nil), b...)
			// Shrink the first xtcpcb_n's length to 40 bytes.
			off := sizeofXinpgen + 104 + 104 + 32 + 32 + 136
			binary.LittleEndian.PutUint32(c[off:], 40)
			return c
		}(),
	}
	for name, in := range cases {
		got, err := ParseTCPPCBList(in)
		if err == nil {
			t.Errorf("%s: no error (got %v)", name, got)
		} else if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v does not wrap ErrFormat", name, err)
		}
	}
}

// TestOldSocketRecord: kernels with the 76-byte xsocket_n parse the same.
func TestOldSocketRecord(t *testing.T) {
	b, f := loadFixture(t)
	item := f.Layout["item_size"]
	var buf []byte
	buf = append(buf, b[:sizeofXinpgen]...)
	for i := range len(f.Connections) {
		p := b[sizeofXinpgen+i*item : sizeofXinpgen+(i+1)*item]
		inp, so, rest := p[:104], p[104:208], p[208:]
		old := append([]byte(nil), so[:80]...) // ROUNDUP64(76)
		binary.LittleEndian.PutUint32(old, 76)
		clear(old[76:])
		buf = append(append(append(buf, inp...), old...), rest...)
	}
	buf = append(buf, b[len(b)-sizeofXinpgen:]...)
	want, err := ParseTCPPCBList(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseTCPPCBList(buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestStateName(t *testing.T) {
	if StateName(TCPSEstablished) != "ESTABLISHED" || StateName(TCPSTimeWait) != "TIME_WAIT" || StateName(99) != "UNKNOWN(99)" {
		t.Fatal("state names")
	}
}

func le32s(v ...uint32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], x)
	}
	return b
}

func FuzzParseTCPPCBList(f *testing.F) {
	b, _ := loadFixture(f)
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add(le32s(24, 0, 0, 0, 0, 0))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := ParseTCPPCBList(in)
		if err != nil && !errors.Is(err, ErrFormat) {
			t.Fatalf("error %v does not wrap ErrFormat", err)
		}
		for _, c := range got {
			if !c.Local.IsValid() || !c.Remote.IsValid() {
				t.Fatalf("invalid endpoint in %+v", c)
			}
		}
	})
}

type udpFixture struct {
	ItemSize    int `json:"item_size"`
	Connections []struct {
		Local     string `json:"local"`
		Remote    string `json:"remote"`
		VFlag     int    `json:"vflag"`
		PID       int32  `json:"pid"`
		EPID      int32  `json:"epid"`
		RecvQ     uint32 `json:"recv_q"`
		SendQ     uint32 `json:"send_q"`
		RxBytes   uint64 `json:"rx_bytes"`
		TxBytes   uint64 `json:"tx_bytes"`
		RxPackets uint64 `json:"rx_packets"`
		TxPackets uint64 `json:"tx_packets"`
	} `json:"connections"`
}

func loadUDPFixture(t testing.TB) ([]byte, udpFixture) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "udp_pcblist_n.bin"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := os.ReadFile(filepath.Join("testdata", "udp_pcblist_n.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f udpFixture
	if err := json.Unmarshal(j, &f); err != nil {
		t.Fatal(err)
	}
	return b, f
}

func TestParseUDPFixture(t *testing.T) {
	b, f := loadUDPFixture(t)
	got, err := ParseUDPPCBList(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(f.Connections) {
		t.Fatalf("got %d sockets, want %d: %+v", len(got), len(f.Connections), got)
	}
	for i, w := range f.Connections {
		want := UDPConn{
			Local:     netip.MustParseAddrPort(w.Local),
			Remote:    netip.MustParseAddrPort(w.Remote),
			PID:       w.PID,
			EPID:      w.EPID,
			UID:       501,
			RxBytes:   w.RxBytes,
			TxBytes:   w.TxBytes,
			RxPackets: w.RxPackets,
			TxPackets: w.TxPackets,
			RecvQ:     w.RecvQ,
			SendQ:     w.SendQ,
		}
		if got[i] != want {
			t.Errorf("%d: got %+v\nwant %+v", i, got[i], want)
		}
	}
}

// TestUDPListIsNotTCP: each parser skips the other protocol's PCBs
// (xso_protocol), and the TCP parser finds no complete PCB in the UDP list.
func TestUDPListIsNotTCP(t *testing.T) {
	ub, _ := loadUDPFixture(t)
	tb, _ := loadFixture(t)
	if got, err := ParseTCPPCBList(ub); err != nil || len(got) != 0 {
		t.Errorf("TCP parser on the UDP list: %v, %v", got, err)
	}
	// The UDP parser ignores the xtcpcb_n records and then skips the
	// PCBs because xso_protocol is TCP.
	if got, err := ParseUDPPCBList(tb); err != nil || len(got) != 0 {
		t.Errorf("UDP parser on the TCP list: %v, %v", got, err)
	}
}

func TestParseUDPTruncated(t *testing.T) {
	b, f := loadUDPFixture(t)
	for n := 0; n < len(b); n++ {
		got, err := ParseUDPPCBList(b[:n])
		if err == nil {
			t.Fatalf("truncated to %d bytes: no error", n)
		}
		if !errors.Is(err, ErrFormat) {
			t.Fatalf("truncated to %d bytes: error %v does not wrap ErrFormat", n, err)
		}
		if n > sizeofXinpgen {
			// A PCB is complete once its xsockstat_n (136 bytes, no
			// padding) is.
			if want := (n - sizeofXinpgen) / f.ItemSize; len(got) != want {
				t.Fatalf("truncated to %d bytes: %d partial sockets, want %d", n, len(got), want)
			}
		}
	}
}

func TestParseUDPGarbage(t *testing.T) {
	b, _ := loadUDPFixture(t)
	cases := map[string][]byte{
		"nil":       nil,
		"zero len":  make([]byte, 64),
		"huge xig":  le32s(0xffffffff, 0, 0, 0, 0, 0),
		"rec len 3": append(le32s(24, 1, 0, 0, 0, 0), le32s(3, KindSocket)...),
		"short stats": func() []byte {
			c := append([]byte(nil), b...)
			// Shrink the first xsockstat_n's length to 40 bytes.
			off := sizeofXinpgen + 104 + 104 + 32 + 32
			binary.LittleEndian.PutUint32(c[off:], 40)
			return c
		}(),
	}
	for name, in := range cases {
		got, err := ParseUDPPCBList(in)
		if err == nil {
			t.Errorf("%s: no error (got %v)", name, got)
		} else if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v does not wrap ErrFormat", name, err)
		}
	}
}

// TestUDPNewerGeneration: a PCB allocated after the header's generation is
// skipped, as netstat does.
func TestUDPNewerGeneration(t *testing.T) {
	b, f := loadUDPFixture(t)
	c := append([]byte(nil), b...)
	binary.LittleEndian.PutUint64(c[sizeofXinpgen+inpGencnt:], u64(c, 8)+1)
	got, err := ParseUDPPCBList(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(f.Connections)-1 || got[0].Local.Port() != 61234 {
		t.Fatalf("got %+v", got)
	}
}

func FuzzParseUDPPCBList(f *testing.F) {
	b, _ := loadUDPFixture(f)
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add(le32s(24, 0, 0, 0, 0, 0))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := ParseUDPPCBList(in)
		if err != nil && !errors.Is(err, ErrFormat) {
			t.Fatalf("error %v does not wrap ErrFormat", err)
		}
		for _, c := range got {
			if !c.Local.IsValid() || !c.Remote.IsValid() {
				t.Fatalf("invalid endpoint in %+v", c)
			}
		}
	})
}
